import Foundation
import PlateMaps

/// The explainer's result for the target model (method "probe": Protocol/README.md, "explainer"), as the audit's
/// explain stage keeps it in `plots/explanation-hand-features.json`, and the two figures of the paper's Figure 6
/// drawn from it: permutation importance per feature family with its spread and the model's baseline ROC AUC, and
/// the partial dependence of the predicted probability on the top features, with a few individual curves. The
/// audit draws them into `plots/` and the report re-draws them from the same file, so both show the same numbers.
public struct ExplanationFigures {
  /// One feature family's drop in held-out ROC AUC when its columns are permuted together, per repeat.
  public struct Family: Equatable {
    public var name: String
    public var features: [String]
    public var mean: Double
    public var std: Double
    public var drops: [Double]
  }

  /// One partial-dependence curve: the feature, the class whose probability it is, the grid in the feature's units,
  /// the average over the rows and the individual (ICE) curves, one per row.
  public struct Curve: Equatable {
    public var feature: String
    public var className: String
    public var grid: [Double]
    public var average: [Double]
    public var individual: [[Double]]
  }

  public let target: String
  /// Held-out ROC AUC of the model before any permutation.
  public let baseline: Double?
  public let families: [Family]
  public let curves: [Curve]
  /// Individual curves drawn per feature (evenly spaced through the rows); the CSV holds exactly those drawn.
  public static let individualShown = 12

  /// Reads the explainer's result; throws naming `file` when it is not the JSON object the explainer returns.
  public init(json: Data, file: String) throws {
    guard let o = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
      throw ReportError("\(file): not the explainer's JSON object; rerun the audit's explain stage")
    }
    target = o["target"] as? String ?? "the target"
    baseline = FindingReader.number((o["baseline"] as? [String: Any])?["roc_auc"])
    families = (o["permutation_importance"] as? [[String: Any]] ?? []).compactMap { e in
      guard let name = e["family"] as? String, let mean = FindingReader.number(e["mean"]) else { return nil }
      let drops = ((e["roc_auc"] as? [String: Any])?["drops"] as? [Any] ?? []).compactMap(FindingReader.number)
      return Family(name: name, features: (e["features"] as? [Any] ?? []).compactMap { $0 as? String }, mean: mean,
                    std: FindingReader.number(e["std"]) ?? 0, drops: drops)
    }
    curves = (o["partial_dependence"] as? [[String: Any]] ?? []).compactMap { e in
      guard let feature = e["feature"] as? String else { return nil }
      let numbers = { (v: Any?) in (v as? [Any] ?? []).compactMap(FindingReader.number) }
      let grid = numbers(e["grid"])
      let average = numbers(e["average"])
      guard !grid.isEmpty, average.count == grid.count else { return nil }
      return Curve(feature: feature, className: e["class"] as? String ?? "", grid: grid, average: average,
                   individual: (e["individual"] as? [Any] ?? []).map(numbers).filter { $0.count == grid.count })
    }
  }

  /// Importance per family: the mean drop with its 95% interval over the repeats (mean ± 1.96 sd / √n), one dot
  /// per repeat, 0 (no reliance) dashed; nil when the result holds no family.
  public func importance(palette: CategoryPalette) -> ReportFigure? {
    guard !families.isEmpty else { return nil }
    let rows = families.sorted { ($1.mean, $0.name) < ($0.mean, $1.name) }.map { f -> DotPlot.Row in
      let half = f.drops.count >= 2 ? 1.96 * f.std / Double(f.drops.count).squareRoot() : 0
      return DotPlot.Row(label: "\(f.name) (\(f.features.count) feature\(f.features.count == 1 ? "" : "s"))",
                         estimate: f.mean, low: f.mean - half, high: f.mean + half, points: f.drops)
    }
    let auc = baseline.map { "baseline held-out ROC AUC \(formatNumber($0))" } ?? "baseline ROC AUC not recorded"
    let axis = "drop in held-out ROC AUC" + (baseline.map { " from its baseline \(formatNumber($0))" } ?? "")
    return ReportFigure(
      id: "explanation-importance",
      caption: "Permutation importance of each feature family for the \(target) model on hand features: the drop in "
        + "held-out ROC AUC when the family's columns are permuted together (\(auc)), mean with its 95% interval, "
        + "one dot per permutation.",
      figure: DotPlot(title: "Permutation importance per feature family", rows: rows, axisLabel: axis, reference: 0,
                      palette: palette,
                      pointName: "one permutation"))
  }

  /// Partial dependence of the top features, one panel each, with up to `individualShown` individual curves;
  /// nil when the result holds no curve.
  public func partialDependence() throws -> ReportFigure? {
    guard let first = curves.first else { return nil }
    let panels = curves.map { c in
      PartialDependencePlot.Panel(feature: c.feature, xLabel: "well mean, in the feature's own units", grid: c.grid,
                                  average: c.average, individual: Self.shown(c.individual))
    }
    let classes = Set(curves.map(\.className))
    let yLabel = classes.count == 1 ? "P(\(target) = \(first.className))" : "predicted probability"
    return ReportFigure(
      id: "explanation-partial-dependence",
      caption: "Partial dependence of the \(target) model's predicted probability on its most important features, each "
        + "on its own axis in the feature's units over its 5th-95th percentiles: the average over the wells "
        + "(thick) and up to \(Self.individualShown) single wells (thin, ICE).",
      figure: try PartialDependencePlot(title: "Partial dependence of \(yLabel) on the top features", panels: panels,
                                        yLabel: yLabel, sampleName: "well"))
  }

  /// Up to `individualShown` curves, evenly spaced through `all`.
  static func shown(_ all: [[Double]]) -> [[Double]] {
    guard all.count > individualShown else { return all }
    return (0..<individualShown).map { all[$0 * all.count / individualShown] }
  }

  /// The file's name in `plots/`, as the explain stage writes and registers it.
  public static let fileName = "explanation-hand-features.json"

  /// The explanation file of a run: the explain stage's artifact named `fileName` in the store (not the supervised
  /// CNN's, `SaliencyExplanation.fileName`), or nil when there is none.
  static func file(in builder: ReportBuilder) throws -> URL? {
    let artifact = try builder.store.artifacts().first {
      $0.stage == "explain" && URL(fileURLWithPath: $0.path).lastPathComponent == fileName
    }
    return artifact.map { builder.folder.appendingPathComponent($0.path) }
  }
}

extension ReportSections {
  func explanations() throws -> Section {
    var s = Section(id: "explanations", title: "Explanations")
    s.paragraphs = texts("explanations")
    if let file = try ExplanationFigures.file(in: builder), let data = try? Data(contentsOf: file) {
      let explanation = try ExplanationFigures(json: data, file: file.path)
      if let f = explanation.importance(palette: builder.palette) { s.figures.append(f) }
      if let f = try explanation.partialDependence() { s.figures.append(f) }
    }
    try saliency(into: &s)
    if s.isEmpty { s.note = "No explainer ran in this run: no importance, partial dependence or saliency." }
    return s
  }
}
