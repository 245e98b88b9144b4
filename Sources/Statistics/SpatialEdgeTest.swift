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
    /// Two-sided permutation p-value of `medianDifference`, from the same shuffles.
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
    let edge = zip(plate.values, isEdge).filter { $0.1 }.map(\.0)
    let interior = zip(plate.values, isEdge).filter { !$0.1 }.map(\.0)
    // Scratch for the permutation loop: the two groups' values, sorted in place for their medians.
    let edgeScratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: edgeCount)
    let interiorScratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: interiorCount)
    defer {
      edgeScratch.deallocate()
      interiorScratch.deallocate()
    }
    let differences = { (values: UnsafeBufferPointer<Double>) -> (Double, Double) in
      var (e, i) = (0, 0)
      var edgeSum = 0.0
      var interiorSum = 0.0
      for k in 0..<values.count {
        if isEdge[k] {
          edgeScratch[e] = values[k]
          edgeSum += values[k]
          e += 1
        } else {
          interiorScratch[i] = values[k]
          interiorSum += values[k]
          i += 1
        }
      }
      return (
        edgeSum / Double(edgeCount) - interiorSum / Double(interiorCount),
        medianSorting(edgeScratch) - medianSorting(interiorScratch)
      )
    }
    let observed = plate.values.withUnsafeBufferPointer(differences)
    let pValues = permutationPValues(
      observed: observed, values: plate.values, permutations: permutations, seed: seed, statistics: differences)
    let pooled = pooledStandardDeviation(edge, interior)
    return EdgeTest(
      depth: depth, edgeCount: edgeCount, interiorCount: interiorCount,
      edgeMean: mean(edge), interiorMean: mean(interior), edgeMedian: median(edge), interiorMedian: median(interior),
      meanDifference: observed.0, medianDifference: observed.1,
      standardisedDifference: pooled > 0 ? observed.0 / pooled : 0,
      meanPValue: pValues.0, medianPValue: pValues.1, permutations: permutations)
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
