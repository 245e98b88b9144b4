import JSONRPC
import Statistics

/// Accuracy, balanced accuracy and ROC AUC of held-out probabilities against the true classes.
struct ProbeMetrics {
  var accuracy: Double
  var balancedAccuracy: Double
  /// Binary: AUC of the second class's probability. More classes: the unweighted mean of one-vs-rest AUCs over
  /// the classes that have both positive and negative rows here (all classes overall, as scikit-learn's
  /// `roc_auc_score(multi_class="ovr")`). Nil when no class has both.
  var auc: Double?

  init(truth: [Int], probabilities p: FeatureMatrix) throws {
    let predicted = argmaxRows(p)
    accuracy = try Metrics.accuracy(truth: truth, predicted: predicted)
    balancedAccuracy = try Metrics.balancedAccuracy(truth: truth, predicted: predicted)
    let scored = p.columns == 2 ? [1] : Array(0..<p.columns)
    var aucs: [Double] = []
    for k in scored {
      let positive = truth.map { $0 == k }
      guard positive.contains(true), positive.contains(false) else { continue }
      aucs.append(try Metrics.rocAUC(positive: positive, scores: (0..<p.rows).map { p[$0, k] }))
    }
    auc = aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count)
  }

  var json: JSONObject {
    ["accuracy": .double(accuracy), "balanced_accuracy": .double(balancedAccuracy), "auc": auc.map(JSONValue.double) ?? .null]
  }
}

/// Per-fold and overall metrics of one cross-validation, each fold with its composition.
struct ProbeReport {
  var overall: ProbeMetrics
  var folds: [JSONValue]

  /// - Parameters: `classNames[k]` names class k; `groups` the group of each row.
  init(prediction: HeldOutPrediction, truth: [Int], folds: [Fold], classNames: [String], groups: [String]) throws {
    overall = try ProbeMetrics(truth: truth, probabilities: prediction.probabilities)
    self.folds = try folds.enumerated().map { f, fold in
      let foldTruth = fold.test.map { truth[$0] }
      let m = try ProbeMetrics(truth: foldTruth, probabilities: prediction.foldProbabilities[f])
      var counts = [Int](repeating: 0, count: classNames.count)
      for k in foldTruth { counts[k] += 1 }
      var o: JSONObject = [
        "fold": .int(Int64(f)),
        "test_groups": .array(Array(Set(fold.test.map { groups[$0] })).sorted().map(JSONValue.string)),
        "train_size": .int(Int64(fold.train.count)), "test_size": .int(Int64(fold.test.count)),
        "c": .double(prediction.chosenC[f]),
      ]
      if let selection = prediction.selections[f] {
        o["inner_cv"] = ["grid": .array(selection.grid.map(JSONValue.double)),
                         "mean_accuracy": .array(selection.meanScores.map { $0.isNaN ? .null : .double($0) })]
      }
      for (key, value) in m.json.members { o[key] = value }
      o["composition"] = .object(JSONObject(zip(classNames, counts).filter { $0.1 > 0 }.map {
        (key: $0.0, value: .int(Int64($0.1)))
      }))
      return .object(o)
    }
  }

  var json: JSONValue { ["overall": .object(overall.json), "folds": .array(folds)] }
}
