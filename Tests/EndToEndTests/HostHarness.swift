import Foundation
import JSONRPC

#if canImport(Glibc)
  import Glibc
#endif

/// A `confound-host` child process driven the way a client drives it: raw bytes into its stdin, framed
/// messages out of its stdout, read with the real `MessageFramer` on a thread of its own, so a test waits on a
/// deadline and never blocks on a read. The host's stderr is drained (a full pipe would stall the host) and
/// kept for failure messages.
final class FixtureHost: @unchecked Sendable {
  /// What the host wrote on stdout, in order.
  enum Output {
    case message(JSONValue)
    /// A frame whose body is not JSON, or a framing error in the host's own output: always a host bug.
    case malformed(String)
  }

  private let process = Process()
  /// The host's stdin. Closed through the handle, never with close(2) on its descriptor: the handle would close
  /// the same number again when released, by then possibly another test's freshly opened pipe.
  private let inputHandle: FileHandle
  private let input: Int32
  private let condition = NSCondition()
  private var outputs: [Output] = []
  private var outputEnded = false
  private var errorText: [UInt8] = []

  /// Starts `executable` with `arguments`; the environment is the test's, minus `CONFOUND_PLUGIN_PATH` (so
  /// only the built-in plugins load) and with Swift's backtracer off (a crash test must not wait for it).
  init(executable: URL, arguments: [String]) throws {
    signal(SIGPIPE, SIG_IGN)
    let toHost = Pipe()
    let fromHost = Pipe()
    let hostErrors = Pipe()
    var environment = ProcessInfo.processInfo.environment
    environment["CONFOUND_PLUGIN_PATH"] = nil
    environment["SWIFT_BACKTRACE"] = "enable=no"
    process.executableURL = executable
    process.arguments = arguments
    process.environment = environment
    process.standardInput = toHost
    process.standardOutput = fromHost
    process.standardError = hostErrors
    try process.run()
    inputHandle = toHost.fileHandleForWriting
    input = inputHandle.fileDescriptor
    let outFD = fromHost.fileHandleForReading.fileDescriptor
    let errFD = hostErrors.fileHandleForReading.fileDescriptor
    Thread { [self] in readOutput(outFD, handles: fromHost) }.start()
    Thread { [self] in readErrors(errFD, handles: hostErrors) }.start()
  }

