import JSONRPC

/// `initialize`: the first request of a session. Before it, every other request fails with -32002.
public enum InitializeRequest: RequestType {
  public static let method = "initialize"

  public struct Params: Codable, Sendable {
    public struct ClientInfo: Codable, Sendable {
      public var name: String
      public var version: String?
      public init(name: String, version: String? = nil) {
        self.name = name
        self.version = version
      }
    }
    public var processId: Int?
    public var clientInfo: ClientInfo?
    /// The protocol version the client speaks; the host answers with its own.
    public var protocolVersion: String?
    public init(processId: Int? = nil, clientInfo: ClientInfo? = nil, protocolVersion: String? = confoundProtocolVersion) {
      self.processId = processId
      self.clientInfo = clientInfo
      self.protocolVersion = protocolVersion
    }
  }

  public struct Response: Codable, Sendable {
    public struct ServerInfo: Codable, Sendable {
      public var name: String
      public var version: String
      public init(name: String, version: String) {
        self.name = name
        self.version = version
      }
    }
    public var serverInfo: ServerInfo
    public var protocolVersion: String
    public var capabilities: ServerCapabilities
    public init(serverInfo: ServerInfo, protocolVersion: String, capabilities: ServerCapabilities) {
      self.serverInfo = serverInfo
      self.protocolVersion = protocolVersion
      self.capabilities = capabilities
    }
  }
}

/// What the host offers: its methods, limits, how it isolates plugins, and every plugin loaded.
public struct ServerCapabilities: Codable, Sendable {
  public var methods: [String]
  public var abiVersion: Int
  public var maxMessageBytes: Int
  /// "process": each plugin runs in worker processes, so a crash or hang costs one request, not the host.
  public var pluginIsolation: String
  public var plugins: [PluginInfo]
  public var pluginErrors: [PluginLoadError]
  public init(
    methods: [String], abiVersion: Int, maxMessageBytes: Int, pluginIsolation: String, plugins: [PluginInfo],
    pluginErrors: [PluginLoadError]
  ) {
    self.methods = methods
    self.abiVersion = abiVersion
    self.maxMessageBytes = maxMessageBytes
    self.pluginIsolation = pluginIsolation
    self.plugins = plugins
    self.pluginErrors = pluginErrors
  }
}

/// A loaded plugin as the host reports it: its manifest, where it came from, whether it is its kind's default.
public struct PluginInfo: Codable, Hashable, Sendable {
  public var manifest: PluginManifest
  public var path: String
  public var isDefault: Bool
  public init(manifest: PluginManifest, path: String, isDefault: Bool) {
    self.manifest = manifest
    self.path = path
    self.isDefault = isDefault
  }
}

/// A plugin file the host found but could not load, with the reason and what to do.
public struct PluginLoadError: Codable, Hashable, Sendable, Error, CustomStringConvertible {
  public var path: String
  public var reason: String
  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }
  public var description: String { "\(path): \(reason)" }
}
