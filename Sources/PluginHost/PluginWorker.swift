import ConfoundProtocol
import Foundation
import JSONRPC

#if canImport(Glibc)
  import Glibc
#endif

/// The host's handle on one worker process serving one plugin. One call at a time.
///
/// Crash: the worker's output ends, the call fails with 1002 naming the plugin and the signal, and the worker
/// is discarded. Hang or cancel: the host asks the plugin to stop (`worker/cancel`), waits `cancelGrace`,
/// then kills the process; the call fails with -32800 (cancel) or 1002 (timeout).
final class PluginWorker: @unchecked Sendable {
  let pluginPath: String
  private(set) var manifest: PluginManifest?
  private let process = Process()
  private var channel: FrameChannel!
  private let condition = NSCondition()
  private var handshake: Result<PluginManifest, PluginLoadError>?
  private var exited = false
  private var pending: (id: RequestID, events: CallEvents)?
  private var response: Message?
  private var nextID: Int64 = 0

  /// Where progress and log lines of the running call go.
  struct CallEvents {
    var progress: (Double, String?) -> Void
    var log: (Int32, String) -> Void
  }

  var isAlive: Bool {
    condition.lock()
    defer { condition.unlock() }
    return !exited
  }

  /// Starts a worker and waits for its manifest. Throws `PluginLoadError` when the plugin does not load.
  init(pluginPath: String, workerExecutable: String, startTimeout: Double = 60) throws {
    self.pluginPath = pluginPath
    let toWorker = Pipe()
    let fromWorker = Pipe()
    process.executableURL = URL(fileURLWithPath: workerExecutable)
    process.arguments = ["--plugin", pluginPath]
    process.standardInput = toWorker
    process.standardOutput = fromWorker
    var environment = ProcessInfo.processInfo.environment
    // Workers run side by side: each gets one BLAS thread unless the user chose otherwise.
    if environment["OPENBLAS_NUM_THREADS"] == nil { environment["OPENBLAS_NUM_THREADS"] = "1" }
    process.environment = environment
    do {
      try process.run()
    } catch {
      throw PluginLoadError(path: pluginPath, reason: "could not start the worker \(workerExecutable): \(error)")
    }
    channel = FrameChannel(readFD: fromWorker.fileHandleForReading.fileDescriptor,
                           writeFD: toWorker.fileHandleForWriting.fileDescriptor)
    let reader = Thread { [self] in readLoop(readHandle: fromWorker.fileHandleForReading) }
    reader.start()
    condition.lock()
    let deadline = Date(timeIntervalSinceNow: startTimeout)
    while handshake == nil && !exited && condition.wait(until: deadline) {}
    let result = handshake
    condition.unlock()
    switch result {
    case .success(let manifest): self.manifest = manifest
    case .failure(let error):
      throw error
    case nil:
      kill()
      throw PluginLoadError(path: pluginPath, reason: exited ? "the plugin crashed while loading (\(terminationText())): run `confound plugins check \(pluginPath)` to see its own message" : "the plugin did not finish loading in \(Int(startTimeout)) s")
    }
  }

  private func readLoop(readHandle: FileHandle) {
    channel.readLoop { event in
      guard case .body(let body) = event, case .single(.success(let message)) = Incoming.parse(body) else { return }
      receive(message)
    }
    process.waitUntilExit()
    condition.lock()
    exited = true
    condition.broadcast()
    condition.unlock()
  }

