extension SpatialBias {
  /// Edge wells against interior wells: differences of means and medians, with permutation p-values.
  public struct EdgeTest: Sendable, Equatable {
    /// Wells within `depth` rows or columns of the plate's border count as edge wells.
    public let depth: Int
    public let edgeCount: Int
    public let interiorCount: Int
    public let edgeMean: Double
    public let interiorMean: Double
    public let edgeMedian: Double
    public let interiorMedian: Double
    /// `edgeMean - interiorMean`.
    public let meanDifference: Double
    /// `edgeMedian - interiorMedian`.
    public let medianDifference: Double
    /// `meanDifference` over the pooled within-group standard deviation (Cohen's d); 0 when that is 0.
    public let standardisedDifference: Double
    /// Two-sided permutation p-value of `meanDifference` (edge labels shuffled among the present wells).
    public let meanPValue: Double
    /// Two-sided permutation p-value of `medianDifference`, from the same shuffles' seed.
    public let medianPValue: Double
    public let permutations: Int
  }

  /// Compares wells within `depth` of the border (rows `< depth` or `>= rows - depth`, likewise columns) with the
  /// rest. Needs at least two present wells in each group.
  public static func edgeTest(
    values: [Double?], rows: Int, columns: Int, depth: Int = 1, permutations: Int = 9999, seed: UInt64 = 0
  ) throws -> EdgeTest {
    let plate = try SpatialPlate(values, rows: rows, columns: columns, function: "edgeTest")
    try checkPermutations(permutations, "edgeTest")
    guard depth >= 1 else {
      throw StatisticsError.invalidArgument("SpatialBias.edgeTest: depth \(depth) must be at least 1 well")
    }
    let isEdge = plate.wells.map { well in
      let (r, c) = (well / columns, well % columns)
      return r < depth || r >= rows - depth || c < depth || c >= columns - depth
    }
    let edgeCount = isEdge.filter { $0 }.count
    let interiorCount = isEdge.count - edgeCount
    guard edgeCount >= 2, interiorCount >= 2 else {
      throw StatisticsError.invalidArgument(
        "SpatialBias.edgeTest: \(edgeCount) edge and \(interiorCount) interior wells with values on a \(rows) x "
          + "\(columns) plate at depth \(depth); need at least 2 of each (use a smaller depth or a larger plate)")
    }
    let split = { (values: [Double]) -> (edge: [Double], interior: [Double]) in
      var edge: [Double] = []
      var interior: [Double] = []
      for (value, onEdge) in zip(values, isEdge) {
        if onEdge { edge.append(value) } else { interior.append(value) }
      }
      return (edge, interior)
    }
    let meanDifference = { (values: [Double]) -> Double in
      var sum = 0.0
      var total = 0.0
      for (value, onEdge) in zip(values, isEdge) {
        total += value
        if onEdge { sum += value }
      }
      return sum / Double(edgeCount) - (total - sum) / Double(interiorCount)
    }
    let medianDifference = { (values: [Double]) -> Double in
      let (edge, interior) = split(values)
      return median(edge) - median(interior)
    }
    let (edge, interior) = split(plate.values)
    let observedMean = meanDifference(plate.values)
    let observedMedian = medianDifference(plate.values)
    let pooled = pooledStandardDeviation(edge, interior)
    return EdgeTest(
      depth: depth, edgeCount: edgeCount, interiorCount: interiorCount,
      edgeMean: mean(edge), interiorMean: mean(interior), edgeMedian: median(edge), interiorMedian: median(interior),
      meanDifference: observedMean, medianDifference: observedMedian,
      standardisedDifference: pooled > 0 ? observedMean / pooled : 0,
      meanPValue: permutationPValue(
        observed: observedMean, values: plate.values, permutations: permutations, seed: seed,
        statistic: meanDifference),
      medianPValue: permutationPValue(
        observed: observedMedian, values: plate.values, permutations: permutations, seed: seed,
        statistic: medianDifference),
      permutations: permutations)
  }

  static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

  /// `sqrt(((n1 - 1) s1^2 + (n2 - 1) s2^2) / (n1 + n2 - 2))` with sample variances `s^2`.
  static func pooledStandardDeviation(_ a: [Double], _ b: [Double]) -> Double {
    let squares = { (v: [Double]) -> Double in
      let m = mean(v)
      return v.reduce(0) { $0 + ($1 - m) * ($1 - m) }
    }
    return ((squares(a) + squares(b)) / Double(a.count + b.count - 2)).squareRoot()
  }
}
