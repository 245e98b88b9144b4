import Foundation
import JSONRPC
import TestSupport
import XCTest

/// Replays every exchange in Protocol/fixtures against the built `confound-host`, byte for byte, so the
/// specification's examples stay true. Each fixture gets a fresh host; every step has a 30 s deadline.
final class FixtureReplayTests: XCTestCase {
  static let fixtures = SharedData.projectRoot.appendingPathComponent("Protocol/fixtures")
  static let stepTimeout: TimeInterval = 30

  func testInitialize() throws { try replay("initialize") }
  func testRequestBeforeInitialize() throws { try replay("not-initialized") }
  func testUnknownMethod() throws { try replay("unknown-method") }
  func testInvalidParams() throws { try replay("invalid-params") }
  func testParseError() throws { try replay("parse-error") }
  func testInvalidRequest() throws { try replay("invalid-request") }
  func testBatch() throws { try replay("batch") }
  func testPluginsList() throws { try replay("plugins-list") }
  func testPluginsRunFocus() throws { try replay("plugins-run-focus") }
  func testPluginsRunErrors() throws { try replay("plugins-run-errors") }
  func testPluginsLoadMissing() throws { try replay("plugins-load-missing") }
  func testShutdownExit() throws { try replay("shutdown-exit") }
  func testExitWithoutShutdown() throws { try replay("exit-without-shutdown") }
  func testFramingErrors() throws { try replay("framing-errors") }
  func testFramingTooLarge() throws { try replay("framing-too-large") }
  func testProbeProject() throws { try replay("probe-project") }
  func testAuditRunFocusStage() throws { try replay("audit-run-focus") }
  func testExplain() throws { try replay("explain") }

  /// A fixture added to the folder without a test above would silently never run.
  func testEveryFixtureIsReplayed() throws {
    let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
    let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path).filter { $0.hasSuffix(".json") }
    XCTAssertFalse(names.isEmpty, "no fixtures in \(Self.fixtures.path)")
    for name in names.sorted() {
      let stem = String(name.dropLast(".json".count))
      XCTAssertTrue(source.contains("replay(\"\(stem)\")"), "Protocol/fixtures/\(name) has no test: add `try replay(\"\(stem)\")`")
    }
  }

  /// The folder of the built executables: `CONFOUND_BIN_DIR`, else the folder of this test bundle (so
  /// `swift test --scratch-path X` finds its own build), else `.build/debug`.
  static var binDirectory: URL {
    if let dir = ProcessInfo.processInfo.environment["CONFOUND_BIN_DIR"] { return URL(fileURLWithPath: dir) }
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      let beside = URL(fileURLWithPath: exe).deletingLastPathComponent()
      if FileManager.default.isExecutableFile(atPath: beside.appendingPathComponent("confound-host").path) { return beside }
    }
    return SharedData.projectRoot.appendingPathComponent(".build/debug")
  }

  /// Runs one fixture; every failure names the file, the step and what differed.
  func replay(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let url = Self.fixtures.appendingPathComponent("\(name).json")
    let fixture = try FixtureReplay.load(url)
    let host = Self.binDirectory.appendingPathComponent("confound-host")
    guard FileManager.default.isExecutableFile(atPath: host.path) else {
      return XCTFail("\(host.path) is missing: build it with `swift build --build-tests` or set CONFOUND_BIN_DIR", file: file, line: line)
    }
    let scratch = try TemporaryDirectory(prefix: "confound-fixture")
    let failures = try FixtureReplay(fixture: fixture, scratch: scratch.url).run(host: host)
    for failure in failures { XCTFail("Protocol/fixtures/\(name).json \(failure)", file: file, line: line) }
  }
}

/// One fixture file and the replay of its exchange against a live host.
struct FixtureReplay {
  struct Fixture {
    var description: String
    var arguments: [String]
    /// File name in ${TMP} -> {"shape": [...], "cycle": [...]} (see `FixtureArrays`).
    var arrays: JSONObject
    /// File name in ${TMP} -> its text (a feature table, a platemap), written as UTF-8.
    var files: JSONObject
    var exchange: [JSONValue]
  }

  let fixture: Fixture
  let scratch: URL

