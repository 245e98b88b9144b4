import ConfoundCore
import Foundation
import JSONRPC
import TestSupport
import XCTest

/// The main job, `confound audit`, on small simulated screens: planted confounders are found, a clean screen
/// raises no spatial or density finding, and a run killed mid-way resumes without redoing finished sites.
final class AuditTests: XCTestCase {
  private func audit(_ out: URL, _ extra: [String]) throws -> JSONValue {
    let text = try runCommandStdout(try LiveHost.binary("confound").path,
                              ["audit", "--out", out.path, "--json", "--sim-plates", "2", "--sites", "1"] + extra)
    return try JSONParser.parse(Array(text.utf8))
  }

  /// The kinds of the findings that reached significance after the audit's correction.
  private func kinds(_ response: JSONValue) -> [String] {
    (response["findings"]?.arrayValue ?? []).filter { $0["significant"] == .bool(true) }.compactMap { $0["kind"]?.stringValue }
  }

  func testPlantedFocusGradientAndDensityAreFoundAndNamed() throws {
    let dir = try TemporaryDirectory()
    let response = try audit(dir.file("run"), ["--seed", "3", "--plant", "focus-gradient:0.7,density:0.7"])
    let found = kinds(response)
    XCTAssertEqual(found.filter { $0 == "spatial" }.count, 2, "a focus finding on each of the 2 plates: \(found)")
    XCTAssertTrue(found.contains("density"), "\(found)")
    XCTAssertTrue(found.contains("confound-alert"), "density alone predicts disease nearly as well as anything: \(found)")
    let findings = try JSONParser.parse(Array(try Data(contentsOf: dir.file("run/findings.json"))))
    XCTAssertEqual(findings.arrayValue?.count, response["findings"]?.arrayValue?.count, "findings.json holds every finding")
    let density = try XCTUnwrap(response["findings"]?.arrayValue?.first { $0["kind"] == "density" })
    XCTAssertGreaterThan(try XCTUnwrap(density["metric"]?["value"]?.doubleValue), 1.1, "disease wells are denser")
    XCTAssertLessThan(try XCTUnwrap(density["pAdjusted"]?.doubleValue), 0.05)
    XCTAssertEqual(density["units"]?["name"]?.stringValue, "cell_line values", "permuted between cell lines, not wells")
  }

  func testCleanScreenRaisesNoSpatialOrDensityFinding() throws {
    let dir = try TemporaryDirectory()
    let found = kinds(try audit(dir.file("run"), ["--seed", "4", "--plant", "none"]))
    XCTAssertFalse(found.contains("spatial"), "\(found)")
    XCTAssertFalse(found.contains("density"), "\(found)")
    XCTAssertFalse(found.contains("confound-alert"), "\(found)")
  }

  func testKilledRunResumesWithoutRedoingFinishedSites() throws {
    let dir = try TemporaryDirectory()
    let out = dir.file("run")
    let process = Process()
    process.executableURL = try LiveHost.binary("confound")
    process.arguments = ["audit", "--out", out.path, "--sim-plates", "1", "--sites", "2", "--seed", "5"]
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // Kill the whole process group (client, host, workers) once some focus units are stored.
    let store = out.appendingPathComponent("run.sqlite")
    let deadline = Date(timeIntervalSinceNow: 300)
    var done = 0
    while done < 20 && Date() < deadline && process.isRunning {
      Thread.sleep(forTimeInterval: 0.5)
      if FileManager.default.fileExists(atPath: store.path), let s = try? RunStore(url: store) {
        done = (try? s.doneKeys(stage: "focus").count) ?? 0
      }
    }
    XCTAssertTrue(process.isRunning, "the audit finished before it could be killed; make the screen larger")
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    // The orphaned host sees its input end, cancels the audit and exits within a few seconds.
    Thread.sleep(forTimeInterval: 8)
    let before = try RunStore(url: store).doneKeys(stage: "focus")
    XCTAssertGreaterThanOrEqual(before.count, 20)
    let response = try JSONParser.parse(Array(try runCommandStdout(try LiveHost.binary("confound").path,
      ["audit", "--out", out.path, "--resume", "--json", "--sim-plates", "1", "--sites", "2", "--seed", "5"]).utf8))
    let focus = try XCTUnwrap(response["stages"]?.arrayValue?.first { $0["name"] == "focus" })
    XCTAssertEqual(focus["resumed"]?.intValue, Int64(before.count), "finished sites are not redone")
    XCTAssertEqual((focus["resumed"]?.intValue ?? 0) + (focus["computed"]?.intValue ?? 0), 192)
    XCTAssertEqual(try RunStore(url: store).doneKeys(stage: "focus").count, 192)
    XCTAssertThrowsError(try runCommand(try LiveHost.binary("confound").path, ["audit", "--out", out.path])) { error in
      XCTAssertTrue("\(error)".contains("pass resume (--resume)"), "\(error)")
    }
  }
}

