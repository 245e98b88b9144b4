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
      FileHandle.standardError.write(Data("usage: confound-worker --plugin FILE.so [--host-pid PID] [--max-message-bytes N] [--max-image-pixels N]\n".utf8))
      return 2
    }
    func number(_ name: String) -> Int? {
      arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? Int(arguments[$0 + 1]) : nil }
    }
    // A process group of our own: the host ends the group, so children a plugin forks end with the worker; and
    // when the host dies without ending it (SIGKILL), the worker ends it (ParentWatch).
    _ = setpgid(0, 0)
    ParentWatch.start(host: number("--host-pid").map { pid_t($0) } ?? getppid())
    let maxMessageBytes = number("--max-message-bytes") ?? 64 << 20
    if let pixels = number("--max-image-pixels") { ImageLimits.maxDecodedSamples = pixels }
    // The protocol gets a private copy of stdout; fd 1 then points at stderr, so a plugin that prints cannot
    // corrupt the stream.
    let protocolFD = dup(1)
    dup2(2, 1)
    let channel = FrameChannel(readFD: 0, writeFD: protocolFD, maxBodyBytes: maxMessageBytes)
    let path = arguments[flag + 1]
    let library: PluginLibrary
    do {
      library = try PluginLibrary(path: path)
    } catch {
      let reason = (error as? PluginLoadError)?.reason ?? "\(error)"
      channel.send(.notification(method: WorkerMethod.loadFailed, params: ["reason": .string(reason)]))
      return WorkerExit.loadFailed
    }
    let manifest = (try? JSONCodec.encode(library.manifest)) ?? .null
    channel.send(.notification(method: WorkerMethod.ready, params: ["manifest": manifest]))
    Server(library: library, channel: channel, protocolFD: protocolFD, maxMessageBytes: maxMessageBytes).serve()
    return 0
  }

  /// Leaves at once with `status`, taking the plugin's forked children along when the worker leads its group.
  static func leave(_ status: Int32) -> Never {
    if getpgrp() == getpid() { killGroupMembers() }
    exit(status)
  }

  /// SIGKILL to every other process of our group (found in /proc), so that the exit status stays ours.
  private static func killGroupMembers() {
    let me = getpid()
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
    for name in names {
      guard let pid = Int32(name), pid != me,
        let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { continue }
      // Fields after the command: state, ppid, pgrp.
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      if fields.count > 2, Int32(fields[2]) == me { kill(pid, SIGKILL) }
    }
  }

  /// The identity (device, inode) of a descriptor, to notice a plugin closing or replacing the channel's.
  static func identity(_ fd: Int32) -> [UInt64]? {
    var info = stat()
    guard fstat(fd, &info) == 0 else { return nil }
    return [UInt64(info.st_dev), UInt64(info.st_ino)]
  }

  /// Receives calls on a reader thread (so a cancel can arrive mid-call) and runs them on the main thread.
  final class Server: @unchecked Sendable {
    let library: PluginLibrary
    let channel: FrameChannel
    let maxMessageBytes: Int
    /// What the channel's descriptors were at start; a plugin that closes or dup2()s over them breaks the channel.
    private let channelIdentity: [[UInt64]?]
    private let protocolFD: Int32
    private let condition = NSCondition()
    private var queue: [(RequestID, WorkerCall)] = []
    private var current: RequestID?
    private var cancelled = false
    private var sequence = 0

    init(library: PluginLibrary, channel: FrameChannel, protocolFD: Int32, maxMessageBytes: Int) {
      self.library = library
      self.channel = channel
      self.protocolFD = protocolFD
      self.maxMessageBytes = maxMessageBytes
      channelIdentity = [WorkerMain.identity(0), WorkerMain.identity(protocolFD)]
    }

    /// Sends to the host; a channel that no longer works (the plugin closed or replaced it) ends the worker with
    /// `WorkerExit.channelLost`, which the host reports as the plugin's doing.
    private func send(_ message: Message) {
      if !channel.send(message) { WorkerMain.leave(WorkerExit.channelLost) }
    }

    /// Exits with `channelLost` when a plugin call closed or replaced the channel's descriptors.
    private func checkChannel() {
      if [WorkerMain.identity(0), WorkerMain.identity(protocolFD)] != channelIdentity {
        WorkerMain.leave(WorkerExit.channelLost)
      }
    }

    func serve() {
      let reader = Thread { [self] in
        channel.readLoop { event in
          guard case .body(let body) = event, case .single(.success(let message)) = Incoming.parse(body) else { return }
          receive(message)
        }
        // The host closed our input or died: leave at once, even from inside a plugin call that never returns.
        // Input that ended because a plugin closed or replaced descriptor 0 is the plugin's doing: say so.
        WorkerMain.leave(WorkerMain.identity(0) == channelIdentity[0] ? 0 : WorkerExit.channelLost)
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
          send(.failure(id, ResponseError(.invalidParams, "malformed worker/call")))
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
      // A plugin's progress and log text is cut to a few KiB: a line must never outgrow the channel.
      let services = HostServices(
        isCancelled: { [unowned self] in isCancelled },
        progress: { [unowned self] fraction, message in
          var params: JSONObject = ["id": id.json, "fraction": .double(fraction)]
          if let message { params["message"] = .string(Truncated.quote(message, limit: 4096)) }
          send(.notification(method: WorkerMethod.progress, params: .object(params)))
        },
        log: { [unowned self] level, message in
          send(.notification(method: WorkerMethod.log, params: ["id": id.json, "level": .int(Int64(level)), "message": .string(Truncated.quote(message, limit: 4096))]))
        })
      do {
        let (params, inputs) = try PluginInvocation.prepare(call)
        // From here a crash is the plugin's: the host attributes it by this notification.
        send(.notification(method: WorkerMethod.invoking, params: ["id": id.json]))
        let result = try library.invoke(method: call.method, params: params, inputs: inputs, host: services)
        checkChannel()
        sendBounded(try response(id, result, outputDir: call.outputDir), id: id)
      } catch let error as ResponseError {
        checkChannel()
        sendBounded(.failure(id, error), id: id)
      } catch {
        checkChannel()
        send(.failure(id, ResponseError(.pluginError, Truncated.quote("\(error)", limit: 4096), data: ["plugin": .string(library.manifest.id)])))
      }
    }

    /// Sends a response, or, when it is over the channel's limit, an error saying so: a result the host cannot
    /// read must not vanish (the host would wait for it until its timeout).
    private func sendBounded(_ message: Message, id: RequestID) {
      let body = message.bytes
      guard body.count > maxMessageBytes else {
        if !channel.sendBody(body) { WorkerMain.leave(WorkerExit.channelLost) }
        return
      }
      let plugin = library.manifest.id
      send(.failure(id, ResponseError(
        .pluginError, "plugin \(plugin) returned a result of \(body.count) bytes, over the worker channel's limit of \(maxMessageBytes) bytes: return large data as output tensors (cf_result.outputs), or start the host with a larger --max-message-bytes",
        data: ["plugin": .string(plugin), "bytes": .int(Int64(body.count)), "limit": .int(Int64(maxMessageBytes))])))
    }

    private func response(_ id: RequestID, _ result: PluginLibrary.CallResult, outputDir: String) throws -> Message {
      sequence += 1
      switch try PluginInvocation.answer(result, plugin: library.manifest.id, outputDir: outputDir, sequence: sequence) {
      case .success(let value): return .success(id, value)
      case .failure(let error): return .failure(id, error)
      }
    }
  }
}
