/// A request id: JSON-RPC allows a number or a string.
public enum RequestID: Hashable, Sendable, CustomStringConvertible, Codable {
  case int(Int64)
  case string(String)

  /// A number or a string. JSON has one number type: `3.0` is the integer 3 (and is answered as `3`); a number
  /// with a fraction, or beyond 64-bit integers, is not an id.
  public init?(json: JSONValue) {
    switch json {
    case .int(let i): self = .int(i)
    case .double(let d) where d == d.rounded() && abs(d) < 0x1p63: self = .int(Int64(d))
    case .string(let s): self = .string(s)
    default: return nil
    }
  }

  public var json: JSONValue {
    switch self {
    case .int(let i): return .int(i)
    case .string(let s): return .string(s)
    }
  }

  public init(from decoder: Decoder) throws {
    let value = try JSONValue(from: decoder)
    guard let id = RequestID(json: value) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "an id must be a number or a string"))
    }
    self = id
  }

  public func encode(to encoder: Encoder) throws { try json.encode(to: encoder) }

  public var description: String {
    switch self {
    case .int(let i): return String(i)
    case .string(let s): return "\"\(s)\""
    }
  }
}

/// One JSON-RPC 2.0 message.
public enum Message: Hashable, Sendable {
  case request(id: RequestID, method: String, params: JSONValue?)
  case notification(method: String, params: JSONValue?)
  /// A response; `id` is nil only for errors about a message whose id could not be read.
  case response(id: RequestID?, result: JSONValue?, error: ResponseError?)

  public static func success(_ id: RequestID, _ result: JSONValue) -> Message {
    .response(id: id, result: result, error: nil)
  }

  public static func failure(_ id: RequestID?, _ error: ResponseError) -> Message {
    .response(id: id, result: nil, error: error)
  }

  public var json: JSONValue {
    var object = JSONObject([("jsonrpc", "2.0")])
    switch self {
    case .request(let id, let method, let params):
      object["id"] = id.json
      object["method"] = .string(method)
      if let params { object["params"] = params }
    case .notification(let method, let params):
      object["method"] = .string(method)
      if let params { object["params"] = params }
    case .response(let id, let result, let error):
      object["id"] = id?.json ?? .null
      if let error { object["error"] = error.json } else { object["result"] = result ?? .null }
    }
    return .object(object)
  }

  /// The compact UTF-8 JSON of the message (without framing).
  public var bytes: [UInt8] { JSONWriter.bytes(json) }

  /// Reads one message object. A failure carries the id when one could be read, for the error response.
  public static func decode(_ json: JSONValue) -> Result<Message, DecodeFailure> {
    guard case .object(let object) = json else {
      return .failure(DecodeFailure(id: nil, error: ResponseError(.invalidRequest, "a message must be a JSON object, got \(json.typeName)")))
    }
    let idValue = object["id"]
    let id = idValue.flatMap(RequestID.init(json:))
    func invalid(_ message: String) -> Result<Message, DecodeFailure> {
      .failure(DecodeFailure(id: id, error: ResponseError(.invalidRequest, message)))
    }
    guard object["jsonrpc"] == .string("2.0") else { return invalid("\"jsonrpc\" must be \"2.0\"") }
    if let idValue, id == nil, idValue != .null {
      if case .double(let d) = idValue {
        return invalid("\"id\" must be an integer or a string, got the number \(d), which is not an integer")
      }
      return invalid("\"id\" must be a number or a string, got \(idValue.typeName)")
    }
    if let methodValue = object["method"] {
      guard case .string(let method) = methodValue else { return invalid("\"method\" must be a string") }
      let params = object["params"]
      if let params {
        switch params {
        case .object, .array: break
        default: return invalid("\"params\" must be an object or an array, got \(params.typeName)")
        }
      }
      if let id { return .success(.request(id: id, method: method, params: params)) }
      if idValue == .null { return invalid("a request id must not be null") }
      return .success(.notification(method: method, params: params))
    }
    if object["result"] != nil || object["error"] != nil {
      let error = object["error"].flatMap(ResponseError.init(json:))
      return .success(.response(id: id, result: object["result"], error: error))
    }
    return invalid("a message needs \"method\" (request or notification) or \"result\"/\"error\" (response)")
  }
}

/// Why a message could not be read, with the id to answer when it was readable.
public struct DecodeFailure: Error, Hashable, Sendable {
  public let id: RequestID?
  public let error: ResponseError
  public init(id: RequestID?, error: ResponseError) {
    self.id = id
    self.error = error
  }
}

/// What one framed body holds: a single message or a JSON-RPC batch.
public enum Incoming: Sendable {
  case single(Result<Message, DecodeFailure>)
  /// A batch array; an empty array is reported as `.single(.failure)` per JSON-RPC 2.0.
  case batch([Result<Message, DecodeFailure>])

  /// Parses one body. Invalid JSON or UTF-8 is a -32700 failure with a null id.
  public static func parse(_ body: [UInt8]) -> Incoming {
    let json: JSONValue
    do {
      json = try JSONParser.parse(body)
    } catch {
      return .single(.failure(DecodeFailure(id: nil, error: ResponseError(.parseError, "invalid JSON: \(error)"))))
    }
    if case .array(let elements) = json {
      if elements.isEmpty {
        return .single(.failure(DecodeFailure(id: nil, error: ResponseError(.invalidRequest, "an empty batch array"))))
      }
      return .batch(elements.map(Message.decode))
    }
    return .single(Message.decode(json))
  }
}
