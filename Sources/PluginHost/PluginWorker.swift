import ConfoundProtocol
import Foundation
import JSONRPC

/// The host's handle on one worker process serving one plugin. One call at a time.
///
/// Every wait is bounded and every failure names its cause: a worker is dead when its exit status arrives (not at
/// end of file); loading is bounded by `loadTimeout` and cancellable; a call by its timeout and by cancellation
/// (`worker/cancel`, then `cancelGrace` seconds, then the process group is killed). Anything in the channel that is
/// not a protocol message, or a message over the channel's limit, stops the worker: the stream can no longer be
/// trusted, and the pending call fails naming the plugin.
final class PluginWorker: @unchecked Sendable {
  let pluginPath: String
  private(set) var manifest: PluginManifest?
  private var process: WorkerProcess!
  private var channel: FrameChannel!
  private let maxMessageBytes: Int
  private let condition = NSCondition()
  private var handshake: Result<PluginManifest, PluginLoadError>?
  private var exited = false
  private var pending: (id: RequestID, events: CallEvents)?
  /// Set once the worker said it is handing the pending call to the plugin (`worker/invoking`): a crash before that
  /// is the worker's own (reading inputs), after it the plugin's.
  private var pluginEntered = false
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

  /// Starts a worker and waits for its manifest, at most `loadTimeout` seconds, polling `isCancelled`. Throws
  /// `PluginLoadError` when the plugin does not load, `ResponseError(-32800)` when cancelled.
  init(
    pluginPath: String, workerExecutable: String, limits: WorkerLimits = WorkerLimits(), tracker: WorkerTracker,
    isCancelled: () -> Bool = { false }
  ) throws {
    self.pluginPath = pluginPath
    maxMessageBytes = limits.maxMessageBytes
    var environment = ProcessInfo.processInfo.environment
    // Workers run side by side: each gets one BLAS thread unless the user chose otherwise.
    if environment["OPENBLAS_NUM_THREADS"] == nil { environment["OPENBLAS_NUM_THREADS"] = "1" }
    do {
      process = try WorkerProcess(
        executable: workerExecutable, arguments: ["--plugin", pluginPath, "--host-pid", String(getpid())] + limits.arguments, environment: environment,
        tracker: tracker
      ) { [weak self] in self?.markExited() }
    } catch {
      throw PluginLoadError(path: pluginPath, reason: "could not start the worker \(workerExecutable): \(error)")
    }
    channel = FrameChannel(readFD: process.output.fileDescriptor, writeFD: process.input.fileDescriptor,
                           maxBodyBytes: maxMessageBytes)
    Thread { [self] in readLoop() }.start()
    let deadline = Date(timeIntervalSinceNow: limits.loadTimeout)
    condition.lock()
    var cancelled = false
    while handshake == nil && !exited && Date() < deadline {
      _ = condition.wait(until: min(deadline, Date(timeIntervalSinceNow: 0.05)))
      if handshake != nil || exited { break }
      condition.unlock()
      cancelled = isCancelled()
      condition.lock()
      if cancelled { break }
    }
    // A worker that refuses the plugin writes why, then exits: its exit can arrive before the reader has read that
    // message, so drain the pipe to its end (or 1 s) before calling it a crash, as a request does.
    if handshake == nil && exited {
      let drainDeadline = Date(timeIntervalSinceNow: 1)
      while handshake == nil && !outputEnded && !faulted && condition.wait(until: drainDeadline) {}
    }
    let result = handshake
    condition.unlock()
    switch result {
    case .success(let manifest): self.manifest = manifest
    case .failure(let error): throw error
    case nil:
      if cancelled {
        stop(.cancelled)
        throw ResponseError(.requestCancelled, "loading \(pluginPath) was cancelled; its worker was stopped",
                            data: ["plugin": .string(pluginPath)])
      }
      if !isAlive {
        throw PluginLoadError(path: pluginPath, reason: exitReason(during: "loading"))
      }
      stop(.loadTimeout(limits.loadTimeout))
      throw PluginLoadError(
        path: pluginPath,
        reason: "the plugin did not finish loading within \(Self.seconds(limits.loadTimeout)) s (its entry point or "
          + "initialisation does not return); its worker was stopped. Raise the limit with --plugin-load-timeout")
    }
  }

