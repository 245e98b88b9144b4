import Foundation
import JSONRPC
import TestSupport
import XCTest

/// A built `confound-host` (with the built-in probe plugin beside it) driven over its pipes: one request at a
/// time, notifications skipped.
final class ProbeHost {
  /// `CONFOUND_BIN_DIR`, else the folder of this test bundle (`swift test --scratch-path X` builds there).
  static var directory: URL {
    if let dir = ProcessInfo.processInfo.environment["CONFOUND_BIN_DIR"] { return URL(fileURLWithPath: dir) }
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }
    return SharedData.projectRoot.appendingPathComponent(".build/debug")
  }

  private let process = Process()
  private let input = Pipe()
  private let output = Pipe()
  private var framer = MessageFramer()
  private var pending: [Message] = []
  private var nextID: Int64 = 0

  init() throws {
    let host = Self.directory.appendingPathComponent("confound-host")
    guard FileManager.default.isExecutableFile(atPath: host.path) else {
      throw XCTSkip("\(host.path) is not built: run `swift build` (swift test builds it) or set CONFOUND_BIN_DIR")
    }
    process.executableURL = host
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    try request("initialize", ["clientInfo": ["name": "ProbeTests"]])
    input.fileHandleForWriting.write(Data(MessageFramer.frame(Message.notification(method: "initialized", params: nil).bytes)))
  }

  deinit { if process.isRunning { process.terminate() } }

  /// Sends a request and returns its result; an error response is thrown as `ResponseError`.
  @discardableResult
  func request(_ method: String, _ params: JSONValue, timeout: Double = 1200) throws -> JSONValue {
    nextID += 1
    let id = RequestID.int(nextID)
    input.fileHandleForWriting.write(Data(MessageFramer.frame(Message.request(id: id, method: method, params: params).bytes)))
    let deadline = Date(timeIntervalSinceNow: timeout)
    while true {
      while pending.isEmpty {
        var descriptor = pollfd(fd: output.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
        let remaining = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
        guard remaining > 0, poll(&descriptor, 1, remaining) > 0 else { throw ProbeTestError("no answer to \(method) in \(timeout) s") }
        let data = output.fileHandleForReading.availableData
        if data.isEmpty { throw ProbeTestError("confound-host closed its output during \(method)") }
        for event in framer.push(Array(data)) {
          guard case .body(let body) = event, case .single(.success(let message)) = Incoming.parse(body) else { continue }
          pending.append(message)
        }
      }
      if case .response(id, let result, let error) = pending.removeFirst() {
        if let error { throw error }
        return result ?? .null
      }
    }
  }
}

struct ProbeTestError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// The scikit-learn reference script, Tests/python/test_probe_reference.py, run in the test venv.
func probeReference(_ arguments: [String]) throws -> [String: Any] {
  let script = SharedData.projectRoot.appendingPathComponent("Tests/python/test_probe_reference.py")
  let source = try String(contentsOf: script, encoding: .utf8)
  let text = try PythonReference.run("import sys; sys.argv = ['ref'] + sys.argv[1:]\n" + source, arguments: arguments)
  guard !text.isEmpty else { return [:] }
  return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
}

/// A shared data folder, or the test is skipped.
func sharedData(_ name: String) throws -> URL {
  do { return try SharedData.require("data/" + name) } catch let skip as SkipReason { throw XCTSkip(skip.description) }
}
