import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost
import TestSupport
import XCTest

/// Loading is bounded, concurrent, cancellable, and refuses what it cannot read safely.
final class PluginLoadingTests: XCTestCase {
  /// A plugin whose entry point never returns, and a registry that loads with `loadTimeout`.
  private func hanging(loadTimeout: Double) throws -> (TemporaryDirectory, String, PluginRegistry) {
    let dir = try TemporaryDirectory(prefix: "plugin-load")
    let hang = try TestPlugins.build("CBroken/broken_plugin.c", into: dir.url, name: "hang.so", defines: ["HANG_ON_LOAD"])
    return (dir, hang, PluginRegistry(workerExecutable: try TestPlugins.worker(), limits: WorkerLimits(loadTimeout: loadTimeout)))
  }

  func testAPluginThatNeverLoadsTimesOutWithTheRightCause() throws {
    let (dir, hang, registry) = try hanging(loadTimeout: 1)
    defer { withExtendedLifetime(dir) { registry.shutdown() } }
    let started = Date()
    XCTAssertThrowsError(try registry.load(path: hang)) { error in
      let reason = (error as? PluginLoadError)?.reason ?? "\(error)"
      XCTAssertTrue(reason.contains("did not finish loading within 1 s"), reason)
      XCTAssertFalse(reason.contains("crashed"), reason)
    }
    XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    XCTAssertEqual(registry.loadErrors.count, 1)
  }

  func testStartupLoadsRunTogetherInTheGivenOrder() throws {
    let dir = try TemporaryDirectory(prefix: "plugin-load")
    let paths = [
      try TestPlugins.build("CBroken/broken_plugin.c", into: dir.url, name: "hang1.so", defines: ["HANG_ON_LOAD"]),
      try TestPlugins.build("CMisbehave/misbehave_plugin.c", into: dir.url, name: "misbehave.so"),
      try TestPlugins.build("CBroken/broken_plugin.c", into: dir.url, name: "hang2.so", defines: ["HANG_ON_LOAD"]),
      try TestPlugins.build("CStats/stats_plugin.c", into: dir.url, name: "stats.so"),
    ]
    let registry = PluginRegistry(workerExecutable: try TestPlugins.worker(), limits: WorkerLimits(loadTimeout: 2))
    defer { registry.shutdown() }
    let started = Date()
    registry.loadAll(paths: paths) { _ in }
    XCTAssertLessThan(Date().timeIntervalSince(started), 1, "loadAll returns at once")
    registry.waitForStartup()
    // Two hanging plugins, loaded one after the other, would take 4 s.
    XCTAssertLessThan(Date().timeIntervalSince(started), 3.8)
    XCTAssertEqual(registry.plugins.map(\.manifest.id), ["test.misbehave", "lab.c-stats"])
    XCTAssertEqual(registry.plugins.map(\.isDefault), [true, false], "the first focus plugin in the given order is the default")
    XCTAssertEqual(registry.loadErrors.count, 2)
  }

  func testLoadingCanBeCancelled() throws {
    let (dir, hang, registry) = try hanging(loadTimeout: 60)
    defer { withExtendedLifetime(dir) { registry.shutdown() } }
    let started = Date()
    XCTAssertThrowsError(try registry.load(path: hang, isCancelled: { Date().timeIntervalSince(started) > 0.5 })) { error in
      XCTAssertEqual((error as? ResponseError)?.code, .requestCancelled, "\(error)")
    }
    XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    XCTAssertTrue(registry.loadErrors.isEmpty, "a cancelled load is no load failure")
  }

  func testAVTableTooSmallForWhatTheHostReadsIsRefused() throws {
    let dir = try TemporaryDirectory(prefix: "plugin-load")
    let small = try TestPlugins.build("CBroken/broken_plugin.c", into: dir.url, name: "small.so", defines: ["SMALL_STRUCT"])
    let registry = PluginRegistry(workerExecutable: try TestPlugins.worker())
    defer { registry.shutdown() }
    XCTAssertThrowsError(try registry.load(path: small)) { error in
      let reason = (error as? PluginLoadError)?.reason ?? "\(error)"
      XCTAssertTrue(reason.contains("struct_size 24, smaller than the 40 bytes"), reason)
    }
  }

  func testStaleScratchFoldersOfDeadHostsAreRemoved() throws {
    // A pid that surely names no process now: a child that has exited and been reaped.
    let child = Process()
    child.executableURL = URL(fileURLWithPath: "/bin/true")
    try child.run()
    child.waitUntilExit()
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let stale = (base as NSString).appendingPathComponent("confound-\(child.processIdentifier)")
    let alive = (base as NSString).appendingPathComponent("confound-\(getppid())")
    try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: alive, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: alive) }
    let removed = PluginRegistry.removeStaleScratchDirectories()
    XCTAssertTrue(removed.contains(stale), "\(removed)")
    XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
    XCTAssertTrue(FileManager.default.fileExists(atPath: alive), "a running process's folder stays")
  }
}
