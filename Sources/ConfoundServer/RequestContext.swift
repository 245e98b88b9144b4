import ConfoundProtocol
import Foundation
import JSONRPC

/// A request's cancellation state, set by `$/cancelRequest` or by shutdown.
public final class CancellationToken: @unchecked Sendable {
  private let lock = NSLock()
  private var cancelled = false
  public init() {}
  public var isCancelled: Bool {
    lock.lock()
    defer { lock.unlock() }
    return cancelled
  }
  public func cancel() {
    lock.lock()
    cancelled = true
    lock.unlock()
  }
}

/// What a handler gets besides its params: the request id, its cancellation token, work-done progress (sent
/// only when the client passed a `workDoneToken`) and the log.
public final class RequestContext: @unchecked Sendable {
  public let id: RequestID
  public let token: CancellationToken
  public let log: HostLog
  private let progressToken: JSONValue?
  private let send: (Message) -> Void
  private let lock = NSLock()
  private var begun = false
  private var lastPercentage = -1
  private var lastStage: Substring?

  init(id: RequestID, token: CancellationToken, progressToken: JSONValue?, log: HostLog, send: @escaping (Message) -> Void) {
    self.id = id
    self.token = token
    self.progressToken = progressToken
    self.log = log
    self.send = send
  }

  /// The request's cancellation as a poll, for readers that take an `isCancelled` hook (LoadDataReader, CSVTable).
  public var isCancelled: () -> Bool { { [token] in token.isCancelled } }

  /// Throws -32800 when the request was cancelled; call between units of work.
  public func checkCancellation() throws {
    if token.isCancelled { throw ResponseError(.requestCancelled, "request \(Truncated.quote(id.description)) was cancelled") }
  }

  /// Starts the progress bar (`$/progress` begin).
  public func beginProgress(_ title: String) {
    guard let progressToken else { return }
    lock.lock()
    begun = true
    lock.unlock()
    notify(progressToken, WorkDoneProgress(kind: .begin, title: title, percentage: 0, cancellable: true))
  }

  /// Reports progress; repeated percentages are not resent.
  public func reportProgress(_ fraction: Double, _ message: String? = nil) {
    guard let progressToken else { return }
    let percentage = Int((min(max(fraction, 0), 1) * 100).rounded(.down))
    lock.lock()
    let stage = WorkDoneProgress.stage(of: message)
    let changed = begun && (percentage != lastPercentage || stage != lastStage)
    lastPercentage = percentage
    lastStage = stage
    lock.unlock()
    if changed { notify(progressToken, WorkDoneProgress(kind: .report, message: message, percentage: percentage)) }
  }

  /// Ends the progress bar (`$/progress` end).
  public func endProgress(_ message: String? = nil) {
    guard let progressToken else { return }
    lock.lock()
    let wasBegun = begun
    begun = false
    lock.unlock()
    if wasBegun { notify(progressToken, WorkDoneProgress(kind: .end, message: message)) }
  }

  private func notify(_ token: JSONValue, _ value: WorkDoneProgress) {
    guard let params = try? JSONCodec.encode(ProgressNotification.Params(token: token, value: value)) else { return }
    send(.notification(method: ProgressNotification.method, params: params))
  }
}

/// The host's log: every line goes to stderr and, once a client is connected, to it as `window/logMessage`.
public final class HostLog: @unchecked Sendable {
  public enum Level: Int, Comparable {
    case error = 1, warning, info, debug
    public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    var label: String { ["", "error", "warning", "info", "debug"][rawValue] }
  }

  private let lock = NSLock()
  private var sink: ((Message) -> Void)?
  public var threshold: Level

  public init(threshold: Level = .info) { self.threshold = threshold }

  func connect(_ sink: @escaping (Message) -> Void) {
    lock.lock()
    self.sink = sink
    lock.unlock()
  }

  public func callAsFunction(_ level: Level, _ message: String) {
    guard level <= threshold else { return }
    let line = "confound-host: \(level.label): \(message)\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    lock.lock()
    let sink = self.sink
    lock.unlock()
    sink?(.notification(method: LogMessageNotification.method,
                        params: ["type": .int(Int64(level.rawValue)), "message": .string(message)]))
  }
}
