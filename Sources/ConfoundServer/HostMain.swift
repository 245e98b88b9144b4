import CConfoundPlugin
import ConfoundProtocol
import Foundation
import JSONRPC
import ConfoundImaging
import PluginHost

/// `confound-host [--plugin-dir DIR]... [--max-message-bytes N] [--max-batch N] [--max-image-pixels N]
/// [--plugin-load-timeout S] [--plugin-timeout S] [--workers N] [--no-builtin-plugins] [--log-level L]`
public enum HostMain {
  public static let version = "0.1.0"

  /// The signal handlers, held for the life of the process (a source that is released stops delivering).
  nonisolated(unsafe) private static var signalSources: [DispatchSourceSignal] = []

  struct Options {
    var pluginDirs: [String] = []
    var maxMessageBytes = 64 << 20
    var maxBatch = HostServer.defaultMaxBatch
    var maxImagePixels = ImageLimits.defaultMaxDecodedSamples
    var pluginLoadTimeout = 10.0
    var pluginTimeout = 600.0
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
      case "--max-batch":
        guard let n = Int(try value(arg)), n > 0 else { throw UsageError("--max-batch takes a positive integer") }
        options.maxBatch = n
      case "--max-image-pixels":
        guard let n = Int(try value(arg)), n > 0 else { throw UsageError("--max-image-pixels takes a positive integer (samples: width x height x channels)") }
        options.maxImagePixels = n
      case "--plugin-load-timeout", "--plugin-timeout":
        guard let t = Double(try value(arg)), t > 0, t.isFinite else { throw UsageError("\(arg) takes a positive number of seconds") }
        if arg == "--plugin-timeout" { options.pluginTimeout = t } else { options.pluginLoadTimeout = t }
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
        throw UsageError("""
          usage: confound-host [--plugin-dir DIR]... [--max-message-bytes N] [--max-batch N] [--max-image-pixels N]
                               [--plugin-load-timeout S] [--plugin-timeout S] [--workers N] [--no-builtin-plugins] [--log-level L]
          Speaks JSON-RPC 2.0 with LSP framing on stdin/stdout; see Protocol/README.md ("Limits" has every default).
          """)
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
    ImageLimits.maxDecodedSamples = options.maxImagePixels
    for stale in PluginRegistry.removeStaleScratchDirectories() { log(.debug, "removed \(stale), left by a host that has gone") }
    let hostDir = PluginDiscovery.executableDirectory
    let worker = ProcessInfo.processInfo.environment["CONFOUND_WORKER"] ?? (hostDir as NSString).appendingPathComponent("confound-worker")
    let limits = WorkerLimits(loadTimeout: options.pluginLoadTimeout, maxMessageBytes: options.maxMessageBytes,
                              maxImagePixels: options.maxImagePixels)
    let registry = PluginRegistry(workerExecutable: worker, maxWorkersPerPlugin: options.workers, limits: limits,
                                  defaultCallTimeout: options.pluginTimeout)
    let candidates = PluginDiscovery.candidates(
      hostDirectory: options.builtins ? hostDir : "/nonexistent", pluginDirs: options.pluginDirs,
      environment: ProcessInfo.processInfo.environment)
    // In the background, all at once: the reader below answers shutdown, exit and end of input meanwhile.
    registry.loadAll(paths: candidates) { log(.error, "plugin not loaded: \($0)") }

    let server = HostServer(channel: channel, log: log, maxBatch: options.maxBatch, maxMessageBytes: options.maxMessageBytes)
    let ending = NSLock()
    server.onExit = { status in
      // Once: a signal may arrive while an exit is under way.
      ending.lock()
      registry.shutdown()
      exit(status)
    }
    // SIGTERM, SIGINT and SIGHUP end the host the way `exit` does (workers ended, scratch folder removed), with the
    // status a shell expects of a signal, 128 + its number.
    signalSources = [SIGTERM, SIGINT, SIGHUP].map { number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        log(.info, "stopping on \(String(cString: strsignal(number)))")
        server.onExit(128 + number)
      }
      source.resume()
      return source
    }
    HostHandlers.registerAll(on: server, registry: registry, maxMessageBytes: options.maxMessageBytes)
    server.run()
    exit(1)
  }
}
