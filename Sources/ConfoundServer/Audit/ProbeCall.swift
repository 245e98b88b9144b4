import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC

/// One call of the probe plugin on a table of wells: every probe of the audit goes through here.
struct ProbeCall {
  var target: String
  var columns: [String]
  /// One row of `columns` values per well.
  var rows: [[Double]]
  var labels: [String]
  /// Kept on one side of every fold.
  var groups: [String]
  /// Labels move between whole units in the permutation test; the bootstrap resamples whole units.
  var units: [String]
  var strata: [String]? = nil
  var cv = "group-kfold"
  var metric = "balanced_accuracy"
  /// For paired folds: the label value meaning disease.
  var disease: String? = nil

  /// The plugin's summary, read into the numbers the findings need.
  struct Result {
    let json: JSONValue
    let metric: String
    let score: Double
    let low: Double?
    let high: Double?
    let columnPermuted: Double?
    let nullMean: Double?
    let nullSD: Double?
    let pValue: Double?
    let smallestP: Double?
    let units: Int
    let verdict: String
    /// Per fold: its held-out groups and metrics.
    var folds: [JSONValue] { json["metrics"]?["folds"]?.arrayValue ?? [] }
  }

  func run(_ audit: Audit) throws -> Result {
    let path = audit.out.appendingPathComponent("probe-\(UUID().uuidString).npy")
    try NPYArray(shape: [rows.count, columns.count], values: rows.flatMap { $0 }).write(to: path)
    defer { try? FileManager.default.removeItem(at: path) }
    let strings = { (values: [String]) in JSONValue.array(values.map(JSONValue.string)) }
    var context: JSONObject = [
      "labels": strings(labels), "groups": strings(groups), "units": strings(units),
      "feature_names": strings(columns), "target": .string(target),
    ]
    if let strata { context["strata"] = strings(strata) }
    if let disease { context["disease"] = .string(disease) }
    let request = PluginsRunRequest.Params(
      kind: .probe,
      parameters: ["cv": .string(cv), "folds": 4, "permutations": 199, "bootstraps": 200, "seed": 1, "metric": .string(metric)],
      context: .object(context), inputs: [InputRef(name: "features", npy: path.path)])
    let summary = try audit.runPlugin(request).result
    let ci = summary["score_ci"]?.arrayValue?.compactMap(\.doubleValue) ?? []
    return Result(
      json: summary, metric: metric, score: summary["score"]?.doubleValue ?? .nan, low: ci.first, high: ci.last,
      columnPermuted: summary["column_permuted_score"]?.doubleValue, nullMean: summary["label_permuted_mean"]?.doubleValue,
      nullSD: summary["label_permuted_sd"]?.doubleValue, pValue: summary["p_value"]?.doubleValue,
      smallestP: summary["smallest_attainable_p"]?.doubleValue, units: Int(summary["units"]?.intValue ?? 0),
      verdict: summary["verdict"]?.stringValue ?? "")
  }
}

extension ProbeCall.Result {
  /// The metric in a finding's terms, with the interval of this same metric from the bootstrap over units.
  var findingMetric: AuditFinding.Metric {
    AuditFinding.Metric(name: metric == "roc_auc" ? "ROC AUC" : "balanced accuracy", value: score, ciLow: low, ciHigh: high)
  }

  /// The label-permuted baseline (the null the p-value comes from): its mean and spread.
  var findingBaseline: AuditFinding.Baseline? {
    nullMean.map { AuditFinding.Baseline(name: "labels permuted between units", value: $0, spread: nullSD) }
  }

  /// Whether a label permutation test could reach the audit's level at all.
  var canReachLevel: Bool { (smallestP ?? 0) <= AuditCorrection.level }

  /// "ROC AUC 0.97 (95% CI 0.90 to 1.00) against 0.50 ± 0.12 with labels permuted; 0.55 with features permuted".
  var numbers: String {
    let name = findingMetric.name
    var text = "\(name) \(Say.fixed(score))"
    if let low, let high { text += " (95% CI \(Say.fixed(low)) to \(Say.fixed(high)))" }
    if let nullMean { text += " against \(Say.fixed(nullMean))" + (nullSD.map { " ± \(Say.fixed($0))" } ?? "") + " with labels permuted" }
    if let columnPermuted { text += ", \(Say.fixed(columnPermuted)) with features permuted" }
    return text
  }
}
