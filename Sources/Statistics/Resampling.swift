/// A percentile bootstrap confidence interval.
public struct BootstrapInterval: Sendable {
  /// The statistic on the original rows.
  public let estimate: Double
  public let lower: Double
  public let upper: Double
  public let confidence: Double
  /// The statistic of each replicate that gave a finite value, in drawing order.
  public let replicates: [Double]
  /// Replicates whose statistic was not finite (for example an AUC on a resample holding one class).
  public let skipped: Int
}

extension Inference {
  /// Percentile bootstrap over units of replication: each replicate draws as many units as there are, with
  /// replacement, and passes the rows of the drawn units (a unit drawn twice contributes its rows twice) to
  /// `statistic`. Bounds are the (1 - confidence)/2 and (1 + confidence)/2 quantiles of the replicates with
  /// linear interpolation (numpy's default `percentile`). Return NaN from `statistic` to skip a replicate.
  public static func bootstrapInterval<U: Hashable & Comparable>(
    units: [U], replicates: Int = 2000, confidence: Double = 0.95, seed: UInt64,
    statistic: ([Int]) throws -> Double
  ) throws -> BootstrapInterval {
    guard replicates > 0, confidence > 0, confidence < 1 else {
      throw StatisticsError.invalidArgument("bootstrapInterval: need replicates > 0 and 0 < confidence < 1")
    }
    let (unique, inverse) = uniqueInverse(units)
    var rowsOfUnit = [[Int]](repeating: [], count: unique.count)
    for (r, u) in inverse.enumerated() { rowsOfUnit[u].append(r) }
    let estimate = try statistic(Array(inverse.indices))
    var generator = SeededGenerator(seed: seed)
    var values: [Double] = []
    for _ in 0..<replicates {
      var rows: [Int] = []
      for _ in unique.indices { rows += rowsOfUnit[generator.nextIndex(below: unique.count)] }
      let v = try statistic(rows)
      if v.isFinite { values.append(v) }
    }
    guard !values.isEmpty else {
      throw StatisticsError.numerical("bootstrapInterval: every replicate gave a non-finite statistic")
    }
    let sorted = values.sorted()
    return BootstrapInterval(estimate: estimate, lower: quantile(sorted, (1 - confidence) / 2),
                             upper: quantile(sorted, (1 + confidence) / 2), confidence: confidence,
                             replicates: values, skipped: replicates - values.count)
  }

  /// A baseline for probes: each feature column permuted independently (seeded). Every column keeps its values
  /// (its marginal distribution) but loses its link to the labels and to the other columns, so a probe scoring
  /// well on it reveals leakage or overfitting rather than signal.
  public static func permutingColumns(_ x: FeatureMatrix, seed: UInt64) -> FeatureMatrix {
    var generator = SeededGenerator(seed: seed)
    var out = x
    var order = Array(0..<x.rows)
    for j in 0..<x.columns {
      generator.shuffle(&order)
      for r in 0..<x.rows { out[r, j] = x[order[r], j] }
    }
    return out
  }
}

/// The q-quantile of ascending `sorted` by linear interpolation between order statistics.
func quantile(_ sorted: [Double], _ q: Double) -> Double {
  let position = q * Double(sorted.count - 1)
  let below = Int(position.rounded(.down))
  let above = min(below + 1, sorted.count - 1)
  return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
}
