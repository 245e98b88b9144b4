import JSONRPC

/// `embed/images`: runs an embedder plugin on image files (each image resized as a whole) or on an already
/// normalised float32 NCHW batch (`rawInput`, passed through the network unchanged), and writes the vectors as one
/// float32 [N, D] .npy file, row i for image i.
///
/// For image files the host reads each site (its channel files stacked), and unless `parameters` say otherwise
/// embeds a 3-channel image as RGB (`channel_mode` triple) and any other channel count channel by channel, with
/// intensities scaled by the file's storage maximum (`intensity` scale: 8-bit 0...255 unchanged).
public enum EmbedImagesRequest: RequestType {
  public static let method = "embed/images"

  public struct Params: Codable, Sendable {
    /// One element per site: the image files of its channels. Empty or absent when `rawInput` is given.
    public var images: [[String]]?
    /// A float32 [N, C, H, W] .npy already in the model's input shape and normalisation.
    public var rawInput: String?
    /// The .npy file to write, float32 [N, D].
    public var out: String
    /// An embedder plugin id; absent: the default embedder.
    public var plugin: String?
    /// Plugin parameters (`model`, `output`, ...).
    public var parameters: JSONObject?
    public init(images: [[String]]? = nil, rawInput: String? = nil, out: String, plugin: String? = nil,
                parameters: JSONObject? = nil) {
      self.images = images
      self.rawInput = rawInput
      self.out = out
      self.plugin = plugin
      self.parameters = parameters
    }
  }

  public struct Response: Codable, Sendable {
    public var plugin: String
    /// N and D of the written array.
    public var count: Int
    public var dimension: Int
    public var out: String
    /// The plugin's summary of the first call (model, output, ...).
    public var result: JSONValue
    public init(plugin: String, count: Int, dimension: Int, out: String, result: JSONValue) {
      self.plugin = plugin
      self.count = count
      self.dimension = dimension
      self.out = out
      self.result = result
    }
  }
}