  /// Set (on the reader thread, which alone reads it) once the channel carried something no worker sends.
  private var faulted = false
  /// Set when the reader has read the worker's output to its end.
  private var outputEnded = false

  /// Stops the worker; from now on it counts as dead, before its exit arrives, so it is never handed out again.
  private func stop(_ reason: WorkerProcess.StopReason) {
    process.stop(reason)
    markExited()
  }

  private func markExited() {
    condition.lock()
    exited = true
    condition.broadcast()
    condition.unlock()
  }

  private func readLoop() {
    channel.readLoop { event in
      // After a fault nothing more of this channel is believed: a result read in the same chunk as the garbage
      // before it must not answer the call the fault failed.
      if faulted { return }
      switch event {
      case .body(let body):
        guard case .single(.success(let message)) = Incoming.parse(body) else {
          return fault("a frame that is not a worker message: \(Truncated.quote(body))")
        }
        receive(message)
      case .error(.tooLarge(let length, let limit)):
        fault("a message of \(length) bytes, over the worker channel's limit of \(limit) bytes (--max-message-bytes)")
      case .error(.truncated), .error(.truncatedHeader):
        break
      case .error(let error):
        fault("bytes that are not a framed message (\(error))")
      }
    }
    condition.lock()
    outputEnded = true
    condition.broadcast()
    condition.unlock()
    // End of output without an exit: the plugin closed or replaced the worker's descriptors; the worker can no
    // longer answer. Give a real exit a moment to arrive first, so a crash is reported as the crash it is.
    if !process.waitForExit(timeout: 1) {
      fault("nothing: the worker's output was closed while the worker kept running")
    }
  }

