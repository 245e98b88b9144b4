import JSONRPC

/// `plugins/list`: every loaded plugin, and every plugin file that failed to load with its reason.
public enum PluginsListRequest: RequestType {
  public static let method = "plugins/list"
  public typealias Params = Empty
  public struct Response: Codable, Sendable {
    public var plugins: [PluginInfo]
    public var errors: [PluginLoadError]
    public init(plugins: [PluginInfo], errors: [PluginLoadError]) {
      self.plugins = plugins
      self.errors = errors
    }
  }
}

/// `plugins/load`: loads one more plugin `.so` at run time. Fails with 1001 and the reason.
public enum PluginsLoadRequest: RequestType {
  public static let method = "plugins/load"
  public struct Params: Codable, Sendable {
    public var path: String
    public init(path: String) { self.path = path }
  }
  public typealias Response = PluginInfo
}

/// `plugins/run`: runs one plugin's operation on inputs given by reference (image files or .npy arrays).
/// Large outputs come back as references to .npy files in `outputDir`; the JSON result is the plugin's summary.
public enum PluginsRunRequest: RequestType {
  public static let method = "plugins/run"
  public struct Params: Codable, Sendable {
    /// A plugin id; when absent, the default plugin of `kind`.
    public var plugin: String?
    public var kind: PluginKind?
    /// Defaults to the kind's operation.
    public var method: String?
    /// Checked against the manifest: unknown names, wrong types and out-of-range values are -32602.
    public var parameters: JSONObject?
    /// Free-form context passed through to the plugin (plate, well, site, channel names, covariates).
    public var context: JSONValue?
    public var inputs: [InputRef]
    /// Where output tensors are written as .npy; a fresh temporary folder when absent.
    public var outputDir: String?
    /// Stop the plugin (and fail with 1002) when it has not answered after this many seconds.
    public var timeoutSeconds: Double?
    public init(
      plugin: String? = nil, kind: PluginKind? = nil, method: String? = nil, parameters: JSONObject? = nil,
      context: JSONValue? = nil, inputs: [InputRef] = [], outputDir: String? = nil, timeoutSeconds: Double? = nil
    ) {
      self.plugin = plugin
      self.kind = kind
      self.method = method
      self.parameters = parameters
      self.context = context
      self.inputs = inputs
      self.outputDir = outputDir
      self.timeoutSeconds = timeoutSeconds
    }
  }

  public struct Response: Codable, Sendable {
    public var plugin: String
    public var result: JSONValue
    public var outputs: [TensorRef]
    public init(plugin: String, result: JSONValue, outputs: [TensorRef]) {
      self.plugin = plugin
      self.result = result
      self.outputs = outputs
    }
  }
}

/// An input tensor by reference: image files stacked as channels ([C, H, W] float32), or one .npy array.
public struct InputRef: Codable, Hashable, Sendable {
  public var name: String
  /// Image files (TIFF or PNG), one per channel, all the same size.
  public var files: [String]?
  /// A .npy array, passed with its own dtype and shape.
  public var npy: String?
  public init(name: String, files: [String]? = nil, npy: String? = nil) {
    self.name = name
    self.files = files
    self.npy = npy
  }
}

/// An output tensor written by the host as a .npy file.
public struct TensorRef: Codable, Hashable, Sendable {
  public var name: String
  public var path: String
  public var dtype: String
  public var shape: [Int]
  public init(name: String, path: String, dtype: String, shape: [Int]) {
    self.name = name
    self.path = path
    self.dtype = dtype
    self.shape = shape
  }
}
