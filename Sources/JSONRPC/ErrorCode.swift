/// A JSON-RPC error code. The reserved range (-32768 ... -32000) follows JSON-RPC 2.0 and LSP; Confound's own
/// codes are positive, outside it. Protocol/README.md has the table users see.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// The message is not valid JSON (or not valid UTF-8). The response has id null.
  public static let parseError = ErrorCode(rawValue: -32700)
  /// Valid JSON, but not a JSON-RPC 2.0 request object (or a framing error: bad Content-Length, too large).
  public static let invalidRequest = ErrorCode(rawValue: -32600)
  /// No handler for the method.
  public static let methodNotFound = ErrorCode(rawValue: -32601)
  /// The params do not fit the method: wrong type, missing or out-of-range field; `data.field` names it.
  public static let invalidParams = ErrorCode(rawValue: -32602)
  /// A bug in the host: the request could not be answered. `data` says what failed.
  public static let internalError = ErrorCode(rawValue: -32603)
  /// A request other than `initialize` arrived before `initialize` (LSP's ServerNotInitialized).
  public static let serverNotInitialized = ErrorCode(rawValue: -32002)
  /// The client cancelled the request with `$/cancelRequest` (LSP's RequestCancelled).
  public static let requestCancelled = ErrorCode(rawValue: -32800)

  /// A plugin could not be loaded: not a plugin, missing entry symbol, ABI too new, invalid manifest.
  /// `data.plugin` is its path, `data.reason` the cause.
  public static let pluginLoadFailed = ErrorCode(rawValue: 1001)
  /// A plugin's worker process died during the request (segfault, trap, abort) or was stopped because it
  /// did not answer in time. `data.plugin`, `data.termination` (e.g. "signal 11, Segmentation fault"). Later
  /// requests get a fresh worker.
  public static let pluginCrashed = ErrorCode(rawValue: 1002)
  /// A plugin ran and reported an error of its own. `data.plugin`, plus the plugin's own `data`.
  public static let pluginError = ErrorCode(rawValue: 1003)
  /// An input file is missing, unreadable or corrupt. `data.file` names it.
  public static let badInputFile = ErrorCode(rawValue: 1004)
  /// No loaded plugin has the requested id, or no plugin of the requested kind is loaded. `data.plugin`.
  public static let pluginNotFound = ErrorCode(rawValue: 1005)

  public var description: String { String(rawValue) }
}

/// The error member of a JSON-RPC response.
public struct ResponseError: Error, Hashable, Sendable, CustomStringConvertible {
  public var code: ErrorCode
  public var message: String
  public var data: JSONValue?

  public init(_ code: ErrorCode, _ message: String, data: JSONValue? = nil) {
    self.code = code
    self.message = message
    self.data = data
  }

  public var json: JSONValue {
    var object: JSONObject = JSONObject([("code", .int(Int64(code.rawValue))), ("message", .string(message))])
    if let data { object["data"] = data }
    return .object(object)
  }

  public init?(json: JSONValue) {
    guard let code = json["code"]?.intValue, let message = json["message"]?.stringValue else { return nil }
    self.init(ErrorCode(rawValue: Int(code)), message, data: json["data"])
  }

  public var description: String { "error \(code.rawValue): \(message)" }
}
