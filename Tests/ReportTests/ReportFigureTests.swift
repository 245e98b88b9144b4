import ConfoundCore
import ConfoundImaging
import Foundation
import PlateMaps
import TestSupport
import XCTest

@testable import Report

/// The explainer's result for a run, in the schema of Protocol/README.md ("explainer", method "probe"): two
/// families with their drops per repeat, one curve with three individual curves.
let explanationJSON = """
  {"method": "probe", "target": "disease", "classes": ["disease", "healthy"], "rows": 40, "features": 3,
   "baseline": {"roc_auc": 0.83, "balanced_accuracy": 0.7},
   "permutation_importance": [
    {"family": "density", "features": ["Count_Nuclei"], "mean": 0.2, "std": 0.02,
     "roc_auc": {"mean": 0.2, "std": 0.02, "drops": [0.18, 0.2, 0.22]}},
    {"family": "focus", "features": ["Focus_score_DNA", "ImageQuality_X"], "mean": 0.01, "std": 0.01,
     "roc_auc": {"mean": 0.01, "std": 0.01, "drops": [0, 0.01, 0.02]}},
    {"feature": "Count_Nuclei", "mean": 0.2, "std": 0.02}],
   "partial_dependence": [
    {"feature": "Count_Nuclei", "class": "healthy", "grid": [100, 120, 140, 160],
     "average": [0.2, 0.4, 0.6, 0.8],
     "individual": [[0.1, 0.3, 0.5, 0.7], [0.2, 0.4, 0.6, 0.8], [0.3, 0.5, 0.7, 0.9]]}]}
  """