  /// Writes bytes to the host's stdin; false when the host has closed it.
  @discardableResult
  func write(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let n = Glibc.write(input, raw.baseAddress! + offset, raw.count - offset)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        offset += n
      }
      return true
    }
  }

  /// The next output, waiting at most `timeout` seconds; nil on timeout or when stdout has ended.
  func next(timeout: TimeInterval) -> Output? {
    let deadline = Date(timeIntervalSinceNow: timeout)
    condition.lock()
    defer { condition.unlock() }
    while outputs.isEmpty && !outputEnded && condition.wait(until: deadline) {}
    return outputs.isEmpty ? nil : outputs.removeFirst()
  }

  /// True once the host has closed its stdout (it exits right after).
  var hasEndedOutput: Bool {
    condition.lock()
    defer { condition.unlock() }
    return outputEnded && outputs.isEmpty
  }

  /// Every output received and not yet taken, without waiting.
  func drain() -> [Output] {
    condition.lock()
    defer { condition.unlock() }
    let all = outputs
    outputs = []
    return all
  }

  /// The exit status once the host has exited, waiting at most `timeout` seconds; nil if it is still running.
  func exitStatus(timeout: TimeInterval) -> Int32? {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { return nil }
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// What the host wrote on stderr so far (its log lines).
  var standardError: String {
    condition.lock()
    defer { condition.unlock() }
    return String(decoding: errorText, as: UTF8.self)
  }

  /// Ends the host: closes its stdin (it exits with 1 unless it was shut down), then kills it after 5 s.
  func stop() {
    try? inputHandle.close()
    if exitStatus(timeout: 5) == nil {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
  }

  private func readOutput(_ fd: Int32, handles: Pipe) {
    var framer = MessageFramer(maxBodyBytes: 1 << 30)
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      append(framer.push(buffer[0..<n]))
    }
    append(framer.finish().map { [$0] } ?? [])
    condition.lock()
    outputEnded = true
    condition.broadcast()
    condition.unlock()
    _ = handles
  }

  private func append(_ events: [MessageFramer.Event]) {
    guard !events.isEmpty else { return }
    let parsed: [Output] = events.map { event in
      switch event {
      case .body(let body):
        do { return .message(try JSONParser.parse(body)) } catch {
          return .malformed("a body that is not JSON (\(error)): \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
      case .error(let error): return .malformed("a framing error in the host's output: \(error)")
      }
    }
    condition.lock()
    outputs += parsed
    condition.broadcast()
    condition.unlock()
  }

  private func readErrors(_ fd: Int32, handles: Pipe) {
    var buffer = [UInt8](repeating: 0, count: 1 << 14)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      condition.lock()
      errorText += buffer[0..<n]
      condition.unlock()
    }
    _ = handles
  }
}

/// The pattern language of Protocol/fixtures (Protocol/README.md, "Fixtures"): a pattern is JSON that a
/// message must match. Object members the pattern does not list are ignored; arrays match element by element
/// and must have the same length; numbers compare by value (1 matches 1.0); and three special forms exist:
/// `"<any>"` matches any value, `{"<contains>": [p...]}` an array with, for each `p`, some element matching it,
/// and `{"<unordered>": [p...]}` an array of the same length matching the patterns in some order.
enum FixturePattern {
  /// Nil when `value` matches `pattern`, otherwise where and why the first mismatch is (`$.result.plugins`).
  static func mismatch(_ value: JSONValue, _ pattern: JSONValue, at path: String = "$") -> String? {
    switch pattern {
    case .string("<any>"):
      return nil
    case .object(let object) where object.keys == ["<contains>"]:
      guard let elements = value.arrayValue, let wanted = object["<contains>"]?.arrayValue else {
        return "\(path): expected an array, got \(value.typeName)"
      }
      for (i, p) in wanted.enumerated() where !elements.contains(where: { mismatch($0, p) == nil }) {
        return "\(path): no element matches <contains>[\(i)] \(JSONWriter.string(p))"
      }
      return nil
    case .object(let object) where object.keys == ["<unordered>"]:
      guard let elements = value.arrayValue, let wanted = object["<unordered>"]?.arrayValue else {
        return "\(path): expected an array, got \(value.typeName)"
      }
      guard elements.count == wanted.count else { return "\(path): \(elements.count) elements, expected \(wanted.count)" }
      return matchesInSomeOrder(elements, wanted) ? nil : "\(path): the elements do not match the patterns in any order"
    case .object(let object):
      guard case .object(let actual) = value else { return "\(path): expected an object, got \(value.typeName)" }
      for (key, p) in object {
        guard let member = actual[key] else { return "\(path).\(key): missing" }
        if let problem = mismatch(member, p, at: "\(path).\(key)") { return problem }
      }
      return nil
    case .array(let wanted):
      guard let elements = value.arrayValue else { return "\(path): expected an array, got \(value.typeName)" }
      guard elements.count == wanted.count else { return "\(path): \(elements.count) elements, expected \(wanted.count)" }
      for (i, (e, p)) in zip(elements, wanted).enumerated() {
        if let problem = mismatch(e, p, at: "\(path)[\(i)]") { return problem }
      }
      return nil
    case .int, .double:
      return value.doubleValue == pattern.doubleValue ? nil : "\(path): \(JSONWriter.string(value)), expected \(JSONWriter.string(pattern))"
    default:
      return value == pattern ? nil : "\(path): \(JSONWriter.string(value)), expected \(JSONWriter.string(pattern))"
    }
  }

  /// Backtracking assignment of elements to patterns; fixtures hold a handful of elements.
  private static func matchesInSomeOrder(_ elements: [JSONValue], _ patterns: [JSONValue]) -> Bool {
    guard let first = elements.first else { return patterns.isEmpty }
    for (i, p) in patterns.enumerated() where mismatch(first, p) == nil {
      var rest = patterns
      rest.remove(at: i)
      if matchesInSomeOrder(Array(elements.dropFirst()), rest) { return true }
    }
    return false
  }

  /// `value` with every `${NAME}` in its strings replaced by `variables[NAME]`.
  static func substitute(_ value: JSONValue, _ variables: [String: String]) -> JSONValue {
    switch value {
    case .string(var s):
      for (name, replacement) in variables { s = s.replacingOccurrences(of: "${\(name)}", with: replacement) }
      return .string(s)
    case .array(let elements): return .array(elements.map { substitute($0, variables) })
    case .object(let object):
      return .object(JSONObject(object.members.map { (key: $0.key, value: substitute($0.value, variables)) }))
    default: return value
    }
  }
}

/// Writes the float32 little-endian .npy files fixtures ask for (NumPy format 1.0, C order).
enum FixtureArrays {
  /// An array of `shape` filled in row-major order by repeating `cycle` (e.g. [1, 3] on an even width gives
  /// columns alternating 1 and 3).
  static func write(shape: [Int], cycle: [Float], to url: URL) throws {
    let count = shape.reduce(1, *)
    let values = (0..<count).map { cycle[$0 % cycle.count] }
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
    // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    bytes += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
    bytes += Array(header.utf8)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
    try Data(bytes).write(to: url)
  }
}
