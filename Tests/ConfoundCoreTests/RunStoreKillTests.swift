import Foundation
import TestSupport
import XCTest

@testable import ConfoundCore

/// Kills a real writer process with SIGKILL in the middle of its work, then resumes in this process.
///
/// The writer is this test bundle itself, re-run with a filter that selects `testChildWritesUnitsUntilKilled`
/// and an environment variable naming the store; each unit writes `perUnit` values in two halves with a pause
/// between, so the kill usually lands inside an open transaction.
final class RunStoreKillTests: XCTestCase {
  static let units = 300
  static let perUnit = 40
  static let environmentKey = "CONFOUND_KILL_TEST_STORE"

  static func value(unit: Int, index: Int) -> Double { Double(unit * 1000 + index) / 7 }

  static func writeUnits(_ store: RunStore, ids: [Int64], pause: Bool) throws {
    for unit in 0..<units where try !store.isDone(stage: "focus", key: "u\(unit)") {
      try store.complete(stage: "focus", key: "u\(unit)") { w in
        for index in 0..<perUnit {
          if pause && index == perUnit / 2 { usleep(2000) }
          try w.measure(site: ids[unit], "M\(index)", value(unit: unit, index: index))
        }
      }
    }
  }

  static func screen() -> Screen {
    var builder = ScreenBuilder(format: .wells384)
    for unit in 0..<units {
      let position = PlateFormat.wells384.positions[unit]
      builder.add(ImageRecord(plate: "P", well: position.name, site: 1, channel: "DNA", path: "/x"))
    }
    return builder.build().screen
  }

  static func orderedIDs(_ store: RunStore) throws -> [Int64] {
    let ids = try store.siteIDs()
    return PlateFormat.wells384.positions.prefix(units).map { ids[SiteKey(plate: "P", well: $0.name, site: 1)]! }
  }

  /// The child side: runs only when the parent test starts it.
  func testChildWritesUnitsUntilKilled() throws {
    guard let path = ProcessInfo.processInfo.environment[Self.environmentKey] else {
      throw XCTSkip("the writer half of testKillDashNineMidRunThenResume; runs only as its child process")
    }
    let store = try RunStore(url: URL(fileURLWithPath: path))
    try Self.writeUnits(store, ids: try Self.orderedIDs(store), pause: true)
  }

  func testKillDashNineMidRunThenResume() throws {
    let dir = try TemporaryDirectory()
    let url = dir.file("run.sqlite")
    try RunStore(url: url).registerSites(of: Self.screen())

    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["ConfoundCoreTests.RunStoreKillTests/testChildWritesUnitsUntilKilled"]
    child.environment = ProcessInfo.processInfo.environment.merging([Self.environmentKey: url.path]) { $1 }
    child.standardOutput = FileHandle.nullDevice
    child.standardError = FileHandle.nullDevice
    try child.run()

    let observer = try RunStore(url: url)
    let deadline = Date().addingTimeInterval(120)
    while try observer.doneKeys(stage: "focus").count < 30 && child.isRunning && Date() < deadline { usleep(5000) }
    XCTAssertTrue(child.isRunning, "the writer finished before it could be killed")
    kill(child.processIdentifier, SIGKILL)
    child.waitUntilExit()
    XCTAssertEqual(child.terminationReason, .uncaughtSignal)

    let store = try RunStore(url: url)
    XCTAssertEqual(try store.db.query("PRAGMA integrity_check").first?[0].text, "ok")
    let ids = try Self.orderedIDs(store)
    let done = try store.doneKeys(stage: "focus")
    XCTAssertGreaterThanOrEqual(done.count, 30)
    XCTAssertLessThan(done.count, Self.units)
    for unit in 0..<Self.units {
      let count = try store.measurements(siteID: ids[unit]).count
      XCTAssertEqual(count, done.contains("u\(unit)") ? Self.perUnit : 0, "unit \(unit): a partial unit survived")
    }

    try Self.writeUnits(store, ids: ids, pause: false)
    XCTAssertEqual(try store.doneKeys(stage: "focus").count, Self.units)
    for unit in 0..<Self.units {
      let values = try store.measurements(siteID: ids[unit])
      XCTAssertEqual(values.count, Self.perUnit)
      XCTAssertEqual(values["M3"], Self.value(unit: unit, index: 3))
    }
  }
}
