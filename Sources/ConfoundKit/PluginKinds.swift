import ConfoundProtocol
import JSONRPC

/// What every plugin is: a manifest, and an initialiser the host calls once per worker process.
///
/// Contract for implementers: `manifest` is constant; `init()` does the expensive set-up (load weights) and
/// throws a `PluginError` with a message that says what to do when it cannot; the kind's operation is called
/// from one thread at a time, may take as long as it needs, calls `context.checkCancellation()` between units
/// of work and `context.progress` now and then, and never writes to stdout (stdout belongs to the protocol).
/// Run `confound plugins check FILE.so` on the built plugin: it runs the kind's conformance suite.
public protocol ConfoundPlugin: AnyObject {
  static var manifest: PluginManifest { get }
  init() throws
}

/// A multi-channel image: `channels` planes of `height` x `width` float32, row-major, in the original scale
/// (a 16-bit image keeps values 0...65535). Borrowed from the host for the duration of the call.
public struct ImageStack {
  public let channels: Int
  public let height: Int
  public let width: Int
  public let pixels: UnsafeBufferPointer<Float>
  public let channelNames: [String]

  /// Channel `c` as one contiguous plane.
  public func plane(_ c: Int) -> UnsafeBufferPointer<Float> {
    UnsafeBufferPointer(rebasing: pixels[c * height * width..<(c + 1) * height * width])
  }

  /// Index of a channel given by name or by 0-based number in a parameter value.
  public func channelIndex(_ value: JSONValue?) -> Int? {
    switch value {
    case .int(let i) where i >= 0 && Int(i) < channels: return Int(i)
    case .string(let s): return channelNames.firstIndex(of: s) ?? Int(s).flatMap { $0 < channels ? $0 : nil }
    default: return nil
    }
  }
}

/// focus: scores the focus of each channel of a site image.
///
/// Input `image` float32 [C, H, W]. Returns one `ChannelFocus` per channel, in order, whose `measures` are
/// finite numbers with CellProfiler-style names (`ImageQuality_FocusScore`, ...). `score`, when present, is in
/// [0, 1] with 1 = in focus and comparable across images of different content and brightness.
public protocol FocusPlugin: ConfoundPlugin {
  func scoreFocus(image: ImageStack, context: CallContext) throws -> FocusResult
}

public struct ChannelFocus {
  public var channel: String
  public var measures: [(name: String, value: Double)]
  public var score: Double?
  public var level: Int?
  public var certainty: Double?
  public init(channel: String, measures: [(name: String, value: Double)], score: Double? = nil, level: Int? = nil, certainty: Double? = nil) {
    self.channel = channel
    self.measures = measures
    self.score = score
    self.level = level
    self.certainty = certainty
  }
}

public struct FocusResult {
  public var channels: [ChannelFocus]
  /// Optional maps, e.g. "patch_scores" [C, rows, cols].
  public var outputs: [Tensor]
  public init(channels: [ChannelFocus], outputs: [Tensor] = []) {
    self.channels = channels
    self.outputs = outputs
  }
}

/// segmenter: finds nuclei in a site image.
///
/// Input `image` float32 [C, H, W]. Returns `labels` (H x W, 0 = background, objects 1...count with no gaps),
/// an object table with one row per object and named columns (CellProfiler names: `Location_Center_X`,
/// `AreaShape_Area`, ...), per-site features, and optionally `crops` float32 [n, C, s, s] centred on objects.
public protocol SegmenterPlugin: ConfoundPlugin {
  func segment(image: ImageStack, context: CallContext) throws -> SegmentationResult
}

public struct SegmentationResult {
  public var labels: [Int32]
  public var count: Int
  public var objectColumns: [String]
  /// count x objectColumns.count, row-major.
  public var objects: [Double]
  public var siteFeatures: [(name: String, value: Double)]
  public var crops: Tensor?
  /// Extra summary members (threshold used, whether foreground was found, crops skipped at the edge).
  public var summary: JSONObject
  public init(
    labels: [Int32], count: Int, objectColumns: [String], objects: [Double], siteFeatures: [(name: String, value: Double)],
    crops: Tensor? = nil, summary: JSONObject = JSONObject()
  ) {
    self.labels = labels
    self.count = count
    self.objectColumns = objectColumns
    self.objects = objects
    self.siteFeatures = siteFeatures
    self.crops = crops
    self.summary = summary
  }
}

/// embedder: turns a batch of crops into vectors.
///
/// Input `crops` float32 [N, C, H, W]. Returns `embeddings` float32 [N, D], row i for crop i, the same vector
/// for the same crop whatever the batch around it.
public protocol EmbedderPlugin: ConfoundPlugin {
  func embed(crops: TensorView, context: CallContext) throws -> EmbeddingResult
}

public struct EmbeddingResult {
  public var embeddings: [Float]
  public var count: Int
  public var dimension: Int
  public var summary: JSONObject
  public init(embeddings: [Float], count: Int, dimension: Int, summary: JSONObject = JSONObject()) {
    self.embeddings = embeddings
    self.count = count
    self.dimension = dimension
    self.summary = summary
  }
}

/// A feature table with what a probe predicts: rows are units (cells, sites or wells).
public struct FeatureMatrix {
  public let rows: Int
  public let columns: Int
  /// rows x columns, row-major.
  public let values: [Double]
  public let featureNames: [String]
  /// Per row: the value to predict, and the group (cell line, batch) that must not straddle train and test.
  public let labels: [String]
  public let groups: [String]?
}

/// probe: predicts a covariate or the target from features with grouped cross-validation.
///
/// Input `features` [N, D] (float32 or float64); context `labels` (N strings), optional `groups` (N strings) and
/// `feature_names` (D strings). Returns a JSON summary with at least `metrics` (per fold and overall) and
/// optionally tensors such as `probabilities` [N, K].
public protocol ProbePlugin: ConfoundPlugin {
  func fit(features: FeatureMatrix, context: CallContext) throws -> AnalysisResult
}

/// explainer: says what a model relies on.
///
/// Inputs by name (e.g. `features` [N, D], `image` [C, H, W]); context names the model and the target.
/// Returns a JSON summary (e.g. the features ranked by attribution, partial-dependence curves) and tensors
/// such as `attributions` with the input's shape.
public protocol ExplainerPlugin: ConfoundPlugin {
  func explain(inputs: [String: TensorView], context: CallContext) throws -> AnalysisResult
}

/// A JSON summary plus output tensors: the result of probes and explainers.
public struct AnalysisResult {
  public var summary: JSONValue
  public var outputs: [Tensor]
  public init(summary: JSONValue, outputs: [Tensor] = []) {
    self.summary = summary
    self.outputs = outputs
  }
}
