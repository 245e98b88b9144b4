/// Ordinary least squares of y on an intercept and a few covariates, for adjusting one measurement for another
/// (the edge difference of an intensity after the focus measure is taken out).
public enum LinearAdjustment {
  /// The residuals of y after its least-squares fit on [1, covariates...] (`covariates[j]` has one value per row of
  /// y), by projecting y off an orthonormal basis of those columns (Gram-Schmidt, each pass done twice for
  /// stability). A covariate that is constant or collinear with earlier ones adds nothing and is dropped.
  public static func residuals(_ y: [Double], covariates: [[Double]]) throws -> [Double] {
    let n = y.count
    guard covariates.allSatisfy({ $0.count == n }), n > covariates.count + 1 else {
      throw StatisticsError.invalidArgument("residuals: need more rows than covariates + 1, each covariate one value per row")
    }
    var columns: [[Double]] = [[Double](repeating: 1, count: n)]
    for c in covariates {
      // Drop a covariate whose part orthogonal to the columns kept so far is numerically nothing.
      let r = project(out: c, from: columns)
      let norm = r.reduce(0) { $0 + $1 * $1 }, scale = c.reduce(0) { $0 + $1 * $1 }
      if norm > 1e-12 * max(scale, 1e-300) { columns.append(c) }
    }
    return project(out: y, from: columns)
  }

  /// y minus its least-squares projection onto the span of `columns` (Gram-Schmidt, twice for stability).
  static func project(out y: [Double], from columns: [[Double]]) -> [Double] {
    var basis: [[Double]] = []
    for column in columns {
      var v = column
      for _ in 0..<2 { for b in basis { subtract(&v, b) } }
      let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
      guard norm > 0 else { continue }
      basis.append(v.map { $0 / norm })
    }
    var r = y
    for _ in 0..<2 { for b in basis { subtract(&r, b) } }
    return r
  }

  private static func subtract(_ v: inout [Double], _ unit: [Double]) {
    var dot = 0.0
    for i in v.indices { dot += v[i] * unit[i] }
    for i in v.indices { v[i] -= dot * unit[i] }
  }
}
