import Foundation
import JSONRPC
import TestSupport
import XCTest

/// `confound focus SCREEN --out DIR` (the audit's focus stage alone, with plate maps) and `confound focus train`
/// (weights the plugin loads with --model), run as built binaries.
final class FocusCommandTests: XCTestCase {
  func simulated(_ dir: TemporaryDirectory) throws -> URL {
    let screen = dir.file("screen")
    try runCommandStdout(try LiveHost.binary("confound").path, [
      "simulate", "--out", screen.path, "--plates", "1", "--batches", "1", "--sites", "2", "--seed", "3",
      "--plant", "focus-gradient:0.7",
    ])
    return screen
  }

  func testFocusScreenWritesStoreSpatialFindingAndPlateMaps() throws {
    let dir = try TemporaryDirectory()
    let screen = try simulated(dir)
    let out = dir.file("run")
    let text = try runCommandStdout(try LiveHost.binary("confound").path, [
      "focus", screen.appendingPathComponent("load_data.csv").path, "--out", out.path, "--json",
    ])
    let response = try JSONParser.parse(Array(text.utf8))
    let stages = (response["stages"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    XCTAssertEqual(stages, ["focus", "spatial"], "only the focus stage and its analysis run")
    XCTAssertEqual(response["stages"]?.arrayValue?.first?["computed"]?.intValue, 192, "96 wells x 2 sites")
    let kinds = (response["findings"]?.arrayValue ?? []).filter { $0["significant"] == .bool(true) }
      .compactMap { $0["kind"]?.stringValue }
    XCTAssertEqual(kinds, ["spatial"], "the planted gradient is found, and nothing but focus is analysed")
    XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("run.sqlite").path))
    let plots = out.appendingPathComponent("plots")
    let names = try FileManager.default.contentsOfDirectory(atPath: plots.path).sorted()
    let scores = names.filter { $0.hasPrefix("Defocus_Score_") }
    XCTAssertFalse(scores.isEmpty, "\(names)")
    for name in scores where name.hasSuffix(".png") {
      let png = try Data(contentsOf: plots.appendingPathComponent(name))
      XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], name)
      let svg = try String(contentsOf: plots.appendingPathComponent(name.dropLast(4) + ".svg"), encoding: .utf8)
      XCTAssertTrue(svg.contains("SIM-P01"), "plate in the title")
      XCTAssertTrue(svg.contains("defocus score, 1 = in focus"), "colour bar unit")
    }
    XCTAssertTrue(names.contains { $0.hasPrefix("ImageQuality_TenengradNormalized_") && $0.hasSuffix(".png") })
  }

  func testTrainIsDeterministicAndThePluginLoadsItsWeights() throws {
    let dir = try TemporaryDirectory()
    let screen = try simulated(dir)
    let images = try FileManager.default.contentsOfDirectory(atPath: screen.appendingPathComponent("images").path)
      .sorted().prefix(3).map { screen.appendingPathComponent("images").appendingPathComponent($0).path }
    let confound = try LiveHost.binary("confound").path
    for name in ["a.json", "b.json"] {
      try runCommandStdout(confound, ["focus", "train"] + images + ["--out", dir.file(name).path])
    }
    let a = try Data(contentsOf: dir.file("a.json"))
    XCTAssertEqual(a, try Data(contentsOf: dir.file("b.json")), "same images and seed, same bytes")
    let weights = try JSONParser.parse(Array(a))
    XCTAssertEqual(weights["format"]?.stringValue, "confound-defocus-model")
    XCTAssertEqual(weights["coefficients"]?.arrayValue?.count, 11)
    let line = try runCommandStdout(confound, ["focus", "--json", "--model", dir.file("a.json").path, images[0]])
    // One JSON object per line and channel: the first channel's.
    let result = try JSONParser.parse(Array((line.split(separator: "\n").first ?? "").utf8))
    let score = try XCTUnwrap(result["score"]?.doubleValue)
    XCTAssertTrue((0...1).contains(score), "\(score)")
    // A broken weights file fails the site with a message naming the parameter and the file.
    try Data("{}".utf8).write(to: dir.file("bad.json"))
    XCTAssertThrowsError(try runCommand(confound, ["focus", "--model", dir.file("bad.json").path, images[0]])) {
      let output = "\($0)"
      XCTAssertTrue(output.contains("parameter model") && output.contains("bad.json"), output)
    }
  }
}
