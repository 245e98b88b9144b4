@testable import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import TestSupport
import XCTest

@testable import ConfoundServer

/// What a resume may trust, and a run that says when it could not run, in this process: units the store calls
/// done whose measurements are gone are redone; a store with no run is said to start anew; an audit in which
/// every site fails is an error, not "no finding".
final class AuditResumeTests: XCTestCase {
  func screen(_ dir: TemporaryDirectory) throws -> URL {
    var config = SimulationConfig()
    config.seed = 3
    config.plates = 1
    config.batches = 1
    config.sites = 1
    config.channels = 1
    config.width = 64
    config.height = 64
    config.linesPerClass = 2
    _ = try Simulator(config).render(to: dir.file("screen"))
    return dir.file("screen")
  }

  func testAResumeRedoesUnitsWhoseMeasurementsAreGone() throws {
    let dir = try TemporaryDirectory()
    let screen = try screen(dir)
    let out = dir.file("run")
    let first = try InProcessAudit.run(.init(screen: screen.path, out: out.path, stages: ["focus"]), plugins: ["focus"])
    XCTAssertEqual(first.stages.first { $0.name == "focus" }?.computed, 96)
    // Empty the measurements behind the store's back: the units table still says every site is done.
    let db = try SQLiteDatabase(path: out.appendingPathComponent("run.sqlite").path)
    try db.execute("DELETE FROM measurements")
    let resumed = try InProcessAudit.run(.init(screen: screen.path, out: out.path, resume: true, stages: ["focus"]),
                                         plugins: ["focus"])
    let focus = try XCTUnwrap(resumed.stages.first { $0.name == "focus" })
    XCTAssertEqual(focus.computed, 96, "every unit without its results is redone, none is trusted")
    XCTAssertEqual(focus.resumed, 0)
    let again = try InProcessAudit.run(.init(screen: screen.path, out: out.path, resume: true, stages: ["focus"]),
                                       plugins: ["focus"])
    XCTAssertEqual(again.stages.first { $0.name == "focus" }?.resumed, 96, "complete units are trusted")
  }

  /// The plugin runner that calls plugins in this process gives the audit the same numbers as worker processes.
  func testPluginsCalledInProcessGiveTheSameFindingsAsWorkers() throws {
    let dir = try TemporaryDirectory()
    let screen = try screen(dir)
    let stages = ["focus", "segment", "spatial", "density", "edge"]
    let workers = try InProcessAudit.run(.init(screen: screen.path, out: dir.file("a").path, stages: stages),
                                         plugins: ["focus", "segmenter"])
    let direct = try InProcessAudit.runInProcess(.init(screen: screen.path, out: dir.file("b").path, stages: stages),
                                                 plugins: ["focus", "segmenter"])
    XCTAssertEqual(direct.stages.map(\.computed), workers.stages.map(\.computed))
    XCTAssertGreaterThanOrEqual(direct.findings.count, 3, "\(direct.findings.map(\.kind))")
    XCTAssertEqual(direct.findings.map(\.metric.value), workers.findings.map(\.metric.value))
    XCTAssertEqual(direct.findings.map(\.pValue), workers.findings.map(\.pValue))
  }

  func testAnEmptyStoreIsSaidToStartAnew() throws {
    let dir = try TemporaryDirectory()
    let screen = try screen(dir)
    let out = dir.file("run")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: out.appendingPathComponent("run.sqlite").path, contents: Data())
    let response = try InProcessAudit.run(.init(screen: screen.path, out: out.path, resume: true, stages: ["design"]),
                                          plugins: [])
    XCTAssertTrue(response.summary.contains { $0.contains("held no run (an empty store): the audit started anew") },
                  "\(response.summary)")
  }

  func testAnAuditInWhichEverySiteFailsIsAnErrorNamingTheInput() throws {
    let dir = try TemporaryDirectory()
    let screen = try screen(dir)
    try FileManager.default.removeItem(at: screen.appendingPathComponent("images"))
    XCTAssertThrowsError(
      try InProcessAudit.run(.init(screen: screen.path, out: dir.file("run").path, stages: ["focus", "spatial"]),
                             plugins: ["focus"])
    ) { error in
      let e = error as! ResponseError
      XCTAssertEqual(e.code, .badInputFile)
      XCTAssertTrue(e.message.hasPrefix("nothing to analyse: no site of 96 has a result (focus: 96 failed)"), e.message)
      XCTAssertTrue(e.message.contains("load_data.csv") || e.data?["file"]?.stringValue?.hasSuffix("load_data.csv") == true,
                    "\(e.message) \(e.data ?? .null)")
    }
  }
}
