import CConfoundPlugin
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

/// The methods the host answers, wired to the plugin registry. Each handler is a few lines: the work is in
/// PluginHost and in the plugins.
enum HostHandlers {
  /// One value computed per key, recomputed when the key changes (thread-safe).
  final class CachedValue<Key: Equatable, Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var cached: (Key, Value)?
    func value(for key: Key, _ make: () throws -> Value) rethrows -> Value {
      lock.lock()
      defer { lock.unlock() }
      if let cached, cached.0 == key { return cached.1 }
      let value = try make()
      cached = (key, value)
      return value
    }
  }

  /// Every method of the host, on `server`: what `confound-host` serves, and what an in-process test serves.
  static func registerAll(on server: HostServer, registry: PluginRegistry, maxMessageBytes: Int) {
    register(on: server, registry: registry, maxMessageBytes: maxMessageBytes)
    registerFocus(on: server, registry: registry)
    registerSegment(on: server, registry: registry)
    registerEmbed(on: server, registry: registry)
    registerAudit(on: server, registry: registry)
    registerProbe(on: server, registry: registry)
    registerExplain(on: server, registry: registry)
    registerProject(on: server)
    registerScreen(on: server)
    registerDesign(on: server)
    registerMerge(on: server)
  }

  static func register(on server: HostServer, registry: PluginRegistry, maxMessageBytes: Int) {
    // Not inline: it waits (boundedly, --plugin-load-timeout) for the startup plugins, and the reader thread must go
    // on meanwhile, so that shutdown, exit and end of input are still heard.
    server.on(InitializeRequest.self) { [unowned server] _, _ in
      registry.waitForStartup()
      return InitializeRequest.Response(
        serverInfo: .init(name: "confound-host", version: HostMain.version),
        protocolVersion: confoundProtocolVersion,
        capabilities: ServerCapabilities(
          methods: server.methods, abiVersion: Int(CONFOUND_ABI_VERSION), maxMessageBytes: maxMessageBytes,
          pluginIsolation: "process", plugins: registry.plugins, pluginErrors: registry.loadErrors))
    }
    server.on(ShutdownRequest.self, inline: true) { _, _ in .null }
    // The listing changes only when a plugin loads: encode it once per registry generation.
    let listing = CachedValue<Int, [UInt8]>()
    server.onEncoded(PluginsListRequest.self) { _, _ in
      registry.waitForStartup()
      return try listing.value(for: registry.generation) {
        JSONWriter.bytes(try JSONCodec.encode(PluginsListRequest.Response(plugins: registry.plugins, errors: registry.loadErrors)))
      }
    }
    server.on(PluginsLoadRequest.self) { params, context in
      do {
        return try registry.load(path: params.path, isCancelled: { context.token.isCancelled })
      } catch let error as PluginLoadError {
        throw ResponseError(.pluginLoadFailed, "plugin \(error.path) not loaded: \(error.reason)",
                            data: ["plugin": .string(error.path), "reason": .string(error.reason)])
      }
    }
    server.on(PluginsRunRequest.self) { params, context in
      context.beginProgress("plugins/run \(params.plugin ?? params.kind?.rawValue ?? "")")
      return try registry.run(
        params, isCancelled: { context.token.isCancelled },
        progress: { fraction, message in context.reportProgress(fraction, message) },
        log: { level, message in context.log(HostLog.Level(rawValue: Int(level)) ?? .info, message) })
    }
  }
}

extension HostHandlers {
  /// `focus/score`: one plugins/run per site, as many at once as the plugin has workers.
  static func registerFocus(on server: HostServer, registry: PluginRegistry) {
    server.on(FocusScoreRequest.self) { params, context in
      context.beginProgress("focus")
      let sites = params.images
      var results = [FocusScoreRequest.SiteFocus?](repeating: nil, count: sites.count)
      let lock = NSLock()
      var done = 0
      var pluginID = params.plugin ?? ""
      DispatchQueue.concurrentPerform(iterations: min(registry.maxWorkersPerPlugin, max(sites.count, 1))) { lane in
        for i in stride(from: lane, to: sites.count, by: registry.maxWorkersPerPlugin) where !context.token.isCancelled {
          let run = PluginsRunRequest.Params(
            plugin: params.plugin, kind: .focus, parameters: params.parameters,
            context: params.channels.map { ["channels": .array($0.map(JSONValue.string))] },
            inputs: [InputRef(name: "image", files: sites[i])])
          let site: FocusScoreRequest.SiteFocus
          do {
            let response = try registry.run(run, isCancelled: { context.token.isCancelled }, progress: { _, _ in }, log: { _, _ in })
            lock.lock()
            pluginID = response.plugin
            lock.unlock()
            site = .init(files: sites[i], result: response.result, error: nil)
          } catch let error as ResponseError {
            site = .init(files: sites[i], result: nil, error: error)
          } catch {
            site = .init(files: sites[i], result: nil, error: ResponseError(.internalError, "\(error)"))
          }
          lock.lock()
          results[i] = site
          done += 1
          let fraction = Double(done) / Double(sites.count)
          lock.unlock()
          context.reportProgress(fraction, "\(done)/\(sites.count) sites")
        }
      }
      try context.checkCancellation()
      if let first = results.compactMap({ $0 }).first?.error, results.allSatisfy({ $0?.error != nil }),
        [ErrorCode.invalidParams, .pluginNotFound].contains(first.code)
      {
        throw first
      }
      // When every site failed no response named the plugin: name the one that would have run.
      if pluginID.isEmpty { pluginID = registry.plugins.first { $0.manifest.kind == .focus && $0.isDefault }?.manifest.id ?? "" }
      return FocusScoreRequest.Response(plugin: pluginID, sites: results.map { $0! })
    }
  }
}

extension HostHandlers {
  /// `audit/run`: the whole audit of a screen (see AuditRunner).
  static func registerAudit(on server: HostServer, registry: any PluginRunner) {
    server.on(AuditRequest.self) { params, context in
      try Audit(params: params, plugins: registry, context: context).run()
    }
  }
}
