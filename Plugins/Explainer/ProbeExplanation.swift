import ConfoundKit
import JSONRPC
import Statistics

/// Method "probe" end to end: the model on all rows for partial dependence, one model per grouped fold for
/// permutation importance, and the JSON result documented in Protocol/README.md ("explainer").
struct ProbeExplanation {
  /// The order families are listed in before they are ranked; names outside it follow in sorted order.
  static let familyOrder = ["density", "focus", "position", "intensity", "texture", "shape", "embedding"]

  let request: ProbeExplanationRequest
  let x: Statistics.FeatureMatrix
  /// Distinct labels in sorted order (as strings, as the probe sorts them); `truth[r]` indexes it.
  let classNames: [String]
  let truth: [Int]

  init(_ request: ProbeExplanationRequest) throws {
    self.request = request
    x = try Statistics.FeatureMatrix(rows: request.rows, columns: request.columns, values: request.values)
    classNames = Array(Set(request.labels)).sorted()
    guard classNames.count >= 2 else {
      throw PluginError.invalidParams(
        "context.labels hold \(classNames.count) distinct value; a model needs at least 2")
    }
    let index = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
    truth = request.labels.map { index[$0]! }
  }

  /// The families present, each with its columns, in `familyOrder`.
  var families: [(name: String, columns: [Int])] {
    let grouped = Dictionary(
      grouping: request.families.indices.filter { !request.families[$0].isEmpty },
      by: { request.families[$0] })
    return grouped.keys.sorted { a, b in
      let (i, j) = (Self.familyOrder.firstIndex(of: a) ?? Int.max, Self.familyOrder.firstIndex(of: b) ?? Int.max)
      return i != j ? i < j : a < b
    }.map { ($0, grouped[$0]!) }
  }

  func run(check: () throws -> Void, progress: (Double, String?) -> Void) throws -> JSONValue {
    let settings = request.settings
    let model = try fit(rows: nil, what: "all rows")
    var result: JSONObject = [
      "method": "probe", "target": .string(request.target), "classes": .array(classNames.map(JSONValue.string)),
      "rows": .int(Int64(x.rows)), "features": .int(Int64(x.columns)), "model": modelJSON(model),
    ]
    var ranking = Array(0..<x.columns)
    if settings.importance {
      let folds = try makeFolds()
      var models: [StandardizedLogisticModel] = []
      for (f, fold) in folds.enumerated() {
        try check()
        models.append(try fit(rows: fold.train, what: "fold \(f)'s training rows"))
      }
      let sets = families
      progress(0.1, "permutation importance")
      let importance = try PermutationImportance(
        models: models, folds: folds, x: x, labels: truth, classCount: classNames.count,
        families: sets.map(\.columns) + (0..<x.columns).map { [$0] },
        permutations: PermutationImportance.permutations(rows: x.rows, repeats: settings.repeats, seed: settings.seed),
        checkCancellation: check)
      let familyEntries = importance.entries.prefix(sets.count)
      let featureEntries = Array(importance.entries.dropFirst(sets.count))
      ranking.sort { a, b in
        let (u, v) = (featureEntries[a].rocAUC.mean, featureEntries[b].rocAUC.mean)
        return u != v ? u > v : a < b
      }
      let ranked = zip(sets, familyEntries).sorted { $0.1.rocAUC.mean > $1.1.rocAUC.mean }
      result["baseline"] = [
        "roc_auc": .double(importance.baseline.rocAUC),
        "balanced_accuracy": .double(importance.baseline.balancedAccuracy),
      ]
      result["folds"] = .array(
        folds.map { fold in
          [
            "test_size": .int(Int64(fold.test.count)),
            "test_groups": .array(Array(Set(fold.test.map { request.groups[$0] })).sorted().map(JSONValue.string)),
          ]
        })
      result["n_repeats"] = .int(Int64(settings.repeats))
      result["seed"] = .int(Int64(settings.seed))
      let familyJSON: [JSONValue] = ranked.map { set, entry in
        let members: [JSONValue] = set.columns.map { .string(request.featureNames[$0]) }
        return entryJSON(entry, label: ["family": .string(set.name), "features": .array(members)])
      }
      let featureJSON: [JSONValue] = ranking.map {
        entryJSON(featureEntries[$0], label: ["feature": .string(request.featureNames[$0])])
      }
      result["permutation_importance"] = .array(familyJSON + featureJSON)
    }
    let chosen =
      request.partialDependenceFeatures
      ?? Array(settings.top == 0 ? ranking : Array(ranking.prefix(settings.top)))
    var curves: [JSONValue] = []
    for (i, feature) in chosen.enumerated() {
      try check()
      progress(0.5 + 0.5 * Double(i) / Double(max(chosen.count, 1)), "partial dependence")
      let column = (0..<x.rows).map { x[$0, feature] }
      let grid = try PartialDependence.grid(column, percentiles: settings.percentiles, resolution: settings.resolution)
      let curve = try PartialDependence.curve(
        of: model, x: x, feature: feature, grid: grid,
        individual: settings.individual)
      for (o, k) in curve.classes.enumerated() {
        var entry: JSONObject = [
          "feature": .string(request.featureNames[feature]), "class": .string(classNames[k]),
          "grid": .array(grid.map(JSONValue.double)),
        ]
        if settings.average { entry["average"] = .array(curve.average[o].map(JSONValue.double)) }
        if settings.individual {
          let ice = curve.individual[o]
          entry["individual"] = .array(
            (0..<ice.rows).map { r in
              .array((0..<ice.columns).map { .double(ice[r, $0]) })
            })
        }
        curves.append(.object(entry))
      }
    }
    result["partial_dependence"] = .array(curves)
    return .object(result)
  }

