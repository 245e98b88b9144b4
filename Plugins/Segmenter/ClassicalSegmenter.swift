import CConfoundPlugin
import ConfoundKit
import ConfoundProtocol
import JSONRPC
import Segmentation

/// The built-in segmenter: unsupervised nucleus segmentation of one channel (`NucleusSegmenter`), the per-object
/// table and per-site image statistics with CellProfiler names, and cell-centred crops of all channels.
/// A thin adapter over `Segmentation`.
///
/// Intensities are divided by the storage maximum of integer image files first (context `image_scale`, set by
/// the host), as CellProfiler does, so intensity features are on its [0, 1] scale; segmentation itself does not
/// depend on that scale.
final class ClassicalSegmenter: SegmenterPlugin {
  static let manifest = PluginManifest(
    id: "confound.segmenter", name: "Classical nucleus segmenter", kind: .segmenter, version: "0.1.0",
    abiVersion: Int(CONFOUND_ABI_VERSION),
    description: "Nuclei on one channel: Gaussian smoothing, Li or Otsu threshold, a foreground test that keeps "
      + "empty fields empty, distance-transform watershed declumping, size and border filters. Returns the label "
      + "mask, per-nucleus shape and intensity features, per-site image statistics (Count_Nuclei, ...) and "
      + "cell-centred crops of all channels.",
    parameters: SegmenterSettings.specs,
    outputs: [
      OutputSpec(name: "labels", type: .tensor, description: "int32 [H, W], 0 = background, nuclei 1...count"),
      OutputSpec(name: "objects", type: .table, description: "float64 [count, k], columns named in result.columns"),
      OutputSpec(name: "crops", type: .tensor, description: "float32 [n, C, s, s] centred on nuclei (crop_size > 0)"),
      OutputSpec(name: "Count_Nuclei", type: .measure, role: "density", description: "number of nuclei in the site"),
      OutputSpec(name: "ImageStats_ForegroundFraction", type: .measure, role: "density",
                 description: "share of the site's pixels inside nuclei, per channel"),
      OutputSpec(name: "ImageStats_Foreground", type: .measure, role: "intensity",
                 description: "intensity statistics inside nuclei (Mean, Median, Std, Percentile05...95, Integrated), per channel"),
      OutputSpec(name: "ImageStats_Background", type: .measure, role: "focus",
                 description: "intensity statistics outside nuclei: the camera offset, illumination and stray light, image quality rather than cells"),
      OutputSpec(name: "ImageIntensity_TotalIntensity", type: .measure, role: "focus",
                 description: "sum over the plane, per channel (CellProfiler's name): exposure and density together, image quality rather than cells"),
      OutputSpec(name: "ImageStats_GradientEnergy", type: .measure, role: "focus",
                 description: "mean squared gradient over the plane, per channel: a sharpness measure"),
      OutputSpec(name: "AreaShape_", type: .table, role: "shape", description: "per-nucleus size and shape columns of objects"),
      OutputSpec(name: "Location_", type: .table, role: "position", description: "per-nucleus centre columns of objects"),
      OutputSpec(name: "Intensity_", type: .table, role: "intensity", description: "per-nucleus intensity columns of objects"),
    ])

  init() {}

