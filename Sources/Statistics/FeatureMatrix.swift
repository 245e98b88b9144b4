/// A dense, row-major matrix of `Double`: one row per observation (well, cell, image), one column per feature.
///
/// Invariant: `values.count == rows * columns`. Row `r` occupies `values[r * columns ..< (r + 1) * columns]`, the
/// layout cblas expects with `CblasRowMajor` and leading dimension `columns`.
public struct FeatureMatrix: Sendable, Equatable {
  public let rows: Int
  public let columns: Int
  public var values: [Double]

  /// Wraps `values` (row-major). Fails with a message naming the sizes when the count does not match.
  public init(rows: Int, columns: Int, values: [Double]) throws {
    guard rows >= 0, columns >= 0, values.count == rows * columns else {
      throw StatisticsError.shape("FeatureMatrix: \(values.count) values cannot fill \(rows) x \(columns)")
    }
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  /// Converts float32 planes (the plugin adapter's format) to double precision.
  public init(rows: Int, columns: Int, float32 values: [Float]) throws {
    try self.init(rows: rows, columns: columns, values: values.map(Double.init))
  }

  /// A matrix of zeros.
  public init(zeros rows: Int, _ columns: Int) {
    self.rows = rows
    self.columns = columns
    self.values = [Double](repeating: 0, count: rows * columns)
  }

  public subscript(row: Int, column: Int) -> Double {
    get { values[row * columns + column] }
    set { values[row * columns + column] = newValue }
  }

  /// The rows at `indices`, in that order (duplicates allowed, as a bootstrap needs).
  public func selecting(rows indices: [Int]) -> FeatureMatrix {
    var out = FeatureMatrix(zeros: indices.count, columns)
    out.values.withUnsafeMutableBufferPointer { dst in
      values.withUnsafeBufferPointer { src in
        for (k, r) in indices.enumerated() {
          for c in 0..<columns { dst[k * columns + c] = src[r * columns + c] }
        }
      }
    }
    return out
  }
}

/// Errors from the statistics module; each message names the argument at fault and what to do.
public enum StatisticsError: Error, CustomStringConvertible, Equatable {
  /// Sizes of arguments disagree.
  case shape(String)
  /// An argument is outside its domain (too few groups for the folds, a single class, ...).
  case invalidArgument(String)
  /// A numerical routine could not finish (LAPACK failure, non-finite values).
  case numerical(String)

  public var description: String {
    switch self {
    case .shape(let m), .invalidArgument(let m), .numerical(let m): return m
    }
  }
}
