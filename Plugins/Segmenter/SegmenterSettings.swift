import ConfoundKit
import ConfoundProtocol
import JSONRPC
import Segmentation

/// The segmenter plugin's parameters as the manifest declares them, and their translation into
/// `NucleusSegmenter.Parameters`. The host has already filled defaults and checked types and ranges.
struct SegmenterSettings {
  static let specs: [ParameterSpec] = [
    ParameterSpec(name: "nuclei_channel", type: .string, default: "0",
                  description: "The nuclear-stain channel: a channel name (context \"channels\") or a 0-based index."),
    ParameterSpec(name: "sigma", type: .number, default: 0.75, minimum: 0, maximum: 20,
                  description: "Gaussian smoothing sigma in pixels before thresholding."),
    ParameterSpec(name: "threshold", type: .string, default: "li", choices: ["li", "otsu"],
                  description: "Automatic threshold: li (minimum cross-entropy, CellProfiler's default) or otsu."),
    ParameterSpec(name: "min_area", type: .integer, default: 40, minimum: 1, maximum: 1_000_000_000,
                  description: "Nuclei smaller than this many pixels are removed."),
    ParameterSpec(name: "max_area", type: .integer, default: 0, minimum: 0, maximum: 1_000_000_000,
                  description: "Nuclei larger than this many pixels are removed; 0 = no upper limit."),
    ParameterSpec(name: "exclude_border", type: .boolean, default: false,
                  description: "Remove nuclei that touch the image border (CellProfiler's default is true)."),
    ParameterSpec(name: "crop_size", type: .integer, default: 64, minimum: 0, maximum: 4096,
                  description: "Side in pixels of the cell-centred crops of all channels; 0 = no crops."),
    ParameterSpec(name: "crop_edge", type: .string, default: "skip", choices: ["skip", "reflect"],
                  description: "Nuclei whose crop leaves the image: skip them (counted in crops_skipped) or "
                    + "fill the outside by mirror reflection (numpy.pad mode reflect)."),
  ]

  var segmenter = NucleusSegmenter.Parameters()
  var nucleiChannel: Int
  var cropSize: Int
  var cropEdge: CropEdgePolicy

  /// Reads the resolved parameters; throws `invalidParams` naming the parameter when one does not fit `image`.
  init(_ context: CallContext, image: ImageStack) throws {
    let channel = context.string("nuclei_channel") ?? "0"
    guard let index = Self.channelIndex(channel, names: image.channelNames) else {
      throw PluginError.invalidParams(
        "parameter nuclei_channel = \"\(channel)\" names no channel of this image: use one of "
          + "\(image.channelNames.joined(separator: ", ")) or an index 0...\(image.channels - 1)")
    }
    nucleiChannel = index
    segmenter.smoothingSigma = context.number("sigma") ?? 0.75
    segmenter.thresholdMethod = context.string("threshold") == "otsu" ? .otsu : .li
    segmenter.minimumArea = context.integer("min_area") ?? 40
    let maximum = context.integer("max_area") ?? 0
    segmenter.maximumArea = maximum > 0 ? maximum : .max
    guard segmenter.maximumArea >= segmenter.minimumArea else {
      throw PluginError.invalidParams(
        "parameter max_area = \(maximum) is below min_area = \(segmenter.minimumArea): raise it, or 0 for no limit")
    }
    segmenter.dropBorderObjects = context.bool("exclude_border") ?? false
    cropSize = context.integer("crop_size") ?? 64
    cropEdge = context.string("crop_edge") == "reflect" ? .reflect : .skip
  }

  /// A channel given by name first, then by 0-based index within range.
  static func channelIndex(_ value: String, names: [String]) -> Int? {
    if let named = names.firstIndex(of: value) { return named }
    guard let index = Int(value), names.indices.contains(index) else { return nil }
    return index
  }
}
