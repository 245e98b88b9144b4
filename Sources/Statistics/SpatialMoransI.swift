extension SpatialBias {
  /// Moran's I of a plate over rook adjacency (wells sharing a side), with its expectation and p-values.
  public struct MoransI: Sendable, Equatable {
    /// `I = (n / W) * sum_ij w_ij z_i z_j / sum_i z_i^2`, `z = x - mean(x)` over the `n` present wells, `w_ij = 1`
    /// for present wells sharing a side, `W = sum_ij w_ij` (each adjacent pair counted in both orders).
    public let i: Double
    /// The expectation under no spatial association, `-1 / (n - 1)`.
    public let expected: Double
    /// `(I - E[I]) / sqrt(Var[I])` with the variance under the normality assumption (Cliff and Ord):
    /// `Var = (n^2 S1 - n S2 + 3 W^2) / ((n^2 - 1) W^2) - E[I]^2`.
    public let zScore: Double
    /// Two-sided permutation p-value of `I - E[I]` (values shuffled among the present wells).
    public let pValue: Double
    public let wellCount: Int
    /// Adjacent pairs of present wells, each counted once (`W / 2`).
    public let adjacentPairs: Int
    public let permutations: Int
  }

  /// Moran's I on the present wells of a plate. Missing wells are left out together with their adjacencies, so a
  /// well next to a missing one simply has fewer neighbours. Needs at least 3 present wells, one adjacent pair and
  /// some spread in the values.
  ///
  /// On a full checkerboard with as many high as low wells every neighbour pair has opposite signs and I = -1
  /// exactly; smooth gradients give I near +1.
  public static func moransI(
    values: [Double?], rows: Int, columns: Int, permutations: Int = 9999, seed: UInt64 = 0
  ) throws -> MoransI {
    let plate = try SpatialPlate(values, rows: rows, columns: columns, function: "moransI")
    try plate.require(3, "moransI")
    try checkPermutations(permutations, "moransI")
    // Each adjacent pair once, as positions in `plate.values`; positions of wells looked up through a dense map.
    var position = [Int](repeating: -1, count: rows * columns)
    for (k, well) in plate.wells.enumerated() { position[well] = k }
    var pairs: [(Int, Int)] = []
    for (k, well) in plate.wells.enumerated() {
      let (r, c) = (well / columns, well % columns)
      if c + 1 < columns, position[well + 1] >= 0 { pairs.append((k, position[well + 1])) }
      if r + 1 < rows, position[well + columns] >= 0 { pairs.append((k, position[well + columns])) }
    }
    let n = Double(plate.values.count)
    let m = mean(plate.values)
    let z = plate.values.map { $0 - m }
    let sumSquares = z.reduce(0) { $0 + $1 * $1 }
    guard !pairs.isEmpty, sumSquares > 0 else {
      throw StatisticsError.invalidArgument(
        "SpatialBias.moransI: \(pairs.count) adjacent pairs among \(plate.values.count) wells and "
          + (sumSquares > 0 ? "some spread" : "no spread in the values") + "; Moran's I is undefined")
    }
    let weightSum = 2 * Double(pairs.count)
    let first = pairs.map(\.0)
    let second = pairs.map(\.1)
    let statistic = { (z: UnsafeBufferPointer<Double>) -> Double in
      var cross = 0.0
      first.withUnsafeBufferPointer { a in second.withUnsafeBufferPointer { b in
        for k in 0..<a.count { cross += z[a[k]] * z[b[k]] }
      } }
      return n / weightSum * 2 * cross / sumSquares
    }
    let observed = z.withUnsafeBufferPointer(statistic)
    let expected = -1 / (n - 1)
    // Binary symmetric weights: S1 = 2W (each ordered pair contributes (1 + 1)^2 / 2), S2 = sum_i (2 d_i)^2.
    var degree = [Double](repeating: 0, count: plate.values.count)
    for (a, b) in pairs {
      degree[a] += 1
      degree[b] += 1
    }
    let s1 = 2 * weightSum
    let s2 = degree.reduce(0) { $0 + 4 * $1 * $1 }
    let variance = (n * n * s1 - n * s2 + 3 * weightSum * weightSum) / ((n * n - 1) * weightSum * weightSum)
      - expected * expected
    let pValue = permutationPValues(
      observed: (observed - expected, 0), values: z, permutations: permutations, seed: seed,
      statistics: { (statistic($0) - expected, 0) }).0
    return MoransI(
      i: observed, expected: expected, zScore: variance > 0 ? (observed - expected) / variance.squareRoot() : 0,
      pValue: pValue, wellCount: plate.values.count, adjacentPairs: pairs.count, permutations: permutations)
  }
}
