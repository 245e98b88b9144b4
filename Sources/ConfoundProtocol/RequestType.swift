import JSONRPC

/// A request the host answers: its method name, params and response types. One type per method, one file each.
public protocol RequestType: Sendable {
  associatedtype Params: Codable & Sendable
  associatedtype Response: Codable & Sendable
  static var method: String { get }
}

/// A notification (no response), in either direction.
public protocol NotificationType: Sendable {
  associatedtype Params: Codable & Sendable
  static var method: String { get }
}

/// Params or a response with no members: `{}` on the wire, and `null` or absent params are accepted.
public struct Empty: Codable, Hashable, Sendable {
  public init() {}
}

/// The version of the JSON-RPC method set described in Protocol/README.md. Grows with each change.
public let confoundProtocolVersion = "1.0"
