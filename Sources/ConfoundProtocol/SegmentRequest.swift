import JSONRPC

/// `segment/images`: runs a segmenter plugin on image files, in parallel across the plugin's workers, and
/// optionally writes each label mask as a TIFF (16-bit when the count fits, else 32-bit).
/// Each entry of `images` is one site; a site with several channels lists its files in channel order.
public enum SegmentImagesRequest: RequestType {
  public static let method = "segment/images"

  public struct Params: Codable, Sendable {
    /// One element per site: the image files of its channels.
    public var images: [[String]]
    /// A segmenter plugin id; absent: the default segmenter.
    public var plugin: String?
    public var parameters: JSONObject?
    /// Channel names, in file order (defaults: Channel1, Channel2, ...).
    public var channels: [String]?
    /// Folder for the label masks as TIFF (`<first file's name>_labels.tif`); absent: none written.
    public var masks: String?
    /// Folder for the plugin's output tensors (.npy); absent: the host's scratch folder.
    public var outputDir: String?
    public init(images: [[String]], plugin: String? = nil, parameters: JSONObject? = nil, channels: [String]? = nil,
                masks: String? = nil, outputDir: String? = nil) {
      self.images = images
      self.plugin = plugin
      self.parameters = parameters
      self.channels = channels
      self.masks = masks
      self.outputDir = outputDir
    }
  }

  public struct Response: Codable, Sendable {
    public var plugin: String
    public var sites: [SiteSegmentation]
    public init(plugin: String, sites: [SiteSegmentation]) {
      self.plugin = plugin
      self.sites = sites
    }
  }

  /// One site's result, or its error (a corrupt file fails its own site, not the request).
  public struct SiteSegmentation: Codable, Sendable {
    public var files: [String]
    /// Number of nuclei; absent when the site failed.
    public var count: Int?
    /// The plugin's summary (count, columns, site_features, threshold, ...).
    public var result: JSONValue?
    /// `labels` int32 [H, W], `objects` float64 [count, k], `crops` float32 [n, C, s, s] as .npy files.
    public var outputs: [TensorRef]?
    /// The label mask written as TIFF, when `masks` was given.
    public var mask: String?
    public var error: ResponseError?
    public init(files: [String], count: Int? = nil, result: JSONValue? = nil, outputs: [TensorRef]? = nil,
                mask: String? = nil, error: ResponseError? = nil) {
      self.files = files
      self.count = count
      self.result = result
      self.outputs = outputs
      self.mask = mask
      self.error = error
    }
  }
}
