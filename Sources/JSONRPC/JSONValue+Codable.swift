import Foundation

extension JSONValue: Codable {
  public init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let b = try? container.decode(Bool.self) {
      self = .bool(b)
    } else if let i = try? container.decode(Int64.self) {
      self = .int(i)
    } else if let d = try? container.decode(Double.self) {
      self = .double(d)
    } else if let s = try? container.decode(String.self) {
      self = .string(s)
    } else if let a = try? container.decode([JSONValue].self) {
      self = .array(a)
    } else if let o = try? container.decode([String: JSONValue].self) {
      // Keyed containers do not keep order; sort for a deterministic result.
      self = .object(JSONObject(o.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }))
    } else {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
    }
  }

  public func encode(to encoder: Encoder) throws {
    switch self {
    case .null:
      var c = encoder.singleValueContainer()
      try c.encodeNil()
    case .bool(let b):
      var c = encoder.singleValueContainer()
      try c.encode(b)
    case .int(let i):
      var c = encoder.singleValueContainer()
      try c.encode(i)
    case .double(let d):
      var c = encoder.singleValueContainer()
      if d.isFinite { try c.encode(d) } else { try c.encodeNil() }
    case .string(let s):
      var c = encoder.singleValueContainer()
      try c.encode(s)
    case .array(let a):
      var c = encoder.unkeyedContainer()
      for element in a { try c.encode(element) }
    case .object(let o):
      var c = encoder.container(keyedBy: DynamicKey.self)
      for member in o.members { try c.encode(member.value, forKey: DynamicKey(member.key)) }
    }
  }
}

private struct DynamicKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(_ string: String) { stringValue = string }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { return nil }
}

/// Bridges between `JSONValue` and Codable types, through bytes (JSONEncoder/JSONDecoder are the fast path
/// on Linux; the round trip costs microseconds for protocol-sized values).
public enum JSONCodec {
  /// Decodes `value` as `T`. The error names the field that did not fit, for -32602's `data.field`.
  public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(JSONWriter.bytes(value)))
  }

  public static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    let data = try encoder.encode(value)
    return try JSONParser.parse(data)
  }

  /// A readable account of a DecodingError: which field, what was wrong.
  public static func describe(_ error: Error) -> (field: String?, message: String) {
    guard let error = error as? DecodingError else { return (nil, "\(error)") }
    func path(_ codingPath: [CodingKey]) -> String {
      codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        .replacingOccurrences(of: ".[", with: "[")
    }
    switch error {
    case .typeMismatch(let type, let context):
      return (path(context.codingPath), "\(path(context.codingPath)) must be of type \(type)")
    case .valueNotFound(let type, let context):
      return (path(context.codingPath), "\(path(context.codingPath)) must be a \(type), not null")
    case .keyNotFound(let key, let context):
      let field = path(context.codingPath + [key])
      return (field, "missing required field \(field)")
    case .dataCorrupted(let context):
      return (path(context.codingPath), context.debugDescription)
    @unknown default:
      return (nil, "\(error)")
    }
  }
}

extension JSONObject: Codable {
  public init(from decoder: Decoder) throws {
    guard case .object(let object) = try JSONValue(from: decoder) else {
      throw DecodingError.typeMismatch(JSONObject.self, .init(codingPath: decoder.codingPath, debugDescription: "expected an object"))
    }
    self = object
  }

  public func encode(to encoder: Encoder) throws { try JSONValue.object(self).encode(to: encoder) }
}
