import CConfoundPlugin
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC

#if canImport(Glibc)
  import Glibc
#endif

/// The body of `confound-worker --plugin FILE.so`: opens one plugin and serves the host's calls, one at a time,
/// until its standard input closes. A crash here costs the host one request, never the host itself.
public enum WorkerMain {
  public static func run(arguments: [String]) -> Int32 {
    guard let flag = arguments.firstIndex(of: "--plugin"), flag + 1 < arguments.count else {
      FileHandle.standardError.write(Data("usage: confound-worker --plugin FILE.so\n".utf8))
      return 2
    }
    // The protocol gets a private copy of stdout; fd 1 then points at stderr, so a plugin that prints cannot
    // corrupt the stream.
    let protocolFD = dup(1)
    dup2(2, 1)
    let channel = FrameChannel(readFD: 0, writeFD: protocolFD)
    let path = arguments[flag + 1]
    let library: PluginLibrary
    do {
      library = try PluginLibrary(path: path)
    } catch {
      let reason = (error as? PluginLoadError)?.reason ?? "\(error)"
      channel.send(.notification(method: WorkerMethod.loadFailed, params: ["reason": .string(reason)]))
      return 3
    }
    let manifest = (try? JSONCodec.encode(library.manifest)) ?? .null
    channel.send(.notification(method: WorkerMethod.ready, params: ["manifest": manifest]))
    Server(library: library, channel: channel).serve()
    return 0
  }

  /// Receives calls on a reader thread (so a cancel can arrive mid-call) and runs them on the main thread.
  final class Server: @unchecked Sendable {
    let library: PluginLibrary
    let channel: FrameChannel
    private let condition = NSCondition()
    private var queue: [(RequestID, WorkerCall)] = []
    private var current: RequestID?
    private var cancelled = false
    private var sequence = 0

    init(library: PluginLibrary, channel: FrameChannel) {
      self.library = library
      self.channel = channel
    }

    func serve() {
      let reader = Thread { [self] in
        channel.readLoop { event in
          guard case .body(let body) = event, case .single(.success(let message)) = Incoming.parse(body) else { return }
          receive(message)
        }
        // The host closed our input or died: leave at once, even from inside a plugin call that never returns.
        exit(0)
      }
      reader.start()
      while let (id, call) = next() { execute(id, call) }
    }

    private func receive(_ message: Message) {
      condition.lock()
      defer { condition.unlock() }
      switch message {
      case .request(let id, WorkerMethod.call, let params?):
        if let call = try? JSONCodec.decode(WorkerCall.self, from: params) {
          queue.append((id, call))
          condition.broadcast()
        } else {
          channel.send(.failure(id, ResponseError(.invalidParams, "malformed worker/call")))
        }
      case .notification(WorkerMethod.cancel, let params):
        if let id = params?["id"].flatMap(RequestID.init(json:)), id == current { cancelled = true }
      default:
        break
      }
    }

    private func next() -> (RequestID, WorkerCall)? {
      condition.lock()
      defer { condition.unlock() }
      while queue.isEmpty { condition.wait() }
      let item = queue.removeFirst()
      current = item.0
      cancelled = false
      return item
    }

    private var isCancelled: Bool {
      condition.lock()
      defer { condition.unlock() }
      return cancelled
    }

    private func execute(_ id: RequestID, _ call: WorkerCall) {
      let services = HostServices(
        isCancelled: { [unowned self] in isCancelled },
        progress: { [channel] fraction, message in
          var params: JSONObject = ["id": id.json, "fraction": .double(fraction)]
          if let message { params["message"] = .string(message) }
          channel.send(.notification(method: WorkerMethod.progress, params: .object(params)))
        },
        log: { [channel] level, message in
          channel.send(.notification(method: WorkerMethod.log, params: ["id": id.json, "level": .int(Int64(level)), "message": .string(message)]))
        })
      do {
        let loaded = try call.inputs.map { ($0.name, try InputLoader.load($0)) }
        var params = call.params
        if let scale = loaded.compactMap({ $0.1.integerScale }).max(), case .object(var object) = params {
          var context = object["context"]?.objectValue ?? JSONObject()
          context["image_scale"] = .double(Double(scale))
          object["context"] = .object(context)
          params = .object(object)
        }
        let inputs = loaded.map { ($0.0, $0.1.array) }
        let result = try library.invoke(method: call.method, params: params, inputs: inputs, host: services)
        channel.send(try response(id, result, outputDir: call.outputDir))
      } catch let error as ResponseError {
        channel.send(.failure(id, error))
      } catch {
        channel.send(.failure(id, ResponseError(.pluginError, "\(error)", data: ["plugin": .string(library.manifest.id)])))
      }
    }

    private func response(_ id: RequestID, _ result: PluginLibrary.CallResult, outputDir: String) throws -> Message {
      let plugin = JSONValue.string(library.manifest.id)
      func failure(_ code: ErrorCode) -> Message {
        var data = result.json["data"]?.objectValue ?? JSONObject()
        data["plugin"] = plugin
        let message = result.json["message"]?.stringValue ?? "plugin \(library.manifest.id) failed"
        return .failure(id, ResponseError(code, message, data: .object(data)))
      }
      switch result.status {
      case CF_OK: break
      case CF_ERROR_INVALID_PARAMS: return failure(.invalidParams)
      case CF_ERROR_CANCELLED: return failure(.requestCancelled)
      case CF_ERROR_BAD_INPUT: return failure(.badInputFile)
      default: return failure(.pluginError)
      }
      try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
      sequence += 1
      var refs: [JSONValue] = []
      for (name, array) in result.outputs {
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" })
        let path = (outputDir as NSString).appendingPathComponent("\(getpid())-\(sequence)-\(safe).npy")
        try array.write(to: URL(fileURLWithPath: path))
        let ref = TensorRef(name: name, path: path, dtype: array.dtype.rawValue, shape: array.shape)
        refs.append(try JSONCodec.encode(ref))
      }
      return .success(id, ["result": result.json, "outputs": .array(refs)])
    }
  }
}