  /// The channel carried something no worker sends: stop the worker, fail the pending call (via `exited`).
  private func fault(_ what: String) {
    faulted = true
    stop(.channelFault("the worker channel of plugin \(manifest?.id ?? pluginPath) carried \(what)"))
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
    case .notification(WorkerMethod.invoking, let params):
      if let pending, params?["id"].flatMap(RequestID.init(json:)) == pending.id { pluginEntered = true }
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
    _ call: WorkerCall, events: CallEvents, isCancelled: @escaping () -> Bool, timeout: Double, cancelGrace: Double = 2
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
    pluginEntered = false
    response = nil
    condition.unlock()
    let params = (try? JSONCodec.encode(call)) ?? .null
    channel.send(.request(id: id, method: WorkerMethod.call, params: params))

    let started = Date()
    var cancelSentAt: Date?
    var cancelled = false
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
      cancelled = cancelled || cancelNow
      let timedOut = Date().timeIntervalSince(started) > timeout
      if (cancelled || timedOut) && cancelSentAt == nil {
        cancelSentAt = Date()
        channel.send(.notification(method: WorkerMethod.cancel, params: ["id": id.json]))
      }
      if let sent = cancelSentAt, Date().timeIntervalSince(sent) > cancelGrace {
        condition.unlock()
        stop(cancelled ? .cancelled : .callTimeout(timeout))
        condition.lock()
        if cancelled {
          throw ResponseError(.requestCancelled, "cancelled; plugin \(plugin) did not stop within \(Self.seconds(cancelGrace)) s and its worker was stopped",
                              data: ["plugin": .string(plugin)])
        }
        throw ResponseError(.pluginCrashed, "plugin \(plugin) did not answer within \(Self.seconds(timeout)) s; its worker was stopped (a fresh one serves the next request)",
                            data: ["plugin": .string(plugin), "timeoutSeconds": .double(timeout)])
      }
    }
    // The exit can be seen before the last messages the worker wrote are read (`worker/invoking` just before a
    // plugin that crashes at once): give the reader the time to read what is in the pipe, to its end or 1 s
    // (a child the plugin forked may hold the pipe open, and then what was written is read within that time).
    let drainDeadline = Date(timeIntervalSinceNow: 1)
    while response == nil && !pluginEntered && !outputEnded && !faulted && condition.wait(until: drainDeadline) {}
    if let response, case .response(_, let result, let error) = response {
      if let error { throw error }
      return result ?? .null
    }
    let entered = pluginEntered
    condition.unlock()
    defer { condition.lock() }
    throw callFailure(plugin: plugin, entered: entered, inputs: call.inputs)
  }

  /// The error of a call whose worker ended without answering, by what ended it.
  private func callFailure(plugin: String, entered: Bool, inputs: [InputRef]) -> ResponseError {
    var data: JSONObject = ["plugin": .string(plugin), "path": .string(pluginPath)]
    if case .channelFault(let what)? = process.reason {
      data["termination"] = "channel fault"
      return ResponseError(.pluginCrashed, "\(what); its worker was stopped (a fresh one serves the next request)", data: .object(data))
    }
    let how = process.terminationText
    data["termination"] = .string(how)
    if process.normalExitStatus == WorkerExit.channelLost {
      return ResponseError(.pluginCrashed, "plugin \(plugin) closed or replaced the worker's channel to the host while handling the request (\(how)); a fresh worker serves the next request",
                           data: .object(data))
    }
    if !entered {
      // The plugin never got the call: the worker died in its own code, reading or checking the inputs.
      let files = inputs.flatMap { $0.npy.map { [$0] } ?? $0.files ?? [] }
      data["files"] = .array(files.prefix(20).map { .string($0) })
      let shown = files.prefix(3).joined(separator: ", ") + (files.count > 3 ? " and \(files.count - 3) more" : "")
      return ResponseError(.internalError, "confound-worker crashed (\(how)) while reading the request's inputs (\(shown)), before plugin \(plugin) was called: the plugin is not at fault. Check those files; if they are valid, this is a bug in Confound's readers: please report it with the files",
                           data: .object(data))
    }
    return ResponseError(.pluginCrashed, "plugin \(plugin) crashed (\(how)) while handling the request; a fresh worker serves the next request",
                         data: .object(data))
  }

  /// What ended a worker that exited on its own while `during`.
  private func exitReason(during: String) -> String {
    if case .channelFault(let what)? = process.reason { return "\(what); its worker was stopped" }
    return "the plugin crashed while \(during) (\(process.terminationText)): run `confound plugins check \(pluginPath)` to see its own message"
  }

  /// Ends the worker by closing its input; it exits when its current call (if any) is done.
  func close() { try? process.input.close() }

  /// Ends the worker and its process group now.
  func kill() { stop(.shutdown) }

  /// Waits at most `timeout` seconds for the worker to exit.
  func waitForExit(timeout: Double) -> Bool { process.waitForExit(timeout: timeout) }

  static func seconds(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
  }
}

/// The limits a worker runs under, passed to it on its command line.
public struct WorkerLimits: Sendable {
  /// Seconds a plugin may take to load (its entry point, manifest and initialisation).
  public var loadTimeout: Double
  /// The largest message on the worker channel, either way.
  public var maxMessageBytes: Int
  /// The largest image, in samples over all its pages and channels, the worker decodes (nil: the library default).
  public var maxImagePixels: Int?

  public init(loadTimeout: Double = 10, maxMessageBytes: Int = 64 << 20, maxImagePixels: Int? = nil) {
    self.loadTimeout = loadTimeout
    self.maxMessageBytes = maxMessageBytes
    self.maxImagePixels = maxImagePixels
  }

  var arguments: [String] {
    var a = ["--max-message-bytes", String(maxMessageBytes)]
    if let maxImagePixels { a += ["--max-image-pixels", String(maxImagePixels)] }
    return a
  }
}
