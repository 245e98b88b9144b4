import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

#if canImport(Glibc)
  import Glibc
#endif

/// The client side of the protocol: starts `confound-host` as a child process and talks to it over its pipes,
/// exactly as an editor or a notebook would.
///
/// Requests block the calling thread until their response; several may be in flight from several threads.
/// `$/progress` goes to a `ProgressDisplay` on stderr, `window/logMessage` to stderr. Ctrl-C (SIGINT) sends
/// `$/cancelRequest` for every request in flight; a second Ctrl-C stops the host.
public final class HostConnection: @unchecked Sendable {
  private let process = Process()
  private let channel: FrameChannel
  private let condition = NSCondition()
  private var responses: [RequestID: Message] = [:]
  private var waiting = Set<RequestID>()
  private var nextID: Int64 = 0
  private var closed = false
  private var interrupts = 0
  private var signalSource: DispatchSourceSignal?
  public let progress: ProgressDisplay
  public var verbose = false
  public private(set) var initializeResult: InitializeRequest.Response?

  /// Starts the host. `hostPath` defaults to `confound-host` beside this executable (or `$CONFOUND_HOST`).
  public init(hostPath: String? = nil, arguments: [String] = [], progress: ProgressDisplay = ProgressDisplay()) throws {
    let path = hostPath ?? ProcessInfo.processInfo.environment["CONFOUND_HOST"]
      ?? (PluginDiscovery.executableDirectory as NSString).appendingPathComponent("confound-host")
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw ClientError("confound-host not found at \(path): build it with `swift build -c release` or set CONFOUND_HOST")
    }
    self.progress = progress
    let toHost = Pipe()
    let fromHost = Pipe()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardInput = toHost
    process.standardOutput = fromHost
    try process.run()
    channel = FrameChannel(readFD: fromHost.fileHandleForReading.fileDescriptor, writeFD: toHost.fileHandleForWriting.fileDescriptor)
    signal(SIGPIPE, SIG_IGN)
    Thread { [self] in readLoop() }.start()
  }

  /// `initialize` + `initialized`: returns the host's capabilities.
  @discardableResult
  public func initialize() throws -> InitializeRequest.Response {
    let params = InitializeRequest.Params(processId: Int(getpid()), clientInfo: .init(name: "confound", version: "0.1.0"))
    let result = try request(InitializeRequest.self, params)
    try notify(InitializedNotification.self, Empty())
    initializeResult = result
    return result
  }

  /// Sends a typed request and waits for its response.
  public func request<R: RequestType>(_ type: R.Type, _ params: R.Params, progressTitle: String? = nil) throws -> R.Response {
    let result = try request(method: R.method, params: try JSONCodec.encode(params), progressTitle: progressTitle)
    do {
      return try JSONCodec.decode(R.Response.self, from: result)
    } catch {
      throw ClientError("the host's \(R.method) response did not decode: \(JSONCodec.describe(error).message)")
    }
  }

  /// Sends any request and waits for its result; an error response is thrown as `ResponseError`.
  public func request(method: String, params: JSONValue?, progressTitle: String? = nil) throws -> JSONValue {
    condition.lock()
    nextID += 1
    let id = RequestID.int(nextID)
    waiting.insert(id)
    condition.unlock()
    var params = params
    if let progressTitle, case .object(var object)? = params {
      object["workDoneToken"] = .string("\(progressTitle)#\(id)")
      params = .object(object)
    }
    guard channel.send(.request(id: id, method: method, params: params)) else {
      throw ClientError("the host exited before \(method) could be sent (\(hostTermination))")
    }
    condition.lock()
    defer { condition.unlock() }
    while responses[id] == nil && !closed { condition.wait() }
    waiting.remove(id)
    guard let response = responses.removeValue(forKey: id), case .response(_, let result, let error) = response else {
      condition.unlock()
      let how = hostTermination
      condition.lock()
      throw ClientError("the host exited before answering \(method) (\(how))")
    }
    if let error { throw error }
    return result ?? .null
  }

  public func notify<N: NotificationType>(_ type: N.Type, _ params: N.Params) throws {
    channel.send(.notification(method: N.method, params: try JSONCodec.encode(params)))
  }

  /// How the host ended, once its output has closed: "killed by signal 9 (Killed)" or "exit status 1". Waits up to
  /// 5 s for the exit status, which arrives after the end of output.
  public var hostTermination: String {
    let deadline = Date(timeIntervalSinceNow: 5)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { return "its output closed, but it is still running" }
    let status = process.terminationStatus
    if process.terminationReason == .uncaughtSignal {
      return "killed by signal \(status) (\(strsignal(status).map { String(cString: $0) } ?? "unknown signal"))"
    }
    return "exit status \(status)"
  }

  /// `shutdown` then `exit`; waits for the host to end (the host ends its workers first). Returns its exit status.
  @discardableResult
  public func close() -> Int32 {
    _ = try? request(method: ShutdownRequest.method, params: nil)
    channel.send(.notification(method: ExitNotification.method, params: nil))
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// Ctrl-C cancels what is in flight through `$/cancelRequest`; a second Ctrl-C stops the host at once.
  public func cancelOnInterrupt() {
    signal(SIGINT, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler { [self] in
      condition.lock()
      interrupts += 1
      let ids = waiting
      let count = interrupts
      condition.unlock()
      if count == 1 {
        progress.message("cancelling (Ctrl-C again to stop the host)")
        for id in ids { channel.send(.notification(method: CancelRequestNotification.method, params: ["id": id.json])) }
      } else {
        kill(process.processIdentifier, SIGKILL)
      }
    }
    source.resume()
    signalSource = source
  }

  public var wasInterrupted: Bool {
    condition.lock()
    defer { condition.unlock() }
    return interrupts > 0
  }

  private func readLoop() {
    channel.readLoop { event in
      guard case .body(let body) = event else { return }
      switch Incoming.parse(body) {
      case .single(.success(let message)): receive(message)
      case .batch(let items): items.forEach { if case .success(let m) = $0 { receive(m) } }
      default: break
      }
    }
    condition.lock()
    closed = true
    condition.broadcast()
    condition.unlock()
  }

  private func receive(_ message: Message) {
    switch message {
    case .response(let id?, _, _):
      condition.lock()
      responses[id] = message
      condition.broadcast()
      condition.unlock()
    case .notification(ProgressNotification.method, let params):
      if let params, let p = try? JSONCodec.decode(ProgressNotification.Params.self, from: params) { progress.update(p.value) }
    case .notification(LogMessageNotification.method, let params):
      if let params, let p = try? JSONCodec.decode(LogMessageNotification.Params.self, from: params), verbose || p.type <= 2 {
        progress.message("host: \(p.message)")
      }
    default:
      break
    }
  }
}

/// A client-side failure: no host, a host that died, a response that does not decode.
public struct ClientError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
