extension ImageQuality {
  /// `ImageQuality_Correlation_<scale>`: Haralick's correlation (feature 3) of the grey-level co-occurrence matrix
  /// for pairs `(x, y)` and `(x + scale, y)`, computed as CellProfiler (centrosome's `Haralick(image, labels, 0,
  /// scale).H3()`) does:
  /// - intensities are stretched to [0, 1] by the plane's own minimum and maximum (divisor 1 for a flat plane),
  ///   then quantised to `min(floor(8 v), 7)`; the number of levels is the highest level present plus one;
  /// - `P` is the pair histogram divided by the number of pairs; with levels numbered from 1,
  ///   `corr = (sum_ij i j P_ij - mu_x mu_y) / (sigma_x sigma_y)` over the marginals of `P`;
  /// - a non-finite result (a flat plane, or no pairs because `scale >= width`) is reported as 0.
  /// Invariant to intensity offset and scale. Well-focused images decorrelate faster with distance, so lower
  /// values at a given scale mean sharper detail.
  public static func correlation(_ plane: FocusPlane, scale: Int, levels: Int = 8) throws -> Double {
    guard scale >= 1 else {
      throw FocusMeasuresError.invalidArgument("correlation: scale \(scale) must be at least 1 pixel")
    }
    guard (2...256).contains(levels) else {
      throw FocusMeasuresError.invalidArgument("correlation: \(levels) grey levels; use 2 to 256 (CellProfiler: 8)")
    }
    let w = plane.width
    guard scale < w else { return 0 }
    let q = quantise(plane, levels: levels)
    let n = Int(q.max() ?? 0) + 1
    // Whole counts, in two histograms for alternate pixels: runs of equal pairs (flat background) would otherwise
    // chain every increment on the one before it.
    var even = [Int](repeating: 0, count: n * n)
    var odd = even
    q.withUnsafeBufferPointer { p in even.withUnsafeMutableBufferPointer { e in
      odd.withUnsafeMutableBufferPointer { o in for y in 0..<plane.height {
        let (a, b) = (p.baseAddress! + y * w, p.baseAddress! + y * w + scale)
        var x = 0
        while x + 1 < w - scale {
          e[Int(a[x]) * n + Int(b[x])] += 1
          o[Int(a[x + 1]) * n + Int(b[x + 1])] += 1
          x += 2
        }
        if x < w - scale { e[Int(a[x]) * n + Int(b[x])] += 1 }
      } }
    } }
    let counts = zip(even, odd).map { Double($0 + $1) }
    let pairs = Double((w - scale) * plane.height)
    let probabilities = counts.map { $0 / pairs }
    var px = [Double](repeating: 0, count: n)
    var py = [Double](repeating: 0, count: n)
    var cross = 0.0
    for i in 0..<n {
      for j in 0..<n {
        let pij = probabilities[i * n + j]
        px[i] += pij
        py[j] += pij
        cross += Double((i + 1) * (j + 1)) * pij
      }
    }
    // centrosome renormalises the marginals against round-off in their sums; kept for agreement.
    let sx = px.reduce(0, +)
    let sy = py.reduce(0, +)
    px = px.map { $0 / sx }
    py = py.map { $0 / sy }
    let (muX, sigmaX) = levelMoments(px)
    let (muY, sigmaY) = levelMoments(py)
    let value: Double = (cross - muX * muY) / (sigmaX * sigmaY)
    return value.isFinite ? value : 0
  }

  /// Grey levels `0..<levels` of the plane stretched to [0, 1] (floor(8 v) clipped, as centrosome's quantize).
  static func quantise(_ plane: FocusPlane, levels: Int) -> [UInt8] {
    plane.pixels.withUnsafeBufferPointer { p in
      var (lowest, highest) = (p[0], p[0])
      for v in p {
        if v < lowest { lowest = v }
        if v > highest { highest = v }
      }
      let (lo, hi) = (Double(lowest), Double(highest))
      let divisor = hi > lo ? hi - lo : 1
      let top = levels - 1
      // v >= lo, so truncation is the floor.
      return [UInt8](unsafeUninitializedCapacity: p.count) { out, initialised in
        for i in 0..<p.count { out[i] = UInt8(min(Int((Double(p[i]) - lo) / divisor * Double(levels)), top)) }
        initialised = p.count
      }
    }
  }

  /// Mean and standard deviation of the level number (counted from 1) under the distribution `p`.
  private static func levelMoments(_ p: [Double]) -> (mean: Double, deviation: Double) {
    var mean = 0.0
    for (i, pi) in p.enumerated() { mean += Double(i + 1) * pi }
    var variance = 0.0
    for (i, pi) in p.enumerated() { variance += (Double(i + 1) - mean) * (Double(i + 1) - mean) * pi }
    return (mean, variance.squareRoot())
  }
}
