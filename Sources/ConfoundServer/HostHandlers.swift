import CConfoundPlugin
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

/// The methods the host answers, wired to the plugin registry. Each handler is a few lines: the work is in
/// PluginHost and in the plugins.
enum HostHandlers {
  static func register(on server: HostServer, registry: PluginRegistry, maxMessageBytes: Int) {
    server.on(InitializeRequest.self, inline: true) { [unowned server] _, _ in
      InitializeRequest.Response(
        serverInfo: .init(name: "confound-host", version: HostMain.version),
        protocolVersion: confoundProtocolVersion,
        capabilities: ServerCapabilities(
          methods: server.methods, abiVersion: Int(CONFOUND_ABI_VERSION), maxMessageBytes: maxMessageBytes,
          pluginIsolation: "process", plugins: registry.plugins, pluginErrors: registry.loadErrors))
    }
    server.on(ShutdownRequest.self, inline: true) { _, _ in .null }
    server.on(PluginsListRequest.self, inline: true) { _, _ in
      PluginsListRequest.Response(plugins: registry.plugins, errors: registry.loadErrors)
    }
    server.on(PluginsLoadRequest.self) { params, _ in
      do {
        return try registry.load(path: params.path)
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
