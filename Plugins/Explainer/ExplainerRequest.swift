import ConfoundKit
import JSONRPC

/// The `explainer.explain` request of method "probe", read from the call and checked against the kind's contract
/// (Protocol/README.md, "explainer"). Every refusal names the input or context member at fault.
struct ProbeExplanationRequest {
  /// rows x columns, row-major, in the table's units.
  var values: [Double]
  var rows: Int
  var columns: Int
  var featureNames: [String]
  var labels: [String]
  /// The identity kept on one side of every fold; each row its own group when the context gives none.
  var groups: [String]
  /// Family name per column ("" for a column in no family).
  var families: [String]
  /// Columns whose partial dependence is asked for by name; nil: the `top` most important.
  var partialDependenceFeatures: [Int]?
  var target: String
  var settings: ExplainerSettings

  init(inputs: [String: TensorView], context: CallContext) throws {
    guard let features = inputs["features"], features.shape.count == 2 else {
      throw PluginError.invalidParams("method \"probe\" needs input \"features\" [N, D] (float32 or float64)")
    }
    (rows, columns) = (features.shape[0], features.shape[1])
    guard rows > 0, columns > 0 else {
      throw PluginError.badInput("input \"features\" is empty: shape \(features.shape)")
    }
    values = features.toDoubles()
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw PluginError.badInput(
        "input \"features\" holds a non-finite value at row \(bad / columns), column "
          + "\(bad % columns); impute or drop that column first")
    }
    func strings(_ key: String, count: Int, what: String) throws -> [String]? {
      guard let value = context.context[key], value != .null else { return nil }
      guard let list = value.arrayValue, list.count == count else {
        throw PluginError.invalidParams("context.\(key) must hold one value per \(what) (\(count))")
      }
      return list.map { $0 == .null ? "" : ($0.stringValue ?? JSONWriter.string($0)) }
    }
    guard let labels = try strings("labels", count: rows, what: "row of \"features\"") else {
      throw PluginError.invalidParams("context.labels must hold one value per row of \"features\" (\(rows))")
    }
    self.labels = labels
    groups = try strings("groups", count: rows, what: "row of \"features\"") ?? (0..<rows).map { String($0) }
    featureNames =
      try strings("feature_names", count: columns, what: "column of \"features\"")
      ?? (0..<columns).map { "feature_\($0)" }
    families =
      try strings("families", count: columns, what: "column of \"features\"")
      ?? [String](repeating: "", count: columns)
    if let asked = context.context["partial_dependence_features"], asked != .null {
      guard let names = asked.arrayValue?.compactMap(\.stringValue), names.count == asked.arrayValue?.count else {
        throw PluginError.invalidParams("context.partial_dependence_features must be a list of feature names")
      }
      let index = Dictionary(featureNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
      partialDependenceFeatures = try names.map { name in
        guard let c = index[name] else {
          throw PluginError.invalidParams(
            "context.partial_dependence_features: no feature named \"\(name)\" in "
              + "context.feature_names")
        }
        return c
      }
    }
    target = context.context["target"]?.stringValue ?? "the label"
    settings = try ExplainerSettings(context)
  }
}

/// The parameters of the manifest, defaults filled in by the host.
struct ExplainerSettings {
  var kind = "both"
  var c = 1.0
  var folds = 5
  var repeats = 5
  var seed: UInt64 = 0
  var resolution = 100
  var percentiles = (low: 0.05, high: 0.95)
  var top = 10
  var importance = true

  init() {}

  init(_ context: CallContext) throws {
    kind = context.string("kind") ?? kind
    c = context.number("c") ?? c
    folds = context.integer("folds") ?? folds
    repeats = context.integer("n_repeats") ?? repeats
    seed = UInt64(max(0, context.integer("seed") ?? 0))
    resolution = context.integer("grid_resolution") ?? resolution
    percentiles = (
      context.number("lower_percentile") ?? percentiles.low,
      context.number("upper_percentile") ?? percentiles.high
    )
    guard percentiles.low < percentiles.high else {
      throw PluginError.invalidParams(
        "parameter lower_percentile (\(percentiles.low)) must be below "
          + "upper_percentile (\(percentiles.high))")
    }
    top = context.integer("top") ?? top
    importance = context.bool("importance") ?? importance
  }

  var average: Bool { kind != "individual" }
  var individual: Bool { kind != "average" }
}
