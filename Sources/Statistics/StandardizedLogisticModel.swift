/// A probe's model as one value: a `Standardizer` fitted on the training rows and an L2 `LogisticRegression` on the
/// rows it scales (scikit-learn's `make_pipeline(StandardScaler(), LogisticRegression(C=c))`). It takes features in
/// their own units, so partial-dependence grids and permuted columns are in the table's units.
public struct StandardizedLogisticModel: Sendable {
  public let scaler: Standardizer
  public let model: LogisticRegression

  public init(scaler: Standardizer, model: LogisticRegression) {
    self.scaler = scaler
    self.model = model
  }

  /// Fits on the rows of `x` at `rows` (every row when nil); `labels` holds one class index per row of `x`.
  public static func fit(
    features x: FeatureMatrix, labels: [Int], rows: [Int]? = nil, c: Double = 1,
    options: LBFGSOptions = LBFGSOptions()
  ) throws -> StandardizedLogisticModel {
    guard labels.count == x.rows else {
      throw StatisticsError.shape("StandardizedLogisticModel.fit: \(labels.count) labels for \(x.rows) feature rows")
    }
    let scaler = try Standardizer(fitting: x, rows: rows)
    let model = try LogisticRegression.fit(
      features: try scaler.transform(x, rows: rows), labels: rows.map { $0.map { labels[$0] } } ?? labels, c: c,
      options: options)
    return StandardizedLogisticModel(scaler: scaler, model: model)
  }

  /// Probabilities of the rows of `x` at `rows` (every row when nil), one column per class of `classCount`: column k
  /// is class index k, and a class the model never saw in training keeps probability 0.
  public func probabilities(_ x: FeatureMatrix, rows: [Int]? = nil, classCount: Int) throws -> FeatureMatrix {
    let p = try model.probabilities(try scaler.transform(x, rows: rows))
    guard model.classes.last.map({ $0 < classCount }) ?? true else {
      throw StatisticsError.shape(
        "StandardizedLogisticModel: class \(model.classes.last!) beyond \(classCount) classes")
    }
    if model.classes == Array(0..<classCount) { return p }
    var full = FeatureMatrix(zeros: p.rows, classCount)
    for r in 0..<p.rows { for (k, label) in model.classes.enumerated() { full[r, label] = p[r, k] } }
    return full
  }
}
