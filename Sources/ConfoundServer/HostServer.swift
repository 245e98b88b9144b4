import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

/// The JSON-RPC server over stdin/stdout: lifecycle, dispatch by method, cancellation, batches.
///
/// Handlers are registered by request type (`on(PluginsRunRequest.self) { params, context in ... }`). An `inline`
/// handler runs on the reader thread (fast, never blocking: lifecycle, listings); the others run concurrently on
/// a work queue, so responses may come out of order.
public final class HostServer: @unchecked Sendable {
  public typealias RawHandler = (JSONValue?, RequestContext) throws -> JSONValue

  private struct Handler {
    var inline: Bool
    var body: RawHandler
    /// Set for handlers that produce their result already serialised (cached listings): no tree to write.
    var encoded: ((JSONValue?, RequestContext) throws -> [UInt8])? = nil
  }

  /// A response: a message, or a result already serialised (spliced into the envelope without re-encoding).
  private enum Reply {
    case message(Message)
    case encoded(RequestID, [UInt8])

    var id: RequestID? {
      switch self {
      case .message(.response(let id, _, _)): return id
      case .message: return nil
      case .encoded(let id, _): return id
      }
    }

    var bytes: [UInt8] {
      switch self {
      case .message(let m): return m.bytes
      case .encoded(let id, let result):
        return Array("{\"jsonrpc\":\"2.0\",\"id\":".utf8) + JSONWriter.bytes(id.json) + Array(",\"result\":".utf8) + result + [0x7D]
      }
    }
  }

  /// The most messages one batch may hold (`--max-batch`).
  public static let defaultMaxBatch = 1000

  public let log: HostLog
  /// A batch with more messages is refused whole, before any runs: its responses would be unbounded.
  public let maxBatch: Int
  /// The most bytes a batch's combined response may take; the client reads it as one message.
  public let maxResponseBytes: Int
  private let channel: FrameChannel
  private var handlers: [String: Handler] = [:]
  private var notificationHandlers: [String: (JSONValue?) -> Void] = [:]
  private let lock = NSLock()
  private var inFlight: [RequestID: CancellationToken] = [:]
  private var initialized = false
  private var shuttingDown = false
  private let work = DispatchQueue(label: "confound.host.work", attributes: .concurrent)
  /// Runs when the client sends `exit` or its input ends; the argument is the process exit status.
  public var onExit: (Int32) -> Void = { exit($0) }

  public init(channel: FrameChannel, log: HostLog, maxBatch: Int = HostServer.defaultMaxBatch, maxMessageBytes: Int = 64 << 20) {
    self.channel = channel
    self.log = log
    self.maxBatch = maxBatch
    self.maxResponseBytes = maxMessageBytes
    onNotification(CancelRequestNotification.method) { [unowned self] params in
      guard let id = params?["id"].flatMap(RequestID.init(json:)) else { return }
      lock.lock()
      let token = inFlight[id]
      lock.unlock()
      token?.cancel()
    }
    onNotification(InitializedNotification.method) { _ in }
    onNotification(ExitNotification.method) { [unowned self] _ in
      lock.lock()
      let status: Int32 = shuttingDown ? 0 : 1
      lock.unlock()
      onExit(status)
    }
  }

  /// Registers the handler of a request type.
  public func on<R: RequestType>(_ type: R.Type, inline: Bool = false, _ body: @escaping (R.Params, RequestContext) throws -> R.Response) {
    handlers[R.method] = Handler(inline: inline) { params, context in
      try JSONCodec.encode(try body(try Self.decode(R.self, params), context))
    }
  }

  /// Registers a handler whose result is already serialised JSON bytes (for cached, hot responses).
  public func onEncoded<R: RequestType>(_ type: R.Type, inline: Bool = false, _ body: @escaping (R.Params, RequestContext) throws -> [UInt8]) {
    let encoded = { (params: JSONValue?, context: RequestContext) in try body(try Self.decode(R.self, params), context) }
    handlers[R.method] = Handler(inline: inline, body: { params, context in try JSONParser.parse(try encoded(params, context)) }, encoded: encoded)
  }

