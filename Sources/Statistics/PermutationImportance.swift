/// ROC AUC and balanced accuracy of held-out class probabilities, the two scores permutation importance drops.
public struct HeldOutScores: Sendable, Equatable {
  /// Binary: AUC of the second class's probability. More classes: the unweighted mean of one-vs-rest AUCs over the
  /// classes with both positive and negative rows (scikit-learn's `roc_auc_ovr` when every class is present).
  public let rocAUC: Double
  /// Of the most probable class (the first on ties), as scikit-learn's `balanced_accuracy`.
  public let balancedAccuracy: Double

  /// `truth` holds class indices 0..<K and `p` one column per class index.
  public init(truth: [Int], probabilities p: FeatureMatrix) throws {
    guard truth.count == p.rows, p.columns >= 2 else {
      throw StatisticsError.shape("HeldOutScores: \(truth.count) labels for \(p.rows) x \(p.columns) probabilities")
    }
    let predicted = (0..<p.rows).map { r in
      (1..<p.columns).reduce(0) { best, k in p[r, k] > p[r, best] ? k : best }
    }
    balancedAccuracy = try Metrics.balancedAccuracy(truth: truth, predicted: predicted)
    var aucs: [Double] = []
    for k in p.columns == 2 ? [1] : Array(0..<p.columns) {
      let positive = truth.map { $0 == k }
      guard positive.contains(true), positive.contains(false) else { continue }
      aucs.append(try Metrics.rocAUC(positive: positive, scores: (0..<p.rows).map { p[$0, k] }))
    }
    guard !aucs.isEmpty else { throw StatisticsError.invalidArgument("HeldOutScores: the rows hold a single class") }
    rocAUC = aucs.reduce(0, +) / Double(aucs.count)
  }
}

/// Permutation importance on held-out folds: how much the held-out ROC AUC and balanced accuracy drop when a
/// feature, or a family of features together, no longer carries information about the row.
///
/// Each fold's model (fitted on its training rows only) predicts the rows that fold tests; the scores are those of
/// these pooled held-out predictions, as the probe reports them. One repeat permutes the rows of the permuted
/// columns over the whole table (scikit-learn's `permutation_importance` shuffles the rows of the data it is given,
/// here every held-out row), so a row's value comes from any other row; permuting only within a fold's test rows
/// would shuffle nothing between groups when a grouped fold tests one cell line. A family's columns move with one
/// permutation, keeping their joint distribution: correlated features hide each other when permuted one at a time.
public struct PermutationImportance: Sendable {
  /// The drops of one permuted set of columns, one per repeat: baseline score minus permuted score.
  public struct Entry: Sendable, Equatable {
    public let columns: [Int]
    public let rocAUCDrops: [Double]
    public let balancedAccuracyDrops: [Double]

    /// Mean and population standard deviation (numpy's `mean` and `std`, ddof 0) over the repeats, as
    /// scikit-learn's `importances_mean` and `importances_std`.
    public var rocAUC: (mean: Double, std: Double) { Self.summary(rocAUCDrops) }
    public var balancedAccuracy: (mean: Double, std: Double) { Self.summary(balancedAccuracyDrops) }

    static func summary(_ values: [Double]) -> (mean: Double, std: Double) {
      guard !values.isEmpty else { return (.nan, .nan) }
      let mean = values.reduce(0, +) / Double(values.count)
      return (mean, (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot())
    }
  }

  public let baseline: HeldOutScores
  /// One per entry of `families`, in that order.
  public let entries: [Entry]

  /// - Parameters:
  ///   - models: one per fold, fitted on that fold's training rows; `folds`: each row tested by exactly one fold.
  ///   - labels: class index 0..<classCount per row of `x`.
  ///   - families: the column sets to permute, each together (a single column for per-feature importance).
  ///   - permutations: one per repeat; row i of a permuted column takes its value from row `permutation[i]`.
  ///   - checkCancellation: called between permuted sets.
  public init(
    models: [StandardizedLogisticModel], folds: [Fold], x: FeatureMatrix, labels: [Int], classCount: Int,
    families: [[Int]], permutations: [[Int]], checkCancellation: () throws -> Void = {}
  ) throws {
    guard models.count == folds.count, labels.count == x.rows else {
      throw StatisticsError.shape(
        "PermutationImportance: \(models.count) models for \(folds.count) folds, "
          + "\(labels.count) labels for \(x.rows) rows")
    }
    var tested = [Int](repeating: 0, count: x.rows)
    for fold in folds { for r in fold.test { tested[r] += 1 } }
    guard tested.allSatisfy({ $0 == 1 }) else {
      throw StatisticsError.invalidArgument("PermutationImportance: every row must be tested by exactly one fold")
    }
    for p in permutations where p.count != x.rows || Set(p) != Set(0..<x.rows) {
      throw StatisticsError.invalidArgument(
        "PermutationImportance: a permutation of \(p.count) rows for \(x.rows) rows")
    }
    for family in families where family.isEmpty || !family.allSatisfy({ (0..<x.columns).contains($0) }) {
      throw StatisticsError.invalidArgument(
        "PermutationImportance: family \(family) is empty or names no column of \(x.columns)")
    }
    func heldOut(_ table: FeatureMatrix) throws -> HeldOutScores {
      var p = FeatureMatrix(zeros: x.rows, classCount)
      for (model, fold) in zip(models, folds) {
        let q = try model.probabilities(table, rows: fold.test, classCount: classCount)
        for (i, r) in fold.test.enumerated() { for k in 0..<classCount { p[r, k] = q[i, k] } }
      }
      return try HeldOutScores(truth: labels, probabilities: p)
    }
    let baseline = try heldOut(x)
    var entries: [Entry] = []
    var permuted = x
    for family in families {
      try checkCancellation()
      var auc: [Double] = []
      var balanced: [Double] = []
      for permutation in permutations {
        for r in 0..<x.rows { for j in family { permuted[r, j] = x[permutation[r], j] } }
        let scores = try heldOut(permuted)
        auc.append(baseline.rocAUC - scores.rocAUC)
        balanced.append(baseline.balancedAccuracy - scores.balancedAccuracy)
      }
      for r in 0..<x.rows { for j in family { permuted[r, j] = x[r, j] } }
      entries.append(Entry(columns: family, rocAUCDrops: auc, balancedAccuracyDrops: balanced))
    }
    self.baseline = baseline
    self.entries = entries
  }

  /// `repeats` uniform permutations of `rows` rows, drawn from `seed`; every family gets the same ones, so that
  /// differences between families are not differences between draws.
  public static func permutations(rows: Int, repeats: Int, seed: UInt64) -> [[Int]] {
    var generator = SeededGenerator(seed: seed)
    return (0..<repeats).map { _ in
      var order = Array(0..<rows)
      generator.shuffle(&order)
      return order
    }
  }
}
