import Foundation
import JSONRPC
import TestSupport
import XCTest

/// The headless client `confound` as a user runs it: progress on stderr, Ctrl-C cancelling through the host.
final class ClientTests: XCTestCase {
  /// A plugin dir holding test.misbehave, whose "slow" mode reports progress and stops when cancelled.
  private func misbehaveDir() throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    _ = try OutOfTreePluginTests.buildC("CMisbehave/misbehave_plugin.c", into: dir.url, name: "libmisbehave.so")
    return dir
  }

  private func slowCall(_ dir: TemporaryDirectory, seconds: Int) throws -> (Process, Pipe, Pipe) {
    let process = Process()
    process.executableURL = try LiveHost.binary("confound")
    process.arguments = ["call", "plugins/run", "--progress", "--plugin-dir", dir.url.path, "--params",
                         #"{"plugin":"test.misbehave","parameters":{"mode":"slow","seconds":\#(seconds)},"inputs":[]}"#]
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    process.environment = environment
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    return (process, out, err)
  }

  func testCtrlCCancelsTheRunningRequestThroughTheHost() throws {
    let dir = try misbehaveDir()
    let (process, _, err) = try slowCall(dir, seconds: 60)
    // Wait for the first progress line, so the request is really running in the plugin.
    var seen = ""
    let deadline = Date(timeIntervalSinceNow: 60)
    while !seen.contains("%") && Date() < deadline {
      seen += String(decoding: err.fileHandleForReading.availableData, as: UTF8.self)
    }
    XCTAssertTrue(seen.contains("plugins/run test.misbehave: "), "plain progress lines on a non-terminal stderr: \(seen)")
    let interrupted = Date()
    kill(process.processIdentifier, SIGINT)
    process.waitUntilExit()
    seen += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    XCTAssertEqual(process.terminationStatus, 130, seen)
    XCTAssertLessThan(Date().timeIntervalSince(interrupted), 20, "the plugin stops on cancellation, long before its 60 s")
    XCTAssertTrue(seen.contains("cancelling"), seen)
  }

  func testProgressEndsAndResultIsPrinted() throws {
    let dir = try misbehaveDir()
    let (process, out, err) = try slowCall(dir, seconds: 1)
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, log)
    XCTAssertTrue(log.contains("plugins/run test.misbehave: done"), log)
    let result = try JSONParser.parse(Array(output.dropLast()))
    XCTAssertEqual(result["plugin"], "test.misbehave")
  }
}