  /// Decodes params; `Empty` params skip the decoder (the common case of listings and lifecycle requests).
  private static func decode<R: RequestType>(_ type: R.Type, _ params: JSONValue?) throws -> R.Params {
    if let params, case .array = params {
      throw ResponseError(.invalidParams, "\(R.method) takes named params (an object), not an array")
    }
    if R.Params.self == Empty.self, let empty = Empty() as? R.Params { return empty }
    do {
      return try JSONCodec.decode(R.Params.self, from: params ?? .object(JSONObject()))
    } catch {
      let (field, message) = JSONCodec.describe(error)
      throw ResponseError(.invalidParams, "\(R.method): \(message)", data: field.map { ["field": .string($0)] })
    }
  }

  /// Registers a notification handler (runs on the reader thread).
  public func onNotification(_ method: String, _ body: @escaping (JSONValue?) -> Void) {
    notificationHandlers[method] = body
  }

  /// The methods answered, for `initialize`'s capabilities.
  public var methods: [String] { handlers.keys.sorted() }

  /// Reads messages until stdin ends, then exits with 0 after `shutdown`, 1 otherwise.
  public func run() {
    channel.readLoop { event in
      switch event {
      case .body(let body): handle(Incoming.parse(body))
      case .error(let error):
        log(.error, "framing: \(error)")
        switch error {
        case .truncated, .truncatedHeader: break
        default: channel.send(.failure(nil, ResponseError(.invalidRequest, "framing error: \(error)")))
        }
      }
    }
    // The client is gone: nobody will read answers, so stop the work in flight (finished units stay stored).
    lock.lock()
    inFlight.values.forEach { $0.cancel() }
    lock.unlock()
    let group = DispatchGroup()
    work.async(group: group, flags: .barrier) {}
    _ = group.wait(timeout: .now() + 5)
    lock.lock()
    let status: Int32 = shuttingDown ? 0 : 1
    lock.unlock()
    onExit(status)
  }

  private func handle(_ incoming: Incoming) {
    switch incoming {
    case .single(let item):
      dispatch(item) { [channel] reply in channel.sendBody(reply.bytes) }
    case .batch(let items):
      guard items.count <= maxBatch else {
        channel.send(.failure(nil, ResponseError(
          .invalidRequest, "a batch of \(items.count) messages is over the limit of \(maxBatch) (--max-batch); none of them was run: send them in smaller batches",
          data: ["count": .int(Int64(items.count)), "limit": .int(Int64(maxBatch))])))
        return
      }
      let group = DispatchGroup()
      let collected = BatchResponse(budget: maxResponseBytes)
      for item in items {
        group.enter()
        dispatch(item) { reply in
          collected.add(reply)
          group.leave()
        } onNoResponse: {
          group.leave()
        }
      }
      group.notify(queue: work) { [channel] in
        let parts = collected.parts
        guard !parts.isEmpty else { return }
        channel.sendChunks([[0x5B]] + parts.enumerated().map { i, part in i == 0 ? part : [0x2C] + part } + [[0x5D]])
      }
    }
  }