  func segment(image: ImageStack, context: CallContext) throws -> SegmentationResult {
    let settings = try SegmenterSettings(context, image: image)
    let scale = Float(context.context["image_scale"]?.doubleValue ?? 1)
    let planes = (0..<image.channels).map { c in
      scale > 0 && scale != 1 ? image.plane(c).map { $0 / scale } : Array(image.plane(c))
    }
    let (width, height) = (image.width, image.height)
    let nuclei: NucleusSegmentation
    do {
      nuclei = try NucleusSegmenter(settings.segmenter).segment(planes[settings.nucleiChannel], width: width,
                                                                height: height)
    } catch let error as SegmentationError {
      throw PluginError.badInput("channel \(image.channelNames[settings.nucleiChannel]): \(error)")
    }
    try context.checkCancellation()
    context.progress(0.5, "\(nuclei.count) nuclei")
    let named = Array(zip(image.channelNames, planes)).map { (name: $0.0, plane: $0.1) }
    let table = ObjectFeatures.table(labels: nuclei.labels, count: nuclei.count, width: width, height: height,
                                     channels: named)
    let columns = Self.columnOrder(table.keys, channels: image.channelNames)
    var objects = [Double](repeating: 0, count: nuclei.count * columns.count)
    for (j, column) in columns.enumerated() {
      for (i, value) in table[column]!.enumerated() { objects[i * columns.count + j] = value }
    }
    let site = ImageStatistics.features(labels: nuclei.labels, count: nuclei.count, width: width, height: height,
                                        channels: named)
    var summary: JSONObject = [
      "threshold": nuclei.threshold.map { .double(Double($0)) } ?? .null,
      "foreground_present": .bool(nuclei.foregroundPresent),
      "contrast_to_noise": .double(nuclei.contrastToNoise),
      "nuclei_channel": .string(image.channelNames[settings.nucleiChannel]),
    ]
    var crops: Tensor?
    if settings.cropSize > 0 {
      let centres = Self.centres(table, count: nuclei.count)
      let batch = CellCrops.extract(planes: planes, width: width, height: height, centres: centres,
                                    size: settings.cropSize, edge: settings.cropEdge)
      crops = Tensor(name: "crops", shape: [batch.count, image.channels, batch.size, batch.size], floats: batch.values)
      summary["crops_skipped"] = .int(Int64(batch.skipped))
      summary["crop_objects"] = .array(batch.objectIndices.map { .int(Int64($0 + 1)) })
    } else {
      summary["crops_skipped"] = .int(0)
    }
    context.progress(1)
    return SegmentationResult(
      labels: nuclei.labels, count: nuclei.count, objectColumns: columns, objects: objects,
      siteFeatures: site.keys.sorted().map { (name: $0, value: site[$0]!) }, crops: crops, summary: summary)
  }

  /// Location and shape columns first, then each channel's intensity columns in channel order.
  static func columnOrder(_ names: Dictionary<String, [Double]>.Keys, channels: [String]) -> [String] {
    let leading = ["Location_Center_X", "Location_Center_Y", "AreaShape_Area", "AreaShape_Perimeter",
                   "AreaShape_Eccentricity", "AreaShape_Solidity", "AreaShape_MajorAxisLength",
                   "AreaShape_MinorAxisLength", "AreaShape_Orientation", "AreaShape_BoundingBoxMinimum_X",
                   "AreaShape_BoundingBoxMinimum_Y", "AreaShape_BoundingBoxMaximum_X", "AreaShape_BoundingBoxMaximum_Y"]
    let perChannel = channels.flatMap { c in
      ["MeanIntensity", "IntegratedIntensity", "MaxIntensity"].map { "Intensity_\($0)_\(c)" }
    }
    let ordered = (leading + perChannel).filter { names.contains($0) }
    // Any column the table gains later still comes out, after the known ones.
    return ordered + names.filter { !ordered.contains($0) }.sorted()
  }

  /// Nucleus centroids (x = column, y = row), in label order.
  static func centres(_ table: [String: [Double]], count: Int) -> [(x: Double, y: Double)] {
    let xs = table["Location_Center_X"] ?? [], ys = table["Location_Center_Y"] ?? []
    return (0..<min(count, xs.count, ys.count)).map { (x: xs[$0], y: ys[$0]) }
  }
}

@_cdecl("confound_plugin_entry")
public func confoundPluginEntry(_ hostABI: UInt32) -> UnsafePointer<cf_plugin>? {
  PluginExport.entry(ClassicalSegmenter.self, hostABI: hostABI)
}
