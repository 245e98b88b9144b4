/// Spatial-bias statistics of one measure on one plate (a per-well value, or per-site values aggregated to the
/// well first): Tukey's median polish and cellHTS2's B-score, an edge-versus-interior test, and Moran's I.
///
/// Every function takes the plate as `values: [Double?]` in row-major order (well at plate row `r`, column `c` is
/// `values[r * columns + c]`; row 0 is row A), with `nil` (or NaN) for a missing or excluded well.
/// Permutation p-values are two-sided, `(1 + #{|T*| >= |T|}) / (1 + permutations)` (never 0), and reproducible
/// from `seed`.
public enum SpatialBias {}

/// The wells of a plate that carry a value, with their positions.
struct SpatialPlate {
  let rows: Int
  let columns: Int
  /// Well index `r * columns + c` of each present well, ascending.
  let wells: [Int]
  /// The present values, in the order of `wells`.
  let values: [Double]

  init(_ values: [Double?], rows: Int, columns: Int, function: String) throws {
    guard rows >= 1, columns >= 1, values.count == rows * columns else {
      throw StatisticsError.shape(
        "SpatialBias.\(function): \(values.count) well values cannot fill a \(rows) x \(columns) plate; "
          + "pass one value (or nil) per well in row-major order")
    }
    self.rows = rows
    self.columns = columns
    var wells: [Int] = []
    var present: [Double] = []
    for (index, value) in values.enumerated() {
      if let value, !value.isNaN {
        wells.append(index)
        present.append(value)
      }
    }
    self.wells = wells
    self.values = present
  }

  /// Throws unless at least `minimum` wells carry a value.
  func require(_ minimum: Int, _ function: String) throws {
    guard values.count >= minimum else {
      throw StatisticsError.invalidArgument(
        "SpatialBias.\(function): only \(values.count) of \(rows * columns) wells have a value; need \(minimum)")
    }
  }
}

extension SpatialBias {
  /// NumPy's median (mean of the two middle values for an even count); NaN for no values.
  static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
  }

  /// The median absolute deviation scaled by 1.4826 (R's `mad`), a consistent estimate of a normal SD.
  static func scaledMAD(_ values: [Double]) -> Double {
    let centre = median(values)
    return 1.4826 * median(values.map { abs($0 - centre) })
  }

  /// Two-sided permutation p-values of up to two statistics at once: both are recomputed on the same
  /// `permutations` shuffles of `values` (Fisher-Yates driven by `SeededGenerator(seed:)`), and each p-value is
  /// `(1 + #{|T*| >= |T|}) / (1 + permutations)`. `statistics` reads the shuffled values and returns both
  /// deviations (the second may be 0 when unused).
  static func permutationPValues(
    observed: (Double, Double), values: [Double], permutations: Int, seed: UInt64,
    statistics: (UnsafeBufferPointer<Double>) -> (Double, Double)
  ) -> (Double, Double) {
    var generator = SeededGenerator(seed: seed)
    var shuffled = values
    var atLeast = (0, 0)
    // A relative slack so that permutations equal to the observation up to round-off count as "as extreme".
    let threshold = (abs(observed.0) * (1 - 1e-12), abs(observed.1) * (1 - 1e-12))
    shuffled.withUnsafeMutableBufferPointer { buffer in
      for _ in 0..<permutations {
        for i in stride(from: buffer.count - 1, to: 0, by: -1) {
          buffer.swapAt(i, generator.nextIndex(below: i + 1))
        }
        let t = statistics(UnsafeBufferPointer(buffer))
        if abs(t.0) >= threshold.0 { atLeast.0 += 1 }
        if abs(t.1) >= threshold.1 { atLeast.1 += 1 }
      }
    }
    let denominator = Double(1 + permutations)
    return (Double(1 + atLeast.0) / denominator, Double(1 + atLeast.1) / denominator)
  }

  /// The median of `buffer`, which it sorts in place; NaN when empty.
  static func medianSorting(_ scratch: UnsafeMutableBufferPointer<Double>) -> Double {
    guard !scratch.isEmpty else { return .nan }
    var buffer = scratch
    buffer.sort()
    let n = buffer.count
    return n % 2 == 1 ? buffer[n / 2] : (buffer[n / 2 - 1] + buffer[n / 2]) / 2
  }

  static func checkPermutations(_ permutations: Int, _ function: String) throws {
    guard permutations >= 1 else {
      throw StatisticsError.invalidArgument(
        "SpatialBias.\(function): \(permutations) permutations; use at least 1 (999 or more for p near 0.05)")
    }
  }
}
