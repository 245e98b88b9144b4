/// Centres and scales each feature column with the mean and population standard deviation (ddof 0, as
/// scikit-learn's `StandardScaler`) of the rows it was fitted on.
///
/// Fit it on training rows only and apply it to the held-out rows: fitting on all rows leaks the test fold's
/// location and spread into training. A constant column gets scale 1 (it is centred, not blown up).
public struct Standardizer: Sendable, Equatable {
  public let means: [Double]
  public let scales: [Double]

  /// Fits on the rows of `training`.
  public init(fitting training: FeatureMatrix) throws {
    guard training.rows > 0 else {
      throw StatisticsError.invalidArgument("Standardizer: no training rows; a fold must keep at least one")
    }
    let d = training.columns
    var mean = [Double](repeating: 0, count: d)
    var squares = [Double](repeating: 0, count: d)
    for r in 0..<training.rows { for j in 0..<d { mean[j] += training[r, j] } }
    for j in 0..<d { mean[j] /= Double(training.rows) }
    // Two passes: subtracting the mean first keeps the variance accurate for columns with a large offset.
    for r in 0..<training.rows {
      for j in 0..<d {
        let e = training[r, j] - mean[j]
        squares[j] += e * e
      }
    }
    means = mean
    scales = squares.map { s in
      let sd = (s / Double(training.rows)).squareRoot()
      return sd > 0 ? sd : 1
    }
  }

  /// `(x - mean) / scale`, column by column.
  public func transform(_ x: FeatureMatrix) throws -> FeatureMatrix {
    guard x.columns == means.count else {
      throw StatisticsError.shape("Standardizer: fitted on \(means.count) columns, given \(x.columns)")
    }
    var out = x
    out.values.withUnsafeMutableBufferPointer { v in
      for r in 0..<x.rows {
        for j in 0..<x.columns { v[r * x.columns + j] = (v[r * x.columns + j] - means[j]) / scales[j] }
      }
    }
    return out
  }
}
