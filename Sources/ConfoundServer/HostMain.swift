import CConfoundPlugin
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

/// `confound-host [--plugin-dir DIR]... [--max-message-bytes N] [--workers N] [--no-builtin-plugins] [--log-level L]`
public enum HostMain {
  public static let version = "0.1.0"

  struct Options {
    var pluginDirs: [String] = []
    var maxMessageBytes = 64 << 20
    var workers = 2
    var builtins = true
    var logLevel = HostLog.Level.info
  }

  static func parse(_ arguments: [String]) throws -> Options {
    var options = Options()
    var it = arguments.dropFirst().makeIterator()
    func value(_ flag: String) throws -> String {
      guard let v = it.next() else { throw UsageError("\(flag) needs a value") }
      return v
    }
    while let arg = it.next() {
      switch arg {
      case "--plugin-dir": options.pluginDirs.append(try value(arg))
      case "--max-message-bytes":
        guard let n = Int(try value(arg)), n > 0 else { throw UsageError("--max-message-bytes takes a positive integer") }
        options.maxMessageBytes = n
      case "--workers":
        guard let n = Int(try value(arg)), n > 0 else { throw UsageError("--workers takes a positive integer") }
        options.workers = n
      case "--no-builtin-plugins": options.builtins = false
      case "--log-level":
        let name = try value(arg)
        guard let level = ["error": HostLog.Level.error, "warning": .warning, "info": .info, "debug": .debug][name] else {
          throw UsageError("--log-level takes error, warning, info or debug")
        }
        options.logLevel = level
      case "--help", "-h":
        throw UsageError("usage: confound-host [--plugin-dir DIR]... [--max-message-bytes N] [--workers N] [--no-builtin-plugins] [--log-level L]\nSpeaks JSON-RPC 2.0 with LSP framing on stdin/stdout; see Protocol/README.md.")
      default: throw UsageError("unknown option \(arg); see --help")
      }
    }
    return options
  }

  struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
  }

  public static func run(arguments: [String]) -> Never {
    let options: Options
    do { options = try parse(arguments) } catch {
      FileHandle.standardError.write(Data("\(error)\n".utf8))
      exit(2)
    }
    // stdout belongs to the protocol: keep a private copy and point fd 1 at stderr, so a stray print cannot
    // corrupt the stream. Broken pipes are errors to handle, not signals to die of.
    signal(SIGPIPE, SIG_IGN)
    let protocolFD = dup(1)
    dup2(2, 1)
    let log = HostLog(threshold: options.logLevel)
    let channel = FrameChannel(readFD: 0, writeFD: protocolFD, maxBodyBytes: options.maxMessageBytes)
    let hostDir = PluginDiscovery.executableDirectory
    let worker = ProcessInfo.processInfo.environment["CONFOUND_WORKER"] ?? (hostDir as NSString).appendingPathComponent("confound-worker")
    let registry = PluginRegistry(workerExecutable: worker, maxWorkersPerPlugin: options.workers)
    let candidates = PluginDiscovery.candidates(
      hostDirectory: options.builtins ? hostDir : "/nonexistent", pluginDirs: options.pluginDirs,
      environment: ProcessInfo.processInfo.environment)
    registry.loadAll(paths: candidates) { log(.error, "plugin not loaded: \($0)") }

    let server = HostServer(channel: channel, log: log)
    server.onExit = { status in
      registry.shutdown()
      exit(status)
    }
    HostHandlers.register(on: server, registry: registry, maxMessageBytes: options.maxMessageBytes)
    HostHandlers.registerFocus(on: server, registry: registry)
    HostHandlers.registerSegment(on: server, registry: registry)
    HostHandlers.registerEmbed(on: server, registry: registry)
    HostHandlers.registerAudit(on: server, registry: registry)
    HostHandlers.registerProbe(on: server, registry: registry)
    HostHandlers.registerProject(on: server)
    HostHandlers.registerScreen(on: server)
    HostHandlers.registerMerge(on: server)
    server.run()
    exit(1)
  }
}
