import Foundation
import JSONRPC
import TestSupport
import XCTest

/// A built `confound-host` started as a child process, spoken to over its pipes with the real framer.
final class LiveHost {
  static var binDirectory: URL {
    if let dir = ProcessInfo.processInfo.environment["CONFOUND_BIN_DIR"] { return URL(fileURLWithPath: dir) }
    return SharedData.projectRoot.appendingPathComponent(".build/debug")
  }

  static func binary(_ name: String) throws -> URL {
    let url = binDirectory.appendingPathComponent(name)
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
      throw XCTSkip("\(url.path) is not built: run `swift build` first (swift test builds it)")
    }
    return url
  }

  let process = Process()
  private let input = Pipe()
  private let output = Pipe()
  private var framer = MessageFramer()
  private var pending: [Message] = []
  private var nextID: Int64 = 100

  init(arguments: [String] = []) throws {
    process.executableURL = try Self.binary("confound-host")
    process.arguments = arguments
    process.standardInput = input
    process.standardOutput = output
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    process.environment = environment
    try process.run()
  }

  deinit {
    if process.isRunning { process.terminate() }
  }

  func send(_ message: Message) {
    input.fileHandleForWriting.write(Data(MessageFramer.frame(message.bytes)))
  }

  /// The next message from the host, waiting at most `timeout` seconds.
  func receive(timeout: Double = 60, file: StaticString = #filePath, line: UInt = #line) throws -> Message {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while pending.isEmpty {
      var descriptor = pollfd(fd: output.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
      let remaining = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
      guard remaining > 0, poll(&descriptor, 1, remaining) > 0 else { throw HostTimeout(seconds: timeout) }
      let data = output.fileHandleForReading.availableData
      if data.isEmpty { throw HostTimeout(seconds: 0) }
      for event in framer.push(Array(data)) {
        guard case .body(let body) = event, case .single(.success(let message)) = Incoming.parse(body) else { continue }
        pending.append(message)
      }
    }
    return pending.removeFirst()
  }

  /// Sends a request and returns its result, skipping notifications; an error response is thrown.
  @discardableResult
  func request(_ method: String, _ params: JSONValue? = nil, timeout: Double = 120) throws -> JSONValue {
    nextID += 1
    let id = RequestID.int(nextID)
    send(.request(id: id, method: method, params: params))
    while true {
      if case .response(id, let result, let error) = try receive(timeout: timeout) {
        if let error { throw error }
        return result ?? .null
      }
    }
  }

  func initialize() throws {
    try request("initialize", ["clientInfo": ["name": "EndToEndTests"]])
    send(.notification(method: "initialized", params: nil))
  }

  /// shutdown + exit; returns the exit status.
  func close() throws -> Int32 {
    try request("shutdown")
    send(.notification(method: "exit", params: nil))
    process.waitUntilExit()
    return process.terminationStatus
  }
}

struct HostTimeout: Error, CustomStringConvertible {
  let seconds: Double
  var description: String { seconds > 0 ? "no message from the host in \(seconds) s" : "the host closed its output" }
}

/// Runs a command to completion; throws with its output when it fails.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String], currentDirectory: URL? = nil) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  if let currentDirectory { process.currentDirectoryURL = currentDirectory }
  var environment = ProcessInfo.processInfo.environment
  environment["SWIFT_BACKTRACE"] = "enable=no"
  process.environment = environment
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  let text = String(decoding: data, as: UTF8.self)
  guard process.terminationStatus == 0 else {
    throw CommandFailed(command: ([executable] + arguments).joined(separator: " "), status: process.terminationStatus, output: text)
  }
  return text
}

struct CommandFailed: Error, CustomStringConvertible {
  let command: String
  let status: Int32
  let output: String
  var description: String { "`\(command)` exited \(status):\n\(output)" }
}

/// Runs a command to completion and returns its standard output alone (stderr carries progress and logs);
/// throws with both when it fails.
@discardableResult
func runCommandStdout(_ executable: String, _ arguments: [String]) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  var environment = ProcessInfo.processInfo.environment
  environment["SWIFT_BACKTRACE"] = "enable=no"
  process.environment = environment
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  final class Box: @unchecked Sendable { var data = Data() }
  let errors = Box()
  let reader = Thread { errors.data = err.fileHandleForReading.readDataToEndOfFile() }
  reader.start()
  let data = out.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  while reader.isExecuting || !reader.isFinished { Thread.sleep(forTimeInterval: 0.01) }
  let text = String(decoding: data, as: UTF8.self)
  guard process.terminationStatus == 0 else {
    throw CommandFailed(command: ([executable] + arguments).joined(separator: " "), status: process.terminationStatus,
                        output: text + String(decoding: errors.data, as: UTF8.self))
  }
  return text
}
