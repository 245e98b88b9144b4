import Foundation

extension DefocusFeatures {
  /// The lags in groups of at most four, ascending within a group, for `lagGroup`.
  static let lagGroups: [[Int]] = stride(from: 0, to: lags.count, by: 4).map {
    Array(lags[$0..<min($0 + 4, lags.count)])
  }

  /// Difference energy `log(D_k / mean^2)` and edge steepness of each lag `k` of `group` (at most four, ascending)
  /// over the `n`-square patch `p`.
  ///
  /// Each lag's squared differences are summed in one running sum in the order of the plain loop (rows, then
  /// columns; within a row by `x`), so the features keep their last bits, which the shipped weights were fitted to.
  /// The lags of a group are walked together, one lane each: four independent sums instead of one chain of
  /// dependent additions. Where a lag's stencil still fits but the group's largest does not, its lane is finished
  /// on its own before the next row. The steepness quantile keeps only the largest differences (`StreamQuantile`).
  static func lagGroup(
    _ p: UnsafeBufferPointer<Double>, n: Int, group: [Int], range: Double, m2: Double
  ) -> (energies: [Double], edges: [Double]) {
    let real = group.count
    let kmax = group[real - 1]
    let (k0, k1, k2, k3) = (group[0], group[min(1, real - 1)], group[min(2, real - 1)], group[min(3, real - 1)])
    var quantiles = group.map { StreamQuantile(edgeQuantile, count: 2 * n * (n - $0)) }
    // Four plain sums and limits (lanes past the group's size never admit a value): scalar lanes compiled better
    // than SIMD4 here, and a difference above its lane's limit is rare once the quantile's heap is full.
    var sums = (0.0, 0.0, 0.0, 0.0)
    var limits = [Double](repeating: .infinity, count: 4)
    for i in 0..<real { limits[i] = quantiles[i].admits }
    var (l0, l1, l2, l3) = (limits[0], limits[1], limits[2], limits[3])
    func admit(_ lane: Int, _ value: Double) {
      quantiles[lane].add(value)
      limits[lane] = quantiles[lane].admits
      (l0, l1, l2, l3) = (limits[0], limits[1], limits[2], limits[3])
    }
    func four(_ at: Int, _ s0: Int, _ s1: Int, _ s2: Int, _ s3: Int) {
      let a = p[at]
      let (d0, d1, d2, d3) = (p[at + s0] - a, p[at + s1] - a, p[at + s2] - a, p[at + s3] - a)
      sums.0 += d0 * d0
      sums.1 += d1 * d1
      sums.2 += d2 * d2
      sums.3 += d3 * d3
      if abs(d0) > l0 { admit(0, abs(d0)) }
      if abs(d1) > l1 { admit(1, abs(d1)) }
      if abs(d2) > l2 { admit(2, abs(d2)) }
      if abs(d3) > l3 { admit(3, abs(d3)) }
    }
    func single(_ lane: Int, _ d: Double) {
      switch lane {
      case 0: sums.0 += d * d
      case 1: sums.1 += d * d
      case 2: sums.2 += d * d
      default: sums.3 += d * d
      }
      if abs(d) > limits[lane] { admit(lane, abs(d)) }
    }
    for y in 0..<n {
      let row = y * n
      for x in 0..<(n - kmax) { four(row + x, k0, k1, k2, k3) }
      for i in 0..<real {
        for x in (n - kmax)..<(n - group[i]) { single(i, p[row + x + group[i]] - p[row + x]) }
      }
    }
    for y in 0..<(n - kmax) {
      let row = y * n
      for x in 0..<n { four(row + x, k0 * n, k1 * n, k2 * n, k3 * n) }
    }
    for i in 0..<real {
      for y in (n - kmax)..<(n - group[i]) {
        for x in 0..<n { single(i, p[(y + group[i]) * n + x] - p[y * n + x]) }
      }
    }
    let total = [sums.0, sums.1, sums.2, sums.3]
    let energies = (0..<real).map { log(total[$0] / Double(2 * n * (n - group[$0])) / m2 + floor) }
    let edges = quantiles.map { log($0.value / range + edgeFloor) }
    return (energies, edges)
  }
}