  private func receive(_ message: Message) {
    condition.lock()
    defer { condition.unlock() }
    switch message {
    case .notification(WorkerMethod.ready, let params):
      if let m = params?["manifest"], let manifest = try? JSONCodec.decode(PluginManifest.self, from: m) {
        handshake = .success(manifest)
      } else {
        handshake = .failure(PluginLoadError(path: pluginPath, reason: "the worker sent an unreadable manifest"))
      }
    case .notification(WorkerMethod.loadFailed, let params):
      handshake = .failure(PluginLoadError(path: pluginPath, reason: params?["reason"]?.stringValue ?? "unknown"))
    case .notification(WorkerMethod.progress, let params):
      if let pending, let fraction = params?["fraction"]?.doubleValue {
        let events = pending.events
        condition.unlock()
        events.progress(fraction, params?["message"]?.stringValue)
        condition.lock()
      }
    case .notification(WorkerMethod.log, let params):
      if let pending, let text = params?["message"]?.stringValue {
        let events = pending.events
        condition.unlock()
        events.log(Int32(params?["level"]?.intValue ?? 3), text)
        condition.lock()
      }
    case .response(let id, _, _):
      if let pending, pending.id == id { response = message }
    default:
      break
    }
    condition.broadcast()
  }

  /// Runs one call. `isCancelled` is polled; `timeout` (seconds) bounds the wait.
  func call(
    _ call: WorkerCall, events: CallEvents, isCancelled: @escaping () -> Bool, timeout: Double?, cancelGrace: Double = 2
  ) throws -> JSONValue {
    let plugin = manifest?.id ?? pluginPath
    condition.lock()
    guard !exited else {
      condition.unlock()
      throw ResponseError(.pluginCrashed, "plugin \(plugin) is not running", data: ["plugin": .string(plugin)])
    }
    nextID += 1
    let id = RequestID.int(nextID)
    pending = (id, events)
    response = nil
    condition.unlock()
    let params = (try? JSONCodec.encode(call)) ?? .null
    channel.send(.request(id: id, method: WorkerMethod.call, params: params))

    let started = Date()
    var cancelSentAt: Date?
    condition.lock()
    defer {
      pending = nil
      response = nil
      condition.unlock()
    }
    while response == nil && !exited {
      _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
      if response != nil || exited { break }
      condition.unlock()
      let cancelNow = isCancelled()
      condition.lock()
      let timedOut = timeout.map { Date().timeIntervalSince(started) > $0 } ?? false
      if (cancelNow || timedOut) && cancelSentAt == nil {
        cancelSentAt = Date()
        channel.send(.notification(method: WorkerMethod.cancel, params: ["id": id.json]))
      }
      if let sent = cancelSentAt, Date().timeIntervalSince(sent) > cancelGrace {
        condition.unlock()
        kill()
        condition.lock()
        if cancelNow {
          throw ResponseError(.requestCancelled, "cancelled; plugin \(plugin) did not stop within \(cancelGrace) s and its worker was stopped",
                              data: ["plugin": .string(plugin)])
        }
        throw ResponseError(.pluginCrashed, "plugin \(plugin) did not answer within \(timeout ?? 0) s; its worker was stopped (a fresh one serves the next request)",
                            data: ["plugin": .string(plugin), "timeoutSeconds": .double(timeout ?? 0)])
      }
    }
    if let response, case .response(_, let result, let error) = response {
      if let error { throw error }
      return result ?? .null
    }
    condition.unlock()
    let how = terminationText()
    condition.lock()
    throw ResponseError(.pluginCrashed, "plugin \(plugin) crashed (\(how)) while handling the request; a fresh worker serves the next request",
                        data: ["plugin": .string(plugin), "path": .string(pluginPath), "termination": .string(how)])
  }

  /// Stops the worker at once; from now on it counts as dead, even before its exit is reaped.
  func kill() {
    condition.lock()
    exited = true
    condition.broadcast()
    condition.unlock()
    if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
  }

  /// Ends the worker by closing its input; it exits when its current call (if any) is done.
  func close() {
    try? (process.standardInput as? Pipe)?.fileHandleForWriting.close()
  }

  private func terminationText() -> String {
    process.waitUntilExit()
    let status = process.terminationStatus
    if process.terminationReason == .uncaughtSignal {
      let name = strsignal(status).map { String(cString: $0) } ?? "signal"
      return "signal \(status), \(name)"
    }
    return "exit status \(status)"
  }
}
