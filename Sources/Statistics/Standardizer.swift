/// Centres and scales each feature column with the mean and population standard deviation (ddof 0, as
/// scikit-learn's `StandardScaler`) of the rows it was fitted on.
///
/// Fit it on training rows only and apply it to the held-out rows: fitting on all rows leaks the test fold's
/// location and spread into training. A constant column gets scale 1 (it is centred, not blown up).
///
/// The `rows:` forms read a fold's rows straight out of the whole matrix, so cross-validation neither copies the
/// training rows nor keeps an unscaled copy beside the scaled one (at 100,000 x 1,280 each copy is 1 GB and
/// half a second). They give the same bits as selecting the rows first.
public struct Standardizer: Sendable, Equatable {
  public let means: [Double]
  public let scales: [Double]

  /// Fits on every row of `training`.
  public init(fitting training: FeatureMatrix) throws {
    try self.init(fitting: training, rows: nil)
  }

  /// Fits on the rows of `x` at `rows` (every row when nil).
  public init(fitting x: FeatureMatrix, rows: [Int]?) throws {
    let count = rows?.count ?? x.rows
    guard count > 0 else {
      throw StatisticsError.invalidArgument("Standardizer: no training rows; a fold must keep at least one")
    }
    let d = x.columns
    var mean = [Double](repeating: 0, count: d)
    var squares = [Double](repeating: 0, count: d)
    x.values.withUnsafeBufferPointer { source in
      mean.withUnsafeMutableBufferPointer { m in
        forEachRow(of: source, columns: d, rows: rows, count: count) { row in
          for j in 0..<d { m[j] += row[j] }
        }
        for j in 0..<d { m[j] /= Double(count) }
        // Two passes: subtracting the mean first keeps the variance accurate for columns with a large offset.
        squares.withUnsafeMutableBufferPointer { s in
          forEachRow(of: source, columns: d, rows: rows, count: count) { row in
            for j in 0..<d {
              let e = row[j] - m[j]
              s[j] += e * e
            }
          }
        }
      }
    }
    means = mean
    scales = squares.map { s in
      let sd = (s / Double(count)).squareRoot()
      return sd > 0 ? sd : 1
    }
  }

  /// `(x - mean) / scale`, column by column.
  public func transform(_ x: FeatureMatrix) throws -> FeatureMatrix {
    try transform(x, rows: nil)
  }

  /// The rows of `x` at `rows` (every row when nil), in that order, each as `(x - mean) / scale`.
  public func transform(_ x: FeatureMatrix, rows: [Int]?) throws -> FeatureMatrix {
    var storage: [Double] = []
    return try transform(x, rows: rows, reusing: &storage)
  }

  /// As `transform(_:rows:)`, written into `storage`'s memory (its contents are dropped) when nothing else holds
  /// it. Cross-validation passes one array for every fold and lets go of each fold's matrix before the next, so
  /// a fold's rows (0.8 GB at 100,000 x 1,280) are not mapped and zeroed afresh by the kernel each time: page
  /// faults were 13% of a large probe's time.
  public func transform(_ x: FeatureMatrix, rows: [Int]?, reusing storage: inout [Double]) throws -> FeatureMatrix {
    guard x.columns == means.count else {
      throw StatisticsError.shape("Standardizer: fitted on \(means.count) columns, given \(x.columns)")
    }
    let d = x.columns
    let count = rows?.count ?? x.rows
    storage.removeAll(keepingCapacity: true)
    storage.append(contentsOf: repeatElement(0, count: count * d))
    x.values.withUnsafeBufferPointer { source in
      means.withUnsafeBufferPointer { m in
        scales.withUnsafeBufferPointer { s in
          storage.withUnsafeMutableBufferPointer { target in
            var k = 0
            forEachRow(of: source, columns: d, rows: rows, count: count) { row in
              let o = target.baseAddress! + k * d
              for j in 0..<d { o[j] = (row[j] - m[j]) / s[j] }
              k += 1
            }
          }
        }
      }
    }
    return try FeatureMatrix(rows: count, columns: d, values: storage)
  }
}

/// Calls `body` with a pointer to each row at `rows` in order, or to every row when `rows` is nil.
@inline(__always) private func forEachRow(of source: UnsafeBufferPointer<Double>, columns d: Int, rows: [Int]?,
                                          count: Int, _ body: (UnsafePointer<Double>) -> Void) {
  guard let base = source.baseAddress else { return }  // no columns: nothing to read
  if let rows {
    for r in rows { body(base + r * d) }
  } else {
    for r in 0..<count { body(base + r * d) }
  }
}