  /// The responses of one batch as serialised bytes, within a byte budget: each response is encoded as it is
  /// ready and kept only while the total stays under the budget; one that would go over is replaced at once by a
  /// short error with its id, and at the end the largest results are demoted the same way until errors included
  /// the whole fits. So a batch never holds more than the budget plus one short error per message (at most
  /// `--max-batch` of them), and the array sent fits the client's limit whenever its errors alone do.
  private final class BatchResponse: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(bytes: [UInt8], id: RequestID?, demoted: Bool)] = []
    private var used = 2
    private let budget: Int
    init(budget: Int) { self.budget = budget }

    private func demoted(_ id: RequestID?) -> [UInt8] {
      Message.failure(id, ResponseError(
        .invalidRequest, "the batch's responses would exceed \(budget) bytes (--max-message-bytes): send this request alone or in a smaller batch")).bytes
    }

    func add(_ reply: Reply) {
      var bytes = reply.bytes
      lock.lock()
      defer { lock.unlock() }
      let over = used + bytes.count + 1 > budget
      if over { bytes = demoted(reply.id) }
      used += bytes.count + 1
      items.append((bytes, reply.id, over))
    }

    var parts: [[UInt8]] {
      lock.lock()
      defer { lock.unlock() }
      while used > budget, let largest = items.indices.filter({ !items[$0].demoted }).max(by: { items[$0].bytes.count < items[$1].bytes.count }) {
        let replacement = demoted(items[largest].id)
        used += replacement.count - items[largest].bytes.count
        items[largest] = (replacement, items[largest].id, true)
      }
      return items.map(\.bytes)
    }
  }

  private func dispatch(_ item: Result<Message, DecodeFailure>, respond reply: @escaping (Reply) -> Void, onNoResponse: () -> Void = {}) {
    let respond = { (message: Message) in reply(.message(message)) }
    switch item {
    case .failure(let failure):
      respond(.failure(failure.id, failure.error))
    case .success(.notification(let method, let params)):
      if let handler = notificationHandlers[method] {
        handler(params)
      } else if !method.hasPrefix("$/") {
        log(.debug, "ignored notification \(Truncated.quote(method))")
      }
      onNoResponse()
    case .success(.response):
      onNoResponse()
    case .success(.request(let id, let method, let params)):
      if let error = admissionError(method) {
        respond(.failure(id, error))
        return
      }
      guard let handler = handlers[method] else {
        let quoted = Truncated.quote(method)
        respond(.failure(id, ResponseError(.methodNotFound, "unknown method \(quoted)", data: ["method": .string(quoted)])))
        return
      }
      let token = CancellationToken()
      lock.lock()
      inFlight[id] = token
      lock.unlock()
      let context = RequestContext(id: id, token: token, progressToken: params?["workDoneToken"], log: log) { [channel] in channel.send($0) }
      let run = { [self] in
        let response: Reply
        do {
          if token.isCancelled {
            response = .message(.failure(id, ResponseError(.requestCancelled, "request \(Truncated.quote(id.description)) was cancelled")))
          } else if let encoded = handler.encoded {
            response = .encoded(id, try encoded(params, context))
          } else {
            let result = try handler.body(params, context)
            response = token.isCancelled ? .message(.failure(id, ResponseError(.requestCancelled, "request \(Truncated.quote(id.description)) was cancelled"))) : .message(.success(id, result))
          }
        } catch let error as ResponseError {
          response = .message(.failure(id, error))
        } catch {
          response = .message(.failure(id, ResponseError(.internalError, "\(method) failed: \(error)")))
        }
        context.endProgress()
        lock.lock()
        inFlight[id] = nil
        lock.unlock()
        reply(response)
      }
      if handler.inline { run() } else { work.async(execute: run) }
    }
  }

  /// The lifecycle rules of LSP: nothing but `initialize` before it, nothing after `shutdown`.
  private func admissionError(_ method: String) -> ResponseError? {
    lock.lock()
    defer { lock.unlock() }
    if method == InitializeRequest.method {
      if initialized { return ResponseError(.invalidRequest, "initialize was already received") }
      initialized = true
      // LSP: no notification before initialize; from now on log lines also reach the client.
      log.connect { [channel] in channel.send($0) }
      return nil
    }
    if !initialized {
      return ResponseError(.serverNotInitialized, "send initialize first (request \(Truncated.quote(method)) arrived before it)")
    }
    if shuttingDown { return ResponseError(.invalidRequest, "the host is shutting down; only exit is accepted") }
    if method == ShutdownRequest.method {
      shuttingDown = true
      inFlight.values.forEach { $0.cancel() }
    }
    return nil
  }
}
