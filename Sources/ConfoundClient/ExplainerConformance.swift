import Foundation
import JSONRPC

/// The explainer kind's conformance case for method "probe" (Protocol/README.md, "explainer"): a 60-row table
/// with a known answer. Column `signal` is 2 higher in class b than in class a (uniform noise of width 1 on both:
/// the classes separate), `noise` and `noise2` are uniform noise; families density = [signal], focus = [noise,
/// noise2]; ten groups of six rows, each holding both classes.
struct ExplainerCase {
  static let names = ["signal", "noise", "noise2"]
  let rows = 60
  /// rows x 3, row-major, three decimals (so every column has at most 60 distinct values: its grid is its values).
  let values: [Double]
  let labels: [String]

  init(seed: UInt64) {
    var rng = SplitMix(seed)
    labels = (0..<rows).map { $0 % 2 == 0 ? "a" : "b" }
    values = (0..<rows * 3).map { i in
      Double(rng.next() % 1000) / 1000 + (i % 3 == 0 && i / 3 % 2 == 1 ? 2 : 0)
    }
  }

  var context: JSONValue {
    [
      "labels": .array(labels.map(JSONValue.string)), "groups": .array((0..<rows).map { .string("g\($0 / 6)") }),
      "feature_names": .array(Self.names.map(JSONValue.string)), "families": ["density", "focus", "focus"],
      "target": "class",
    ]
  }

  func column(_ j: Int) -> [Double] { (0..<rows).map { values[$0 * 3 + j] } }

  /// The first way the result breaks the contract, or nil.
  func contract(_ result: JSONValue) -> String? {
    guard result["classes"]?.arrayValue?.compactMap(\.stringValue) == ["a", "b"] else {
      return "classes must be [\"a\", \"b\"] (sorted labels)"
    }
    guard let auc = result["baseline"]?["roc_auc"]?.doubleValue, auc > 0.9 else {
      return "baseline.roc_auc must be the held-out ROC AUC (> 0.9 on a table whose classes separate)"
    }
    guard let curves = result["partial_dependence"]?.arrayValue, curves.count == 3 else {
      return "partial_dependence must hold one curve per feature (3, class b each) for a binary target"
    }
    for curve in curves {
      guard let name = curve["feature"]?.stringValue, let j = Self.names.firstIndex(of: name) else {
        return "every partial_dependence entry needs \"feature\", one of the feature names"
      }
      guard curve["class"]?.stringValue == "b" else {
        return "partial dependence of a binary target is of the second class (b)"
      }
      let grid = curve["grid"]?.arrayValue?.compactMap(\.doubleValue) ?? []
      guard grid == Array(Set(column(j))).sorted() else {
        return "the grid of \(name) must be its sorted distinct values (it has fewer than 100)"
      }
      let average = curve["average"]?.arrayValue?.compactMap(\.doubleValue) ?? []
      guard average.count == grid.count, average.allSatisfy({ (0...1).contains($0) }) else {
        return "average of \(name) must hold one probability per grid point"
      }
      guard let individual = curve["individual"]?.arrayValue, individual.count == rows,
        individual.allSatisfy({ $0.arrayValue?.count == grid.count })
      else { return "individual of \(name) must hold one curve (per grid point) per row (\(rows))" }
      if name == "signal",
        !(zip(average, average.dropFirst()).allSatisfy { $0 <= $1 + 1e-12 }
          && average.first! < 0.5 && average.last! > 0.5)
      {
        return
          "partial dependence of P(b) on signal must rise through 0.5 (a logistic model in which b has higher signal)"
      }
    }
    guard let entries = result["permutation_importance"]?.arrayValue, entries.count == 5 else {
      return "permutation_importance must list 2 families and 3 features"
    }
    guard entries.prefix(2).compactMap({ $0["family"]?.stringValue }).sorted() == ["density", "focus"] else {
      return "permutation_importance lists the families (density, focus) first"
    }
    for entry in entries {
      let drops = entry["roc_auc"]?["drops"]?.arrayValue?.compactMap(\.doubleValue) ?? []
      guard drops.count == 10, let mean = entry["mean"]?.doubleValue, let std = entry["std"]?.doubleValue else {
        return "every importance entry needs mean, std and roc_auc.drops (n_repeats = 10)"
      }
      let m = drops.reduce(0, +) / 10
      let s = (drops.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 10).squareRoot()
      guard abs(mean - m) < 1e-9, abs(std - s) < 1e-9 else {
        return "mean and std must be the mean and population standard deviation of the ROC AUC drops"
      }
      let name = entry["feature"]?.stringValue ?? entry["family"]?.stringValue ?? ""
      if ["signal", "density"].contains(name), mean < 0.2 {
        return "permuting \(name) must drop ROC AUC by more than 0.2 (it alone separates the classes); got \(mean)"
      }
      if ["noise", "noise2", "focus"].contains(name), abs(mean) > 0.1 {
        return "permuting the pure noise \(name) must leave ROC AUC within 0.1; got a drop of \(mean)"
      }
    }
    return nil
  }
}
