import JSONRPC

/// `initialized`: the client's acknowledgement of the initialize response. No params, no response.
public enum InitializedNotification: NotificationType {
  public static let method = "initialized"
  public typealias Params = Empty
}

/// `shutdown`: stop taking work; in-flight requests are cancelled. The response is null. Then send `exit`.
public enum ShutdownRequest: RequestType {
  public static let method = "shutdown"
  public typealias Params = Empty
  public typealias Response = JSONValue
}

/// `exit`: the host ends its workers and exits, with status 0 after `shutdown`, 1 without it (as in LSP).
public enum ExitNotification: NotificationType {
  public static let method = "exit"
  public typealias Params = Empty
}

/// `$/cancelRequest`: cancels a request in flight. The request still gets a response, with code -32800.
public enum CancelRequestNotification: NotificationType {
  public static let method = "$/cancelRequest"
  public struct Params: Codable, Sendable {
    public var id: RequestID
    public init(id: RequestID) { self.id = id }
  }
}

/// `$/progress` (host to client): work-done progress of a request that passed a `workDoneToken`.
public enum ProgressNotification: NotificationType {
  public static let method = "$/progress"
  public struct Params: Codable, Sendable {
    public var token: JSONValue
    public var value: WorkDoneProgress
    public init(token: JSONValue, value: WorkDoneProgress) {
      self.token = token
      self.value = value
    }
  }
}

/// LSP's WorkDoneProgressBegin / Report / End in one type: `kind` says which.
public struct WorkDoneProgress: Codable, Sendable, Hashable {
  public enum Kind: String, Codable, Sendable { case begin, report, end }
  public var kind: Kind
  public var title: String?
  public var message: String?
  /// 0 ... 100.
  public var percentage: Int?
  public var cancellable: Bool?
  public init(kind: Kind, title: String? = nil, message: String? = nil, percentage: Int? = nil, cancellable: Bool? = nil) {
    self.kind = kind
    self.title = title
    self.message = message
    self.percentage = percentage
    self.cancellable = cancellable
  }

  /// The stage a progress message names: its first word when that is a word of letters ("focus 3/96 sites" is
  /// `focus`; "3/96 sites" has none). A new stage is reported and shown even when the percentage has not moved.
  public static func stage(of message: String?) -> Substring? {
    guard let word = message?.split(separator: " ").first, word.allSatisfy({ $0.isLetter || $0 == "-" }) else { return nil }
    return word
  }
}

/// `window/logMessage` (host to client): a log line. type: 1 error, 2 warning, 3 info, 4 log.
public enum LogMessageNotification: NotificationType {
  public static let method = "window/logMessage"
  public struct Params: Codable, Sendable {
    public var type: Int
    public var message: String
    public init(type: Int, message: String) {
      self.type = type
      self.message = message
    }
  }
}
