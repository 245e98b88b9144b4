/// Principal component analysis of feature rows: the eigen-decomposition (LAPACK `dsyevd` in OpenBLAS) of the
/// covariance matrix formed by one dgemm. Results follow scikit-learn's `PCA` (exact solver): variances use the
/// divisor n - 1, and each component's largest-magnitude entry is positive, which fixes its sign.
public struct PrincipalComponents: Sendable {
  /// Column means of the fitted rows (subtracted before projecting).
  public let mean: [Double]
  /// One row per component, one column per feature; rows are orthonormal, by decreasing variance.
  public let components: FeatureMatrix
  /// The variance along each component (scikit-learn's `explained_variance_`).
  public let explainedVariance: [Double]
  /// Each component's share of the total variance (scikit-learn's `explained_variance_ratio_`).
  public let explainedVarianceRatio: [Double]

  /// Fits the first `count` components (all features when nil) on the rows of `x`.
  public init(fitting x: FeatureMatrix, components count: Int? = nil) throws {
    let d = x.columns
    let k = count ?? d
    guard x.rows >= 2, k >= 1, k <= d else {
      throw StatisticsError.invalidArgument("PCA: need 2+ rows and 1...\(d) components (got \(x.rows) rows, \(k))")
    }
    guard x.values.allSatisfy(\.isFinite) else { throw StatisticsError.numerical("PCA: features contain NaN/inf") }
    var mean = [Double](repeating: 0, count: d)
    for r in 0..<x.rows { for j in 0..<d { mean[j] += x[r, j] } }
    mean = mean.map { $0 / Double(x.rows) }
    var centred = x
    for r in 0..<x.rows { for j in 0..<d { centred[r, j] -= mean[j] } }
    var covariance = [Double](repeating: 0, count: d * d)
    centred.values.withUnsafeBufferPointer { c in
      covariance.withUnsafeMutableBufferPointer { s in
        gemm(transposeA: true, transposeB: false, m: d, n: d, k: x.rows, alpha: 1 / Double(x.rows - 1),
             a: c.baseAddress!, lda: d, b: c.baseAddress!, ldb: d, beta: 0, c: s.baseAddress!, ldc: d)
      }
    }
    let total = (0..<d).reduce(0) { $0 + covariance[$1 * d + $1] }
    let ascending = try LAPACK.symmetricEigen(&covariance, n: d)
    var vectors = FeatureMatrix(zeros: k, d)
    var variance: [Double] = []
    for c in 0..<k {
      let source = d - 1 - c  // eigenvalues come ascending
      let v = covariance[(source * d)..<((source + 1) * d)]
      let pivot = v.max { abs($0) < abs($1) }!
      let sign = pivot < 0 ? -1.0 : 1.0
      for (j, value) in v.enumerated() { vectors[c, j] = sign * value }
      variance.append(max(ascending[source], 0))  // rounding can leave a null direction slightly negative
    }
    self.mean = mean
    components = vectors
    explainedVariance = variance
    explainedVarianceRatio = variance.map { total > 0 ? $0 / total : 0 }
  }

  /// Coordinates of `x`'s rows on the components: `(x - mean) components^T`.
  public func transform(_ x: FeatureMatrix) throws -> FeatureMatrix {
    guard x.columns == mean.count else {
      throw StatisticsError.shape("PCA: fitted on \(mean.count) features, given \(x.columns)")
    }
    var centred = x
    for r in 0..<x.rows { for j in 0..<x.columns { centred[r, j] -= mean[j] } }
    var out = FeatureMatrix(zeros: x.rows, components.rows)
    centred.values.withUnsafeBufferPointer { a in
      components.values.withUnsafeBufferPointer { b in
        out.values.withUnsafeMutableBufferPointer { c in
          gemm(transposeA: false, transposeB: true, m: x.rows, n: components.rows, k: x.columns, alpha: 1,
               a: a.baseAddress!, lda: x.columns, b: b.baseAddress!, ldb: x.columns, beta: 0, c: c.baseAddress!,
               ldc: components.rows)
        }
      }
    }
    return out
  }
}
