import Foundation
import PlateMaps

/// The supervised CNN's saliency result, as the audit's explain stage keeps it in
/// `plots/explanation-supervised-cnn.json`: the model's held-out ROC AUC per grouped fold and on permuted labels,
/// the share of saliency on background against the share of area per class with its interval over units, the
/// sanity checks of the maps (Adebayo et al. 2018: rank correlation with the original maps after randomising the
/// head, then the top block, and for a model trained on permuted labels), and a few correctly predicted held-out
/// crops with their maps. The overlay figure (the paper's Figure 6) is drawn only when the maps passed the sanity
/// checks: a map that fails is reported as failing, never shown as an explanation.
public struct SaliencyExplanation {
  /// One grouped fold of the fine-tuning.
  public struct Fold: Equatable {
    public var fold: String
    public var rocAUC: Double?
    public var trainUnits: Int?
    public var testUnits: Int?
    public var trainCrops: Int?
    public var testCrops: Int?
  }

  /// Saliency on background pixels (the segmenter's label 0) of one class's crops ("all" for every crop).
  public struct Background: Equatable {
    public var className: String
    public var crops: Int?
    public var units: Int?
    public var massShare: Double
    public var areaShare: Double
    public var excess: Double
    public var ciLow: Double?
    public var ciHigh: Double?
  }

  /// One step of the cascading randomisation: what was randomised and the maps' rank correlation with the originals.
  public struct Step: Equatable {
    public var randomised: String
    public var layers: [String]
    public var spearman: Double?
  }

  /// The sanity checks and their verdict; `failures` are the stage's sentences when `passed` is false.
  public struct Sanity: Equatable {
    public var steps: [Step]
    public var permutedLabelsSpearman: Double?
    public var threshold: Double?
    public var passed: Bool
    public var failures: [String]
  }

  public let file: String
  public let model: String
  public let target: String
  public let positive: String?
  public let channels: [String]
  public let method: String
  public let layer: String?
  public let folds: [Fold]
  public let permutedAUC: [Double]
  public let background: [Background]
  public let sanity: Sanity
  /// The overlay crops, as the figure draws them (validated against `channels` when read).
  public let crops: [SaliencyOverlayPlot.Crop]

  /// The file's name in `plots/`, as the explain stage writes and registers it.
  public static let fileName = "explanation-supervised-cnn.json"

