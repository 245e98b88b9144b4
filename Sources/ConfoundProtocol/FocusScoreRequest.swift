import JSONRPC

/// `focus/score`: runs a focus plugin on image files, in parallel across the plugin's workers.
/// Each entry of `images` is one site; a site with several channels lists its files joined by ',' or as an array.
public enum FocusScoreRequest: RequestType {
  public static let method = "focus/score"

  public struct Params: Codable, Sendable {
    /// One element per site: the image files of its channels.
    public var images: [[String]]
    public var plugin: String?
    public var parameters: JSONObject?
    /// Channel names, in file order (defaults: Channel1, Channel2, ...).
    public var channels: [String]?
    public init(images: [[String]], plugin: String? = nil, parameters: JSONObject? = nil, channels: [String]? = nil) {
      self.images = images
      self.plugin = plugin
      self.parameters = parameters
      self.channels = channels
    }
  }

  public struct Response: Codable, Sendable {
    public var plugin: String
    public var sites: [SiteFocus]
    public init(plugin: String, sites: [SiteFocus]) {
      self.plugin = plugin
      self.sites = sites
    }
  }

  /// One site's result, or its error (a corrupt file fails its own site, not the request).
  public struct SiteFocus: Codable, Sendable {
    public var files: [String]
    public var result: JSONValue?
    public var error: ResponseError?
    public init(files: [String], result: JSONValue?, error: ResponseError?) {
      self.files = files
      self.result = result
      self.error = error
    }
  }
}

extension ResponseError: Codable {
  public init(from decoder: Decoder) throws {
    let value = try JSONValue(from: decoder)
    guard let error = ResponseError(json: value) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an error object"))
    }
    self = error
  }
  public func encode(to encoder: Encoder) throws { try json.encode(to: encoder) }
}