  static func load(_ url: URL) throws -> Fixture {
    let value = try JSONParser.parse(try Data(contentsOf: url))
    guard let exchange = value["exchange"]?.arrayValue, let description = value["description"]?.stringValue else {
      throw FixtureError("\(url.lastPathComponent) needs \"description\" and an \"exchange\" array")
    }
    let arguments = value["arguments"]?.arrayValue?.compactMap(\.stringValue) ?? []
    return Fixture(
      description: description, arguments: arguments, arrays: value["arrays"]?.objectValue ?? JSONObject(),
      files: value["files"]?.objectValue ?? JSONObject(), exchange: exchange)
  }

  /// Starts the host, plays the steps, stops the host; returns the failures ("step 3 (expect): ...").
  func run(host executable: URL) throws -> [String] {
    for (name, spec) in fixture.arrays {
      guard let shape = spec["shape"]?.arrayValue?.compactMap(\.intValue), let cycle = spec["cycle"]?.arrayValue?.compactMap(\.doubleValue) else {
        throw FixtureError("arrays.\(name) needs \"shape\" and \"cycle\" (numbers)")
      }
      try FixtureArrays.write(shape: shape.map(Int.init), cycle: cycle.map(Float.init), to: scratch.appendingPathComponent(name))
    }
    for (name, text) in fixture.files {
      guard let text = text.stringValue else { throw FixtureError("files.\(name) must be a string (the file's text)") }
      try Data(text.utf8).write(to: scratch.appendingPathComponent(name))
    }
    let variables = ["TMP": scratch.path]
    let host = try FixtureHost(executable: executable, arguments: fixture.arguments)
    defer { host.stop() }
    var failures: [String] = []
    for (index, rawStep) in fixture.exchange.enumerated() {
      let step = FixturePattern.substitute(rawStep, variables)
      if let failure = play(step, on: host) {
        failures.append("step \(index + 1) \(failure)\n--- host stderr ---\n\(host.standardError.suffix(2000))")
        return failures
      }
    }
    // Whatever is left must be notifications: a response nobody expected (one to a notification, say) is wrong.
    for case .message(let m) in host.drain() where m["method"] == nil {
      failures.append("after the last step: unexpected message \(JSONWriter.string(m).prefix(300))")
    }
    return failures
  }

  /// Plays one step; nil when it went as the fixture says.
  private func play(_ step: JSONValue, on host: FixtureHost) -> String? {
    if let message = step["send"] {
      let bytes = message.stringValue.map { Array($0.utf8) } ?? MessageFramer.frame(JSONWriter.bytes(message))
      return host.write(bytes) ? nil : "(send): the host closed its input"
    }
    if let body = step["sendBody"]?.stringValue {
      return host.write(MessageFramer.frame(Array(body.utf8))) ? nil : "(sendBody): the host closed its input"
    }
    if let pattern = step["expect"] { return expect(pattern, from: host) }
    if let status = step["expectExit"]?.intValue {
      guard let actual = host.exitStatus(timeout: FixtureReplayTests.stepTimeout) else {
        return "(expectExit): the host was still running after \(Int(FixtureReplayTests.stepTimeout)) s"
      }
      return actual == status ? nil : "(expectExit): exit status \(actual), expected \(status)"
    }
    return "unknown step \(JSONWriter.string(step)): use send, sendBody, expect or expectExit"
  }

  /// Takes messages until one matches; notifications that do not match are skipped (logs, progress), any
  /// other mismatch fails.
  private func expect(_ pattern: JSONValue, from host: FixtureHost) -> String? {
    var skipped: [String] = []
    while true {
      guard let output = host.next(timeout: FixtureReplayTests.stepTimeout) else {
        let why = host.hasEndedOutput ? "the host closed its output" : "nothing within \(Int(FixtureReplayTests.stepTimeout)) s"
        return "(expect \(JSONWriter.string(pattern).prefix(200))): \(why); skipped: \(skipped)"
      }
      guard case .message(let message) = output else {
        if case .malformed(let text) = output { return "(expect): the host wrote \(text)" }
        continue
      }
      guard let problem = FixturePattern.mismatch(message, pattern) else { return nil }
      let isNotification = message["method"] != nil && message["id"] == nil
      if !isNotification {
        return "(expect): \(problem)\n  got:      \(JSONWriter.string(message).prefix(1500))\n  expected: \(JSONWriter.string(pattern).prefix(1500))"
      }
      skipped.append(String(JSONWriter.string(message).prefix(200)))
    }
  }
}

/// A fixture file that does not follow the format of Protocol/README.md, "Fixtures".
struct FixtureError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