  /// Reads the stage's JSON; throws naming `file` and the field when it is not the object the stage writes, its
  /// sanity verdict is missing, or an overlay's crop or map is not `[channels][height][width]`.
  public init(json: Data, file: String) throws {
    guard let o = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
      throw ReportError("\(file): not the explain stage's JSON object; rerun the audit's explain stage")
    }
    let number = FindingReader.number
    let int = { (v: Any?) in number(v).map { Int($0) } }
    let strings = { (v: Any?) in (v as? [Any] ?? []).compactMap { $0 as? String } }
    guard let sanity = o["sanity"] as? [String: Any], let passed = sanity["passed"] as? Bool else {
      throw ReportError("\(file): no sanity.passed (true or false); without it the saliency maps cannot be shown "
                          + "or reported; rerun the audit's explain stage")
    }
    self.file = file
    model = o["model"] as? String ?? "supervised CNN"
    target = o["target"] as? String ?? "the target"
    positive = o["positive"] as? String
    channels = strings(o["channels"])
    method = o["method"] as? String ?? "gradcam"
    layer = o["layer"] as? String
    folds = (o["folds"] as? [[String: Any]] ?? []).map { f in
      Fold(fold: (f["fold"] as? String) ?? number(f["fold"]).map { formatNumber($0) } ?? "?",
           rocAUC: number(f["roc_auc"]), trainUnits: int(f["train_units"]), testUnits: int(f["test_units"]),
           trainCrops: int(f["train_crops"]), testCrops: int(f["test_crops"]))
    }
    permutedAUC = ((o["permuted_labels"] as? [String: Any])?["roc_auc"] as? [Any] ?? []).compactMap(number)
    background = (o["background"] as? [[String: Any]] ?? []).compactMap { b in
      guard let name = b["class"] as? String, let mass = number(b["mass_share"]), let area = number(b["area_share"])
      else { return nil }
      return Background(className: name, crops: int(b["crops"]), units: int(b["units"]), massShare: mass,
                        areaShare: area, excess: number(b["excess"]) ?? mass - area, ciLow: number(b["ci_low"]),
                        ciHigh: number(b["ci_high"]))
    }
    self.sanity = Sanity(
      steps: (sanity["steps"] as? [[String: Any]] ?? []).map { s in
        Step(randomised: s["randomised"] as? String ?? "?", layers: strings(s["layers"]),
             spearman: number(s["spearman"]))
      },
      permutedLabelsSpearman: number(sanity["permuted_labels_spearman"])
        ?? number((o["permuted_labels"] as? [String: Any])?["spearman"]),
      threshold: number(sanity["threshold"]), passed: passed, failures: strings(sanity["failures"]))
    let count = channels.count
    crops = try (o["overlays"] as? [[String: Any]] ?? []).enumerated().map { k, e in
      try Self.crop(e, index: k, channels: count, file: file)
    }
  }

  /// One overlay entry as a figure crop; throws naming the entry and field when its arrays are not [C][H][W].
  static func crop(_ e: [String: Any], index k: Int, channels: Int, file: String) throws -> SaliencyOverlayPlot.Crop {
    func planes(_ field: String) throws -> (height: Int, width: Int, planes: [[Float]]) {
      let rows = (e[field] as? [Any] ?? []).map { ($0 as? [Any] ?? []).map { ($0 as? [Any] ?? []) } }
      let height = rows.first?.count ?? 0
      let width = rows.first?.first?.count ?? 0
      let planes = rows.map { plane in plane.flatMap { row in row.map { FindingReader.number($0).map(Float.init) } } }
      guard height > 0, width > 0, rows.allSatisfy({ $0.count == height && $0.allSatisfy { $0.count == width } }),
        planes.allSatisfy({ $0.allSatisfy { $0 != nil } })
      else {
        throw ReportError("\(file): overlays[\(k)].\(field) is not [channel][row][column] of numbers with rows and "
                            + "columns of one length; rerun the audit's explain stage")
      }
      return (height, width, planes.map { $0.map { $0! } })
    }
    let crop = try planes("crop")
    let map = try planes("map")
    guard crop.planes.count == channels, [1, channels].contains(map.planes.count), map.height == crop.height,
      map.width == crop.width
    else {
      throw ReportError("\(file): overlays[\(k)] has a crop of \(crop.planes.count) x \(crop.height) x \(crop.width) "
                          + "and a map of \(map.planes.count) x \(map.height) x \(map.width) for \(channels) channels; "
                          + "need [\(channels)][H][W] and a map of 1 or \(channels) planes of the crop's size")
    }
    return SaliencyOverlayPlot.Crop(
      className: e["class"] as? String ?? "?", probability: FindingReader.number(e["probability"]),
      unit: e["unit"] as? String ?? "?", site: e["site"] as? String ?? "", width: crop.width, height: crop.height,
      channels: crop.planes, maps: map.planes)
  }

  /// The overlay figure (id `explanation-saliency`); nil when the maps failed their sanity checks or there is no
  /// crop to show.
  public func saliencyOverlays() throws -> ReportFigure? {
    guard sanity.passed, !crops.isEmpty else { return nil }
    let name = method == "gradcam" ? "GradCAM" : method
    let probability = positive.map { "P(\(target) = \($0))" } ?? "P"
    let perClass = Dictionary(grouping: crops, by: \.className).mapValues(\.count)
    let counts = perClass.keys.sorted(by: naturalLess).map { "\(perClass[$0]!) of \(target) = \($0)" }
    return ReportFigure(
      id: "explanation-saliency",
      caption: "\(name) saliency of the \(model) for \(target)\(layer.map { " at layer \($0)" } ?? "") over each "
        + "channel of correctly predicted held-out crops (\(counts.joined(separator: ", "))), each labelled with "
        + "\(probability), its unit and site. Each channel is drawn in grey, stretched to its own 1st-99th "
        + "percentile; the map lies over it at 50% on one colour scale shared by every panel, in the map's raw units "
        + "(not normalised per crop, so crops compare). The maps passed the sanity checks below.",
      figure: try SaliencyOverlayPlot(
        title: "What the \(model) looks at: \(name) over each channel", channelNames: channels, crops: crops,
        className: target, probabilityName: probability, mapName: "\(name) (raw scale)"))
  }

  /// The path (relative to the run folder) of the supervised stage's artifact named `fileName`, or nil when the run
  /// has none.
  static func path(in builder: ReportBuilder) throws -> String? {
    try builder.store.artifacts().first {
      ($0.stage == "supervised" || $0.stage == "explain") && URL(fileURLWithPath: $0.path).lastPathComponent == fileName
    }?.path
  }
}