  /// GroupKFold over the context's groups, as the probe's default splitter.
  func makeFolds() throws -> [Fold] {
    let distinct = Set(request.groups).count
    guard distinct >= 2 else {
      throw PluginError.invalidParams("context.groups hold \(distinct) group; held-out folds need at least 2")
    }
    return try CrossValidation.groupKFold(groups: request.groups, folds: min(request.settings.folds, distinct))
  }

  func fit(rows: [Int]?, what: String) throws -> StandardizedLogisticModel {
    do {
      return try StandardizedLogisticModel.fit(features: x, labels: truth, rows: rows, c: request.settings.c)
    } catch StatisticsError.invalidArgument(let reason) {
      throw PluginError.invalidParams(
        "the logistic regression on \(what) cannot be fitted: \(reason) (use groups "
          + "that leave every class in every fold's training rows, or fewer folds)")
    }
  }

  func modelJSON(_ fitted: StandardizedLogisticModel) -> JSONValue {
    let w = fitted.model.coefficients
    return [
      "c": .double(request.settings.c),
      "classes": .array(fitted.model.classes.map { .string(classNames[$0]) }),
      "coefficients": .array((0..<w.rows).map { k in .array((0..<w.columns).map { .double(w[k, $0]) }) }),
      "intercepts": .array(fitted.model.intercepts.map(JSONValue.double)),
      "means": .array(fitted.scaler.means.map(JSONValue.double)),
      "scales": .array(fitted.scaler.scales.map(JSONValue.double)),
      "iterations": .int(Int64(fitted.model.optimisation.iterations)),
    ]
  }

  func entryJSON(_ entry: PermutationImportance.Entry, label: JSONObject) -> JSONValue {
    func summary(_ drops: [Double], _ s: (mean: Double, std: Double)) -> JSONValue {
      ["mean": .double(s.mean), "std": .double(s.std), "drops": .array(drops.map(JSONValue.double))]
    }
    var o = label
    o["mean"] = .double(entry.rocAUC.mean)
    o["std"] = .double(entry.rocAUC.std)
    o["roc_auc"] = summary(entry.rocAUCDrops, entry.rocAUC)
    o["balanced_accuracy"] = summary(entry.balancedAccuracyDrops, entry.balancedAccuracy)
    return .object(o)
  }
}
