@testable import ConfoundCore
import ConfoundProtocol
import Foundation
import PlateMaps
import Report
import TestSupport
import XCTest

@testable import ConfoundServer

/// The design and explanation figures of an audit of a simulated screen, run in this process: the design stage and
/// the explain stage draw them into plots/ with their data, the report shows them in their sections, and the
/// numbers drawn are the explainer's and the simulation's.
final class AuditFigureTests: XCTestCase {
  func testDesignAndExplanationFiguresShowTheStoredNumbers() throws {
    let dir = try TemporaryDirectory()
    var config = SimulationConfig()
    config.seed = 5
    config.plates = 2
    config.sites = 1
    config.channels = 1
    config.width = 64
    config.height = 64
    config.linesPerClass = 4
    let truth = try Simulator(config).render(to: dir.file("screen")).truth
    let out = dir.file("run")
    _ = try InProcessAudit.run(.init(screen: dir.file("screen").path, out: out.path,
                                     stages: ["design", "focus", "segment", "explain"]),
                               plugins: ["focus", "segmenter", "explainer"])
    let model = try ReportBuilder(folder: out).build()
    XCTAssertEqual(model[section: "design"].figures.map(\.id), ["design-layout"])
    XCTAssertEqual(model[section: "explanations"].figures.map(\.id),
                   ["explanation-importance", "explanation-partial-dependence"])
    XCTAssertFalse(model[section: "explanations"].paragraphs.isEmpty, "the explanation finding's verdict")

    // The partial dependence drawn is the explainer's: the figure's data and the plots/ CSV hold its curves.
    let result = try JSONSerialization.jsonObject(
      with: Data(contentsOf: out.appendingPathComponent("plots/explanation-hand-features.json"))) as! [String: Any]
    let curves = try XCTUnwrap(result["partial_dependence"] as? [[String: Any]])
    let pd = try XCTUnwrap(model[section: "explanations"].figures[1].figure as? PartialDependencePlot)
    XCTAssertEqual(pd.panels.map(\.feature), curves.map { $0["feature"] as! String })
    XCTAssertEqual(pd.panels.map(\.grid), curves.map { $0["grid"] as! [Double] })
    XCTAssertEqual(pd.panels.map(\.average), curves.map { $0["average"] as! [Double] })
    XCTAssertEqual(pd.panels.map(\.individual.count), curves.map { min(12, ($0["individual"] as! [Any]).count) })
    XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("plots/explanation-partial-dependence.csv"),
                              encoding: .utf8), model[section: "explanations"].figures[1].csv)
    let families = try XCTUnwrap(model[section: "explanations"].figures[0].figure as? DotPlot)
    let stored = (result["permutation_importance"] as! [[String: Any]]).filter { $0["family"] != nil }
    XCTAssertEqual(Set(families.rows.compactMap(\.estimate)), Set(stored.map { $0["mean"] as! Double }))

    // The design figure colours each well by the simulation's truth: its cell line, and whether it is a control.
    let design = try XCTUnwrap(model[section: "design"].figures[0].figure as? DesignPlateMap)
    let unit = try XCTUnwrap(design.layers.firstIndex { $0.title.contains("unit of replication") })
    let control = try XCTUnwrap(design.layers.firstIndex { $0.title.hasPrefix("controls") })
    let image = try design.raster().image
    let n = image.width * image.height
    for well in truth.wells {
      let p = try XCTUnwrap(design.plates.firstIndex { $0.name == well.plate })
      let position = try WellPosition(parsing: well.well)
      for (layer, level) in [(unit, well.cellLine), (control, well.control ? "control" : "sample")] {
        let r = design.well(layer: layer, plate: p, row: position.row, column: position.column)
        let i = r.centre.y * image.width + r.centre.x
        XCTAssertEqual(RGB(UInt8(image.pixels[i]), UInt8(image.pixels[n + i]), UInt8(image.pixels[2 * n + i])),
                       design.colour(level, layer: design.layers[layer]), "\(well.plate) \(well.well) \(level)")
      }
    }
    // Registered with their data, as the other figures are.
    let artifacts = Set(try RunStore(url: out.appendingPathComponent("run.sqlite")).artifacts().map(\.path))
    for stem in ["design-layout", "explanation-importance", "explanation-partial-dependence"] {
      for ext in ["png", "svg", "csv"] { XCTAssertTrue(artifacts.contains("plots/\(stem).\(ext)"), "\(stem).\(ext)") }
    }
  }
}
