import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost
import TestSupport
import XCTest

/// Every way a plugin can leave a call unanswered ends in an answer within bounded time, naming the plugin and the
/// real cause, and the next call gets a healthy worker.
final class MisbehavingPluginTests: XCTestCase {
  func testACrashWhileAForkedChildHoldsThePipesIsReportedAtOnce() throws {
    let fixture = try MisbehaveFixture()
    // The child sleeps 60 s with the pipes open: waiting for end of file would take that long.
    let (error, seconds) = fixture.failure("fork-crash")
    XCTAssertEqual(error.code, .pluginCrashed, error.message)
    XCTAssertTrue(error.message.contains("test.misbehave") && error.message.contains("signal 11"), error.message)
    XCTAssertLessThan(seconds, 10)
    XCTAssertEqual(try fixture.healthyMean(), 7.5)
  }

  func testAResultOverTheChannelLimitIsAnErrorNotSilence() throws {
    let fixture = try MisbehaveFixture(limits: WorkerLimits(maxMessageBytes: 1 << 20))
    let (error, seconds) = fixture.failure("huge", ["bytes": .int(2 << 20)])
    XCTAssertEqual(error.code, .pluginError, error.message)
    XCTAssertTrue(error.message.contains("over the worker channel's limit of 1048576 bytes"), error.message)
    XCTAssertEqual(error.data?["plugin"], "test.misbehave")
    XCTAssertLessThan(seconds, 10)
    // Just under the limit passes.
    XCTAssertNotNil(try fixture.run("huge", ["bytes": .int(1 << 19)]).result["padding"])
  }

  func testClosingReplacingOrSoilingTheChannelNamesThePlugin() throws {
    let fixture = try MisbehaveFixture()
    for mode in ["close-channel", "redirect-channel"] {
      let (error, seconds) = fixture.failure(mode)
      XCTAssertEqual(error.code, .pluginCrashed, "\(mode): \(error.message)")
      XCTAssertTrue(error.message.contains("plugin test.misbehave closed or replaced the worker's channel"), "\(mode): \(error.message)")
      XCTAssertLessThan(seconds, 10, mode)
      XCTAssertEqual(try fixture.healthyMean(), 7.5, mode)
    }
    let (error, seconds) = fixture.failure("garbage")
    XCTAssertEqual(error.code, .pluginCrashed, error.message)
    XCTAssertTrue(error.message.contains("worker channel of plugin test.misbehave carried"), error.message)
    XCTAssertLessThan(seconds, 10)
    XCTAssertEqual(try fixture.healthyMean(), 7.5)
  }

  func testEveryCallHasADefaultTimeoutAndTimeoutsMustBePositive() throws {
    let fixture = try MisbehaveFixture(defaultCallTimeout: 1)
    let (error, seconds) = fixture.failure("hang")
    XCTAssertEqual(error.code, .pluginCrashed)
    XCTAssertTrue(error.message.contains("did not answer within 1 s"), error.message)
    XCTAssertLessThan(seconds, 8)
    for bad in [0.0, -1, .infinity] {
      let (refused, _) = fixture.failure("ok", timeout: bad)
      XCTAssertEqual(refused.code, .invalidParams, "\(bad)")
      XCTAssertEqual(refused.data?["field"], "timeoutSeconds")
    }
  }

  func testResultsOutsideTheFocusContractAreErrorsNamingThePlugin() throws {
    let fixture = try MisbehaveFixture()
    for (mode, shown) in [("null", "null"), ("array", "[1,2,3]"), ("badchannels", "\"channels\":\"x\"")] {
      let (error, _) = fixture.failure(mode)
      XCTAssertEqual(error.code, .pluginError, mode)
      XCTAssertTrue(error.message.hasPrefix("plugin test.misbehave broke the focus contract"), error.message)
      XCTAssertTrue(error.message.contains(shown), error.message)
    }
  }

  func testChildrenAPluginForksEndWithItsWorker() throws {
    let fixture = try MisbehaveFixture()
    let child = try XCTUnwrap(fixture.run("fork-orphan").result["child"]?.intValue)
    XCTAssertGreaterThan(child, 0)
    XCTAssertTrue(processExists(Int32(child)), "the child runs while its worker does")
    fixture.registry.shutdown()
    let deadline = Date(timeIntervalSinceNow: 5)
    while processExists(Int32(child)) && Date() < deadline { usleep(20_000) }
    XCTAssertFalse(processExists(Int32(child)), "the plugin's child outlived its worker")
  }

  func testInputsAreCheckedBeforeThePluginSeesThem() throws {
    let fixture = try MisbehaveFixture()
    // A shape whose product overflows: the worker used to trap on it (and blame the plugin).
    let npy = fixture.dir.file("overflow.npy")
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    try Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)).write(to: npy)
    // A FIFO: opening it would block until a writer comes.
    let fifo = fixture.dir.file("site.tif")
    XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
    for input in [InputRef(name: "image", npy: npy.path), InputRef(name: "image", files: [fifo.path])] {
      let started = Date()
      XCTAssertThrowsError(try fixture.registry.run(
        PluginsRunRequest.Params(plugin: "test.misbehave", inputs: [input], outputDir: fixture.dir.url.path),
        isCancelled: { false }, progress: { _, _ in }, log: { _, _ in })) { error in
        let e = error as? ResponseError
        XCTAssertEqual(e?.code, .badInputFile, "\(error)")
        XCTAssertEqual(e?.data?["file"]?.stringValue, input.npy ?? input.files?.first)
      }
      XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }
  }
}
