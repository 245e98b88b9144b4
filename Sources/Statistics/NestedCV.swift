/// The regularisation chosen on training rows alone: an inner grouped cross-validation over a grid of C.
///
/// The outer fold's test rows never enter the choice, so the held-out score of a model fitted with the chosen C
/// is still honest (choosing C on all rows and then cross-validating leaks the test folds into C).
public struct CSelection: Sendable, Equatable {
  /// The grid, in the order given.
  public let grid: [Double]
  /// Mean inner-fold accuracy per grid entry (NaN where an inner fold could not be fitted).
  public let meanScores: [Double]
  /// The chosen C: the first grid entry with the highest mean score (scikit-learn's `GridSearchCV` tie rule).
  public let c: Double
}

extension CrossValidation {
  /// The grid used when none is given: 10^-3 ... 10^2, one value per decade.
  public static let defaultCGrid: [Double] = [0.001, 0.01, 0.1, 1, 10, 100]

  /// Chooses C for L2 logistic regression on `x` (the training rows of an outer fold) by `GroupKFold(innerFolds)`
  /// over `groups`, a `Standardizer` fitted per inner training set, scored by accuracy: scikit-learn's
  /// `GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression()), {"C": grid}, cv=GroupKFold(innerFolds))`
  /// fitted with `groups`. Inner folds are capped at the number of groups.
  public static func selectC(features x: FeatureMatrix, labels: [Int], groups: [String], grid: [Double] = defaultCGrid,
                             innerFolds: Int = 3, options: LBFGSOptions = LBFGSOptions(),
                             checkCancellation: () throws -> Void = {}) throws -> CSelection {
    guard !grid.isEmpty, grid.allSatisfy({ $0 > 0 && $0.isFinite }) else {
      throw StatisticsError.invalidArgument("selectC: the C grid must hold positive finite values, got \(grid)")
    }
    guard labels.count == x.rows, groups.count == x.rows else {
      throw StatisticsError.shape("selectC: \(labels.count) labels and \(groups.count) groups for \(x.rows) rows")
    }
    let distinct = Set(groups).count
    guard distinct >= 2 else {
      throw StatisticsError.invalidArgument(
        "selectC: the training rows hold \(distinct) group; an inner cross-validation needs at least 2")
    }
    let folds = try groupKFold(groups: groups, folds: min(innerFolds, distinct))
    // One standardisation per inner fold, shared by every C.
    let prepared = try folds.map { fold -> (train: FeatureMatrix, test: FeatureMatrix)? in
      guard Set(fold.train.map { labels[$0] }).count >= 2 else { return nil }
      let scaler = try Standardizer(fitting: x, rows: fold.train)
      return (try scaler.transform(x, rows: fold.train), try scaler.transform(x, rows: fold.test))
    }
    var means: [Double] = []
    for c in grid {
      var sum = 0.0
      for (fold, data) in zip(folds, prepared) {
        try checkCancellation()
        // A training set with one class cannot be fitted; scikit-learn scores it NaN and so does this.
        guard let data else { sum = .nan; break }
        let model = try LogisticRegression.fit(features: data.train, labels: fold.train.map { labels[$0] }, c: c,
                                               options: options)
        sum += try Metrics.accuracy(truth: fold.test.map { labels[$0] }, predicted: model.predict(data.test))
      }
      means.append(sum / Double(folds.count))
    }
    // max(by:) keeps the first of equal elements: ties go to the earlier grid entry.
    guard let best = means.indices.filter({ !means[$0].isNaN }).max(by: { means[$0] < means[$1] }) else {
      throw StatisticsError.invalidArgument("selectC: every inner fold of every C failed: some inner training set "
        + "holds a single class; use fewer inner folds or more groups per class")
    }
    return CSelection(grid: grid, meanScores: means, c: grid[best])
  }
}
