/// Counts of (true class, predicted class) pairs; `counts[i][j]` is the number of rows of class `labels[i]`
/// predicted as `labels[j]` (scikit-learn's `confusion_matrix`, labels = sorted union of both lists).
public struct ConfusionMatrix: Sendable, Equatable {
  public let labels: [Int]
  public let counts: [[Int]]

  public init(truth: [Int], predicted: [Int]) throws {
    guard truth.count == predicted.count, !truth.isEmpty else {
      throw StatisticsError.shape("ConfusionMatrix: \(truth.count) true labels, \(predicted.count) predictions")
    }
    labels = Array(Set(truth + predicted)).sorted()
    let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
    var counts = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
    for (t, p) in zip(truth, predicted) { counts[index[t]!][index[p]!] += 1 }
    self.counts = counts
  }
}

/// Classification scores of predictions or continuous scores against true labels.
public enum Metrics {
  /// Fraction of rows predicted correctly.
  public static func accuracy(truth: [Int], predicted: [Int]) throws -> Double {
    let m = try ConfusionMatrix(truth: truth, predicted: predicted)
    return Double(m.labels.indices.reduce(0) { $0 + m.counts[$1][$1] }) / Double(truth.count)
  }

  /// Mean recall over the classes present in `truth` (scikit-learn's `balanced_accuracy_score`): 1/k for a
  /// constant prediction whatever the class sizes, so a model cannot score by predicting the majority class.
  public static func balancedAccuracy(truth: [Int], predicted: [Int]) throws -> Double {
    let m = try ConfusionMatrix(truth: truth, predicted: predicted)
    let recalls = m.labels.indices.compactMap { i -> Double? in
      let n = m.counts[i].reduce(0, +)
      return n == 0 ? nil : Double(m.counts[i][i]) / Double(n)
    }
    return recalls.reduce(0, +) / Double(recalls.count)
  }

  /// Area under the ROC curve of `scores` for `positive` rows: the Mann-Whitney probability that a random positive
  /// outscores a random negative, ties counting one half (midranks). Equals scikit-learn's `roc_auc_score`.
  public static func rocAUC(positive: [Bool], scores: [Double]) throws -> Double {
    guard positive.count == scores.count else {
      throw StatisticsError.shape("rocAUC: \(positive.count) labels for \(scores.count) scores")
    }
    let nPositive = positive.filter { $0 }.count
    let nNegative = positive.count - nPositive
    guard nPositive > 0, nNegative > 0 else {
      throw StatisticsError.invalidArgument(
        "rocAUC: needs positive and negative rows (have \(nPositive), \(nNegative))")
    }
    guard scores.allSatisfy(\.isFinite) else { throw StatisticsError.numerical("rocAUC: scores contain NaN or inf") }
    let ranks = midranks(scores)
    var positiveRankSum = 0.0
    for (r, p) in zip(ranks, positive) where p { positiveRankSum += r }
    let np = Double(nPositive)
    return (positiveRankSum - np * (np + 1) / 2) / (np * Double(nNegative))
  }

  /// One-vs-rest ROC AUC averaged over classes without weights (scikit-learn's `roc_auc_score(...,
  /// multi_class="ovr", average="macro")`). `scores` has one column per entry of `classes`.
  public static func macroOneVsRestAUC(truth: [Int], scores: FeatureMatrix, classes: [Int]) throws -> Double {
    guard scores.rows == truth.count, scores.columns == classes.count else {
      throw StatisticsError.shape(
        "macroOneVsRestAUC: scores are \(scores.rows) x \(scores.columns), need \(truth.count) x \(classes.count)")
    }
    var sum = 0.0
    for (k, c) in classes.enumerated() {
      sum += try rocAUC(positive: truth.map { $0 == c }, scores: (0..<scores.rows).map { scores[$0, k] })
    }
    return sum / Double(classes.count)
  }
}

/// Ranks 1...n of `x`, tied values sharing the mean of their ranks.
func midranks(_ x: [Double]) -> [Double] {
  let order = x.indices.sorted { x[$0] < x[$1] }
  var ranks = [Double](repeating: 0, count: x.count)
  var start = 0
  while start < order.count {
    var end = start + 1
    while end < order.count && x[order[end]] == x[order[start]] { end += 1 }
    let rank = Double(start + 1 + end) / 2  // mean of ranks start+1 ... end
    for i in start..<end { ranks[order[i]] = rank }
    start = end
  }
  return ranks
}