final class ReportFigureTests: XCTestCase {
  /// A run with the design record and the explain stage's file registered, as the audit leaves them.
  func explainedRun() throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    let findings = String(newSchemaFindings[..<newSchemaFindings.lastIndex(of: "]")!])
      + #", {"kind": "explanation", "covariate": "disease", "measure": {"name": "hand features", "role": "density"}, "#
      + #""verdict": "The disease model relies most on density."}]"#
    try makeRun(in: dir.url, findings: findings)
    let store = try RunStore(url: dir.url.appendingPathComponent("run.sqlite"))
    try store.recordDesign(json: """
      [{"member": "target", "value": "disease", "source": "declared"},
       {"member": "unit", "value": "cell_line", "source": "inferred from its name"},
       {"member": "control", "value": "control=1", "source": "declared"}]
      """)
    let plots = dir.url.appendingPathComponent("plots")
    try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
    try explanationJSON.write(to: plots.appendingPathComponent("explanation-hand-features.json"), atomically: true,
                              encoding: .utf8)
    try store.recordArtifact(Artifact(name: "plots/explanation-hand-features.json", kind: "table",
                                      path: "plots/explanation-hand-features.json", stage: "explain", description: "x"))
    return dir
  }

  func testDesignAndExplanationFiguresAreInTheirSectionsWithTheStoredNumbers() throws {
    let dir = try explainedRun()
    let model = try ReportBuilder(folder: dir.url).build()
    XCTAssertEqual(model[section: "design"].figures.map(\.id), ["design-layout"])
    XCTAssertEqual(model[section: "explanations"].figures.map(\.id),
                   ["explanation-importance", "explanation-partial-dependence"])
    XCTAssertEqual(model[section: "explanations"].paragraphs, ["The disease model relies most on density."])
    XCTAssertEqual(model.verdicts.last?.measure, "hand features", "the audit's measure is an object {name, role}")
    XCTAssertFalse(model.skippedStages.contains { $0.stage == "explain" })
    XCTAssertEqual(model[section: "design"].tables.first?.rows,
                   [["target", "disease", "declared"], ["unit", "cell_line", "inferred from its name"],
                    ["control", "control=1", "declared"]])

    // Importance: families ranked by their mean drop, each with the interval mean ± 1.96 sd / √3 and its drops.
    let importance = try XCTUnwrap(model[section: "explanations"].figures[0].figure as? DotPlot)
    XCTAssertEqual(importance.rows.map(\.label), ["density (1 feature)", "focus (2 features)"])
    XCTAssertEqual(importance.rows[0].points, [0.18, 0.2, 0.22])
    XCTAssertEqual(try XCTUnwrap(importance.rows[0].high), 0.2 + 1.96 * 0.02 / 3.0.squareRoot(), accuracy: 1e-12)
    XCTAssertEqual(importance.axisLabel, "drop in held-out ROC AUC from its baseline 0.83")
    // Partial dependence: the drawn curve is the stored one, in the feature's units, with its individual curves.
    let pd = try XCTUnwrap(model[section: "explanations"].figures[1].figure as? PartialDependencePlot)
    let stored = try JSONSerialization.jsonObject(with: Data(explanationJSON.utf8)) as! [String: Any]
    let curve = (stored["partial_dependence"] as! [[String: Any]])[0]
    XCTAssertEqual(pd.panels.map(\.feature), ["Count_Nuclei"])
    XCTAssertEqual(pd.panels[0].grid, curve["grid"] as! [Double])
    XCTAssertEqual(pd.panels[0].average, curve["average"] as! [Double])
    XCTAssertEqual(pd.panels[0].individual, curve["individual"] as! [[Double]])
    XCTAssertEqual(pd.yLabel, "P(disease = healthy)")
    let csv = model[section: "explanations"].figures[1].csv.split(separator: "\n")
    XCTAssertEqual(csv[0], "feature,x,average,individual_1,individual_2,individual_3")
    XCTAssertEqual(csv[2], "Count_Nuclei,120.0,0.4,0.3,0.4,0.5")

    // The design figure: each well of the target layer in its level's colour (the report's palette), the control
    // layer marks the four control wells of each plate, wells off the screen are hatched.
    let design = try XCTUnwrap(model[section: "design"].figures[0].figure as? DesignPlateMap)
    XCTAssertEqual(design.layers.map(\.key), ["disease", "cell_line", ReportSections.controlLayer])
    let image = try design.raster().image
    func pixel(_ r: PixelRect) -> RGB {
      let n = image.width * image.height
      let i = r.centre.y * image.width + r.centre.x
      return RGB(UInt8(image.pixels[i]), UInt8(image.pixels[n + i]), UInt8(image.pixels[2 * n + i]))
    }
    let palette = try ReportBuilder(folder: dir.url).palette
    for k in 0..<24 {
      let (row, column) = (k / 6, k % 6)
      let level = k % 2 == 0 ? "healthy" : "disease"
      XCTAssertEqual(pixel(design.well(layer: 0, plate: 1, row: row, column: column)),
                     palette.colour(level, covariate: "disease"), "P2 well \(k)")
      XCTAssertEqual(pixel(design.well(layer: 1, plate: 0, row: row, column: column)),
                     palette.colour("line-\(k % 4)", covariate: "cell_line"))
      XCTAssertEqual(pixel(design.well(layer: 2, plate: 0, row: row, column: column)),
                     design.colour(k < 4 ? "control" : "sample", layer: design.layers[2]))
    }
    XCTAssertEqual(design.colour("control", layer: design.layers[2]), CategoryPalette.colours[2],
                   "not the target's first two colours")
    XCTAssertEqual(pixel(design.well(layer: 0, plate: 0, row: 7, column: 11)), PlateMap.missing,
                   "H12 is not on the screen")
    XCTAssertTrue(design.csv().contains("P1,B1,A06,disease,line-1,sample\n"), design.csv())

    // Every figure of this report, the new ones included: no two texts meet.
    for figure in model.sections.flatMap(\.figures) {
      XCTAssertEqual(overlappingTexts(try figure.figure.textBoxes()).count, 0, figure.id)
    }
    // The page shows each new figure in its section, and keeps its data beside it.
    let written = try ReportHTML.write(model, to: dir.url.appendingPathComponent("report.html"), generated: nil)
    let html = try String(contentsOf: written.html, encoding: .utf8)
    for (section, figure) in [("design", "design-layout"), ("explanations", "explanation-importance"),
                              ("explanations", "explanation-partial-dependence")] {
      let start = try XCTUnwrap(html.range(of: "<section id=\"\(section)\">"))
      let end = try XCTUnwrap(html.range(of: "</section>", range: start.upperBound..<html.endIndex))
      XCTAssertTrue(html[start.upperBound..<end.lowerBound].contains("id=\"fig-\(figure)\""), figure)
      XCTAssertTrue(FileManager.default.fileExists(atPath: written.data.appendingPathComponent("\(figure).csv").path))
    }
  }

  func testAnExplanationFileThatIsNotJSONIsAClearError() throws {
    XCTAssertThrowsError(try ExplanationFigures(json: Data("[1]".utf8), file: "plots/e.json")) { error in
      XCTAssertTrue("\(error)".contains("plots/e.json"), "\(error)")
    }
  }
}
