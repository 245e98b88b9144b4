/// Partial dependence and individual conditional expectation (ICE) of a fitted standardised logistic model, with
/// scikit-learn's definitions (`sklearn.inspection.partial_dependence`, method "brute"): every row's feature is set
/// to each grid value in turn, the rows keep their other features, and the model's class probabilities are read.
/// ICE is each row's curve; partial dependence their mean.
public enum PartialDependence {
  /// scikit-learn's defaults: the grid spans the 5th to the 95th percentile with 100 points.
  public static let defaultPercentiles = (low: 0.05, high: 0.95)
  public static let defaultResolution = 100

  /// One feature's curves. Outputs follow scikit-learn: a binary model has one, the probability of the second class
  /// in sorted order (`classes_[1]`); a model of K > 2 classes has K, one per class.
  public struct Curve: Sendable, Equatable {
    public let feature: Int
    public let grid: [Double]
    /// The class (a label of the model's training, see `LogisticRegression.classes`) of each output.
    public let classes: [Int]
    /// outputs x grid: the mean over rows of each output at each grid value.
    public let average: [[Double]]
    /// Per output, rows x grid (ICE); empty when not asked for.
    public let individual: [FeatureMatrix]
  }

  /// scikit-learn's `_grid_from_X` for one column: its sorted unique values when it has fewer than `resolution`
  /// of them, else `resolution` evenly spaced points (numpy's `linspace`) from the `percentiles.low` to the
  /// `percentiles.high` quantile, both taken as scipy's `mquantiles` takes them (plotting positions
  /// alphap = betap = 0.4), which is what scikit-learn calls.
  public static func grid(
    _ column: [Double], percentiles: (low: Double, high: Double) = defaultPercentiles,
    resolution: Int = defaultResolution
  ) throws -> [Double] {
    guard !column.isEmpty, column.allSatisfy(\.isFinite) else {
      throw StatisticsError.invalidArgument("PartialDependence.grid: the column is empty or holds NaN or infinity")
    }
    guard resolution > 1, 0 <= percentiles.low, percentiles.low < percentiles.high, percentiles.high <= 1 else {
      throw StatisticsError.invalidArgument(
        "PartialDependence.grid: need resolution > 1 and 0 <= low < high <= 1 percentiles")
    }
    let sorted = column.sorted()
    var unique: [Double] = []
    for v in sorted where unique.last != v { unique.append(v) }
    if unique.count < resolution { return unique }
    let low = mquantile(sorted: sorted, probability: percentiles.low)
    let high = mquantile(sorted: sorted, probability: percentiles.high)
    // scikit-learn refuses percentiles that meet (np.allclose with its default tolerances).
    guard abs(high - low) > 1e-8 + 1e-5 * abs(high) else {
      throw StatisticsError.invalidArgument(
        "PartialDependence.grid: the \(percentiles.low) and \(percentiles.high) quantiles are both \(low); "
          + "choose percentiles further apart")
    }
    let step = (high - low) / Double(resolution - 1)
    var points = (0..<resolution).map { Double($0) * step + low }
    points[resolution - 1] = high  // numpy's linspace ends exactly on `stop`
    return points
  }

  /// scipy's `mstats.mquantiles(data, prob, alphap=0.4, betap=0.4)` of ascending `sorted`.
  static func mquantile(sorted x: [Double], probability p: Double) -> Double {
    let n = x.count
    guard n > 1 else { return x[0] }
    let m = 0.4 + p * (1 - 0.4 - 0.4)
    let aleph = Double(n) * p + m
    let k = Int(min(max(aleph, 1), Double(n - 1)).rounded(.down))
    let gamma = min(max(aleph - Double(k), 0), 1)
    return (1 - gamma) * x[k - 1] + gamma * x[k]
  }

  /// The curves of `feature` over `grid`, on the rows of `x` (in the model's input units).
  ///
  /// The model is linear before its link, so setting feature j to v moves each row's decision values by
  /// coef[:, j] * ((v - mean_j) / scale_j - scaled x_ij): computed that way, not by re-scaling the whole table at
  /// every grid point, the cost is rows x grid x outputs per feature instead of rows x grid x features.
  public static func curve(
    of fitted: StandardizedLogisticModel, x: FeatureMatrix, feature: Int, grid: [Double],
    individual: Bool
  ) throws -> Curve {
    guard feature >= 0, feature < x.columns else {
      throw StatisticsError.invalidArgument("PartialDependence: feature \(feature) of \(x.columns) columns")
    }
    guard x.rows > 0, !grid.isEmpty else {
      throw StatisticsError.invalidArgument("PartialDependence: needs rows and a grid")
    }
    let model = fitted.model
    let scaled = try fitted.scaler.transform(x)
    let base = try model.decisionFunction(scaled)
    let outputs = base.columns
    let (mean, scale) = (fitted.scaler.means[feature], fitted.scaler.scales[feature])
    // Binary: scikit-learn keeps only the second class. More classes: every class, mapped onto the class indices.
    let kept: [Int] = model.classes.count == 2 ? [1] : Array(model.classes.indices)
    var average = [[Double]](repeating: [Double](repeating: 0, count: grid.count), count: kept.count)
    var curves =
      individual ? [FeatureMatrix](repeating: FeatureMatrix(zeros: x.rows, grid.count), count: kept.count) : []
    var z = base
    for (g, value) in grid.enumerated() {
      let moved = (value - mean) / scale
      for r in 0..<x.rows {
        let shift = moved - scaled[r, feature]
        for k in 0..<outputs { z[r, k] = base[r, k] + model.coefficients[k, feature] * shift }
      }
      let p = try model.probabilities(decision: z)
      for (o, k) in kept.enumerated() {
        var sum = 0.0
        for r in 0..<x.rows {
          sum += p[r, k]
          if individual { curves[o][r, g] = p[r, k] }
        }
        average[o][g] = sum / Double(x.rows)
      }
    }
    return Curve(
      feature: feature, grid: grid, classes: kept.map { model.classes[$0] }, average: average,
      individual: curves)
  }
}