extension AuditTests {
  /// A corrupt image in a real screen is reported with its site and skipped; the audit finishes, and the store
  /// keeps the SHA-256 of every image it read.
  func testCorruptImageIsReportedAndSkipped() throws {
    let dir = try TemporaryDirectory()
    let screen = dir.file("screen")
    let confound = try LiveHost.binary("confound").path
    try runCommandStdout(confound, ["simulate", "--out", screen.path, "--plates", "1", "--batches", "1", "--sites", "1",
                                    "--seed", "6"])
    let images = try FileManager.default.contentsOfDirectory(atPath: screen.appendingPathComponent("images").path).sorted()
    let victim = screen.appendingPathComponent("images").appendingPathComponent(images[10])
    let bytes = try Data(contentsOf: victim)
    try bytes.prefix(bytes.count / 3).write(to: victim)
    let response = try JSONParser.parse(Array(try runCommandStdout(confound, [
      "audit", screen.appendingPathComponent("load_data.csv").path, "--out", dir.file("run").path, "--json",
    ]).utf8))
    let focus = try XCTUnwrap(response["stages"]?.arrayValue?.first { $0["name"] == "focus" })
    XCTAssertEqual(focus["failed"]?.intValue, 1)
    XCTAssertEqual(focus["computed"]?.intValue, 95)
    let failure = try XCTUnwrap(focus["failures"]?.arrayValue?.first?.stringValue)
    XCTAssertTrue(failure.contains(images[10]) && failure.contains("truncated or corrupt"), failure)
    let inputs = try RunStore(url: dir.file("run/run.sqlite")).inputs()
    XCTAssertEqual(inputs.count, 95 * 3 + 2, "every image of the 95 good sites, the LoadData CSV and the platemap")
    XCTAssertNil(inputs[victim.path], "the unfinished site records nothing")
  }

  /// A design that does not fit the screen is a clear error from the command line too: the flag, what is wrong, the
  /// columns there are; and a control expression that matches no well says so.
  func testBadDesignFlagsAreClearErrorsThroughTheCLI() throws {
    let dir = try TemporaryDirectory()
    let screen = dir.file("screen")
    let confound = try LiveHost.binary("confound").path
    try runCommandStdout(confound, ["simulate", "--out", screen.path, "--plates", "1", "--batches", "1", "--sites", "1",
                                    "--seed", "8", "--width", "64", "--height", "64"])
    for (flags, expected) in [(["--target", "genotype"], ["--target", "cell_line"]),
                              (["--control", "control=7"], ["--control"]),
                              (["--unit", "source_lab"], ["unit"])] {
      XCTAssertThrowsError(try runCommand(confound, ["audit", screen.path, "--out", dir.file("run-\(flags[0])").path,
                                                     "--stages", "design"] + flags)) { error in
        for word in expected { XCTAssertTrue("\(error)".contains(word), "\(flags): \(error)") }
      }
    }
  }
}
