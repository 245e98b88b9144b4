extension SpatialBias {
  /// Tukey's two-way median polish of a plate, `value = overall + row + column + residual`, and the B-score.
  public struct MedianPolish: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public let overall: Double
    /// One effect per plate row (0 for a row without values); their median is 0.
    public let rowEffects: [Double]
    /// One effect per plate column (0 for a column without values); their median is 0.
    public let columnEffects: [Double]
    /// Row-major residuals, nil where the well had no value.
    public let residuals: [Double?]
    /// `1.4826 * median(|residual - median(residual)|)` over the plate's residuals.
    public let residualMAD: Double
    /// cellHTS2's B-score, residual / residualMAD (nil where missing; all nil when the MAD is 0).
    public let bScores: [Double?]
    public let iterations: Int
    public let converged: Bool
  }

  /// Median polish as R's `medpolish` (and so cellHTS2's B-score) runs it: alternately subtract row medians and
  /// column medians of the residuals (missing wells ignored), moving the median of the column (row) effects into
  /// the overall term after each row (column) sweep; stop when the sum of absolute residuals changes by less than
  /// `tolerance` times itself, or after `maxIterations` sweeps of both.
  ///
  /// For an exactly additive plate `a_r + b_c` it returns `rowEffects = a - median(a)`,
  /// `columnEffects = b - median(b)`, overall `median(a) + median(b)` and zero residuals after one sweep.
  public static func medianPolish(
    values: [Double?], rows: Int, columns: Int, maxIterations: Int = 10, tolerance: Double = 0.01
  ) throws -> MedianPolish {
    let plate = try SpatialPlate(values, rows: rows, columns: columns, function: "medianPolish")
    try plate.require(1, "medianPolish")
    var residual = [Double](repeating: .nan, count: rows * columns)
    for (well, value) in zip(plate.wells, plate.values) { residual[well] = value }
    var overall = 0.0
    var rowEffects = [Double](repeating: 0, count: rows)
    var columnEffects = [Double](repeating: 0, count: columns)
    var previousSum = 0.0
    var iterations = 0
    var converged = false
    while iterations < maxIterations {
      iterations += 1
      sweep(&residual, &rowEffects, lines: rows, stride: columns, step: 1, length: columns)
      let columnShift = median(columnEffects)
      for c in 0..<columns { columnEffects[c] -= columnShift }
      overall += columnShift
      sweep(&residual, &columnEffects, lines: columns, stride: 1, step: columns, length: rows)
      let rowShift = median(rowEffects)
      for r in 0..<rows { rowEffects[r] -= rowShift }
      overall += rowShift
      let sum = residual.reduce(0) { $1.isNaN ? $0 : $0 + abs($1) }
      converged = sum == 0 || abs(sum - previousSum) < tolerance * sum
      if converged { break }
      previousSum = sum
    }
    let present = residual.filter { !$0.isNaN }
    let mad = scaledMAD(present)
    let residuals = residual.map { $0.isNaN ? nil : $0 }
    return MedianPolish(
      rows: rows, columns: columns, overall: overall, rowEffects: rowEffects, columnEffects: columnEffects,
      residuals: residuals, residualMAD: mad, bScores: residuals.map { r in mad > 0 ? r.map { $0 / mad } : nil },
      iterations: iterations, converged: converged)
  }

  /// Subtracts from each line (a row or a column of the row-major plate) the median of its present residuals and
  /// adds it to that line's effect. Line `l` holds wells `l * stride + k * step` for `k < length`; a line with no
  /// present wells keeps its effect.
  private static func sweep(
    _ residual: inout [Double], _ effects: inout [Double], lines: Int, stride: Int, step: Int, length: Int
  ) {
    var line: [Double] = []
    line.reserveCapacity(length)
    for l in 0..<lines {
      line.removeAll(keepingCapacity: true)
      for k in 0..<length where !residual[l * stride + k * step].isNaN { line.append(residual[l * stride + k * step]) }
      guard !line.isEmpty else { continue }
      let m = median(line)
      for k in 0..<length { residual[l * stride + k * step] -= m }
      effects[l] += m
    }
  }
}
