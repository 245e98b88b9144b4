/// Held-out class probabilities for every row: each row is scored by the model of the one fold that tests it,
/// a model that (with its standardisation) never saw that row, so scores computed from these are honest.
public struct OutOfFoldPrediction: Sendable {
  /// All labels seen, ascending; column k of `probabilities` belongs to `classes[k]`.
  public let classes: [Int]
  /// One row per input row. A class absent from a fold's training rows gets probability 0 in that fold.
  public let probabilities: FeatureMatrix
  /// The fold that tested each row.
  public let foldOfRow: [Int]

  /// The most probable class of each row (first class on ties).
  public var predicted: [Int] {
    (0..<probabilities.rows).map { r in
      var best = 0
      for k in 1..<classes.count where probabilities[r, k] > probabilities[r, best] { best = k }
      return classes[best]
    }
  }
}

extension CrossValidation {
  /// For each fold: fits a `Standardizer` on the training rows only, fits L2 logistic regression on them, and
  /// predicts the test rows (scikit-learn's `cross_val_predict(make_pipeline(StandardScaler(),
  /// LogisticRegression(C=c)), method="predict_proba")`). Every row must be tested by exactly one fold.
  public static func outOfFoldProbabilities(features x: FeatureMatrix, labels: [Int], folds: [Fold], c: Double = 1,
                                            options: LBFGSOptions = LBFGSOptions()) throws -> OutOfFoldPrediction {
    guard labels.count == x.rows else {
      throw StatisticsError.shape("outOfFoldProbabilities: \(labels.count) labels for \(x.rows) feature rows")
    }
    var foldOfRow = [Int](repeating: -1, count: x.rows)
    for (f, fold) in folds.enumerated() {
      for r in fold.test {
        guard foldOfRow[r] < 0 else {
          throw StatisticsError.invalidArgument("outOfFoldProbabilities: row \(r) is tested by two folds")
        }
        foldOfRow[r] = f
      }
    }
    if let untested = foldOfRow.firstIndex(of: -1) {
      throw StatisticsError.invalidArgument("outOfFoldProbabilities: row \(untested) is tested by no fold")
    }
    let classes = Array(Set(labels)).sorted()
    let column = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    var probabilities = FeatureMatrix(zeros: x.rows, classes.count)
    var trainingStorage: [Double] = []  // one fold's scaled rows at a time, in the same memory
    for (f, fold) in folds.enumerated() {
      let scaler = try Standardizer(fitting: x, rows: fold.train)
      let model: LogisticRegression
      do {
        model = try LogisticRegression.fit(features: scaler.transform(x, rows: fold.train, reusing: &trainingStorage),
                                           labels: fold.train.map { labels[$0] }, c: c, options: options)
      } catch StatisticsError.invalidArgument(let reason) {
        throw StatisticsError.invalidArgument("outOfFoldProbabilities: fold \(f): \(reason)")
      }
      let p = try model.probabilities(scaler.transform(x, rows: fold.test))
      for (i, r) in fold.test.enumerated() {
        for (k, label) in model.classes.enumerated() { probabilities[r, column[label]!] = p[i, k] }
      }
    }
    return OutOfFoldPrediction(classes: classes, probabilities: probabilities, foldOfRow: foldOfRow)
  }
}
