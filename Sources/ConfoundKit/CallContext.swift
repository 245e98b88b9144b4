import CConfoundPlugin
import ConfoundProtocol
import JSONRPC

/// What a plugin sees of one call besides its inputs: resolved parameters, free-form context, and the host's
/// services (cancellation, progress, logs). Valid only during the call.
public struct CallContext {
  /// The plugin's parameters, defaults filled in and checked against the manifest by the host.
  public let parameters: JSONObject
  /// Free-form context from the request: plate, well, site, channel names, labels, covariates.
  public let context: JSONValue
  private let host: UnsafePointer<cf_host_api>?

  init(params: JSONValue, host: UnsafePointer<cf_host_api>?) {
    self.parameters = params["parameters"]?.objectValue ?? JSONObject()
    self.context = params["context"] ?? .null
    self.host = host
  }

  /// True once the client has cancelled: stop and throw `PluginError.cancelled`.
  public var isCancelled: Bool {
    guard let host, let check = host.pointee.is_cancelled else { return false }
    return check(host.pointee.host_context) != 0
  }

  /// Throws `PluginError.cancelled` when the call was cancelled; call it between units of work.
  public func checkCancellation() throws {
    if isCancelled { throw PluginError.cancelled }
  }

  /// Reports work-done progress, fraction in 0...1.
  public func progress(_ fraction: Double, _ message: String? = nil) {
    guard let host, let report = host.pointee.progress else { return }
    if let message {
      message.withCString { report(host.pointee.host_context, fraction, $0) }
    } else {
      report(host.pointee.host_context, fraction, nil)
    }
  }

  /// Sends a log line to the client and stderr. level: 1 error, 2 warning, 3 info, 4 debug.
  public func log(_ message: String, level: Int32 = 3) {
    guard let host, let log = host.pointee.log else { return }
    message.withCString { log(host.pointee.host_context, level, $0) }
  }

  /// A parameter as a number (integers included).
  public func number(_ name: String) -> Double? { parameters[name]?.doubleValue }
  public func integer(_ name: String) -> Int? { parameters[name]?.intValue.map(Int.init) }
  public func string(_ name: String) -> String? { parameters[name]?.stringValue }
  public func bool(_ name: String) -> Bool? { parameters[name]?.boolValue }

  /// Channel names from the context, or "Channel1"... when none are given.
  public func channelNames(count: Int) -> [String] {
    if let names = context["channels"]?.arrayValue?.compactMap(\.stringValue), names.count == count { return names }
    return (1...max(count, 1)).prefix(count).map { "Channel\($0)" }
  }
}

/// An error a plugin reports; the host turns it into the JSON-RPC error of the matching code.
public enum PluginError: Error, CustomStringConvertible {
  /// The request does not fit the kind's contract (missing input, wrong shape): -32602.
  case invalidParams(String)
  /// An input is unusable (empty image, non-finite values where none are allowed): 1004.
  case badInput(String)
  /// The plugin could not compute a result: 1003.
  case failed(String)
  /// The call noticed `isCancelled`: -32800.
  case cancelled

  public var description: String {
    switch self {
    case .invalidParams(let m), .badInput(let m), .failed(let m): return m
    case .cancelled: return "cancelled"
    }
  }

  var status: cf_status {
    switch self {
    case .invalidParams: return CF_ERROR_INVALID_PARAMS
    case .badInput: return CF_ERROR_BAD_INPUT
    case .failed: return CF_ERROR_PLUGIN
    case .cancelled: return CF_ERROR_CANCELLED
    }
  }
}
