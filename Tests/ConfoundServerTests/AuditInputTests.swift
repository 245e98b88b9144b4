import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import TestSupport
import XCTest

@testable import ConfoundServer

/// The audit on screens as labs hand them in, run in this process: a folder written by the simulator with no
/// flags, the same screen with its platemap columns renamed and declared by flags, and every bad design input with
/// its own error.
final class AuditInputTests: XCTestCase {
  /// A small simulated screen (2 plates, 1 site, 1 channel, 128 px, 6 lines per class) with density and a focus
  /// gradient planted.
  static func simulate(into dir: URL) throws {
    var config = SimulationConfig()
    config.seed = 7
    config.plates = 2
    config.batches = 2
    config.sites = 1
    config.channels = 1
    config.width = 128
    config.height = 128
    config.linesPerClass = 6
    config.plant = ["density": 0.8, "focus-gradient": 0.7]
    _ = try Simulator(config).render(to: dir)
  }

  static let stages = ["design", "focus", "segment", "spatial", "density", "edge", "target"]

  /// Renames columns in every platemap file of a simulated screen.
  static func rename(_ dir: URL, _ names: [String: String]) throws {
    let folder = dir.appendingPathComponent("platemap")
    for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
      let url = folder.appendingPathComponent(file)
      var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
      lines[0] = lines[0].split(separator: ",").map { names[String($0)] ?? String($0) }.joined(separator: ",")
      try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
    }
  }

  func testSimulatedFolderWithRenamedColumnsDeclaredByFlagsGivesTheSameFindings() throws {
    let dir = try TemporaryDirectory()
    let original = dir.file("screen")
    try Self.simulate(into: original)
    let renamed = dir.file("renamed")
    try FileManager.default.copyItem(at: original, to: renamed)
    try Self.rename(renamed, ["disease": "condition", "cell_line": "patient", "control": "negative_control"])
    let plugins = ["focus", "segmenter", "probe"]
    let a = try InProcessAudit.run(.init(screen: original.path, out: dir.file("a").path, stages: Self.stages), plugins: plugins)
    let b = try InProcessAudit.run(
      .init(screen: renamed.path, out: dir.file("b").path, stages: Self.stages,
            design: .init(target: "condition", unit: "patient", control: "negative_control=1")),
      plugins: plugins)
    XCTAssertEqual(a.input, "folder")
    XCTAssertEqual(a.design.first { $0.member == "target" }?.value, "disease")
    XCTAssertTrue(a.design.first { $0.member == "target" }?.source.hasPrefix("inferred") ?? false, "\(a.design)")
    XCTAssertEqual(b.design.first { $0.member == "unit" }, .init(member: "unit", value: "patient", source: "declared"))
    let rename = ["disease": "condition"]
    func key(_ f: AuditFinding) -> String {
      "\(f.kind)|\(rename[f.covariate] ?? f.covariate)|\(rename[f.measure.name] ?? f.measure.name)|\(f.plates)"
    }
    let left = Dictionary(a.findings.map { (key($0), $0) }, uniquingKeysWith: { x, _ in x })
    let right = Dictionary(b.findings.map { (key($0), $0) }, uniquingKeysWith: { x, _ in x })
    XCTAssertEqual(Set(left.keys), Set(right.keys))
    XCTAssertGreaterThan(left.count, 8, "design, spatial, density, edge and target findings: \(left.keys.sorted())")
    for (k, f) in left {
      guard let g = right[k] else { continue }
      XCTAssertEqual(f.metric.value, g.metric.value, k)
      XCTAssertEqual(f.pValue, g.pValue, k)
      XCTAssertEqual(f.significant, g.significant, k)
    }
    XCTAssertTrue(a.findings.contains { $0.kind == "density" && $0.significant }, a.summary.joined(separator: "\n"))
    XCTAssertTrue(a.findings.contains { $0.kind == "spatial" && $0.significant }, a.summary.joined(separator: "\n"))
  }

  func testBadDesignInputsAreClearErrorsNamingTheFlag() throws {
    let dir = try TemporaryDirectory()
    let screen = dir.file("screen")
    try Self.simulate(into: screen)
    func error(_ design: AuditRequest.DesignParams, _ out: String) -> ResponseError? {
      do {
        _ = try InProcessAudit.run(.init(screen: screen.path, out: dir.file(out).path, stages: ["design"], design: design),
                                   plugins: [])
        return nil
      } catch { return error as? ResponseError }
    }
    let missing = try XCTUnwrap(error(.init(target: "genotype"), "a"))
    XCTAssertEqual(missing.code, .invalidParams)
    XCTAssertTrue(missing.message.contains("--target") && missing.message.contains("cell_line"), missing.message)
    let empty = try XCTUnwrap(error(.init(control: "control=7"), "b"))
    XCTAssertTrue(empty.message.contains("--control"), empty.message)
    let covariate = try XCTUnwrap(error(.init(covariates: ["lab"]), "c"))
    XCTAssertTrue(covariate.message.contains("--covariates") && covariate.message.contains("source_lab"), covariate.message)
    let mixed = try XCTUnwrap(error(.init(target: "disease", unit: "source_lab"), "d"))
    XCTAssertTrue(mixed.message.contains("--unit") || mixed.message.contains("unit"), mixed.message)
    let syntax = try XCTUnwrap(error(.init(control: "control =="), "e"))
    XCTAssertTrue(syntax.message.contains("--control"), syntax.message)
  }
}
