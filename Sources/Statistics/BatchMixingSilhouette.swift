import Foundation

extension BatchMixing {
  /// Silhouette of each row with respect to `clusters` (Euclidean), as scikit-learn's `silhouette_samples`:
  /// s = (b - a) / max(a, b), a the mean distance to the rest of its own cluster, b the smallest mean distance to
  /// another cluster; 0 for a point alone in its cluster.
  public static func silhouetteSamples(_ x: FeatureMatrix, clusters: [Int]) throws -> [Double] {
    let n = x.rows
    guard clusters.count == n else { throw StatisticsError.shape("silhouette: \(n) rows, \(clusters.count) labels") }
    let levels = (clusters.max() ?? 0) + 1
    let sizes = (0..<levels).map { c in clusters.filter { $0 == c }.count }
    guard sizes.filter({ $0 > 0 }).count >= 2 else {
      throw StatisticsError.invalidArgument("silhouette: need 2+ clusters")
    }
    var out = [Double](repeating: 0, count: n)
    var sums = [Double](repeating: 0, count: levels)
    for i in 0..<n {
      for c in 0..<levels { sums[c] = 0 }
      for j in 0..<n where j != i {
        var d2 = 0.0
        for f in 0..<x.columns {
          let t = x[i, f] - x[j, f]
          d2 += t * t
        }
        sums[clusters[j]] += d2.squareRoot()
      }
      let own = clusters[i]
      guard sizes[own] > 1 else { continue }
      let a = sums[own] / Double(sizes[own] - 1)
      var b = Double.infinity
      for c in 0..<levels where c != own && sizes[c] > 0 { b = min(b, sums[c] / Double(sizes[c])) }
      let m = max(a, b)
      out[i] = m > 0 ? (b - a) / m : 0
    }
    return out
  }

  /// scib's batch ASW: mean of 1 - |s| within each label group holding 2+ batches (and not one point per batch),
  /// then the mean over those groups. NaN when no group qualifies.
  static func silhouetteBatch(_ x: FeatureMatrix, batch: [Int], labels: [String]?) throws -> Double {
    let groups = labels ?? [String](repeating: "", count: x.rows)
    var means: [Double] = []
    for group in Array(Set(groups)).sorted() {
      let rows = groups.indices.filter { groups[$0] == group }
      let present = Array(Set(rows.map { batch[$0] })).sorted()
      guard present.count > 1, present.count < rows.count else { continue }
      let recode = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1, $0) })
      let s = try silhouetteSamples(x.selecting(rows: rows), clusters: rows.map { recode[batch[$0]]! })
      means.append(s.reduce(0) { $0 + 1 - abs($1) } / Double(s.count))
    }
    return means.isEmpty ? .nan : means.reduce(0, +) / Double(means.count)
  }

  /// scib's `pc_regression` with one-hot batch: sum_i R^2(PC_i | batch) var_i / sum_i var_i over the first
  /// min(50, rows, columns) components. With an intercept, the R^2 of a one-hot regression is the between-batch
  /// share of the component's sum of squares.
  static func pcRegression(_ x: FeatureMatrix, batch: [Int], batches: Int) throws -> Double {
    let components = min(50, x.rows, x.columns)
    let pca = try PrincipalComponents(fitting: x, components: components)
    let scores = try pca.transform(x)
    var weighted = 0.0
    let total = pca.explainedVariance.reduce(0, +)
    guard total > 0 else { return 0 }
    for c in 0..<components {
      var sum = [Double](repeating: 0, count: batches)
      var count = [Double](repeating: 0, count: batches)
      var grand = 0.0
      for i in 0..<x.rows {
        sum[batch[i]] += scores[i, c]
        count[batch[i]] += 1
        grand += scores[i, c]
      }
      grand /= Double(x.rows)
      var totalSS = 0.0
      for i in 0..<x.rows { totalSS += (scores[i, c] - grand) * (scores[i, c] - grand) }
      var between = 0.0
      for b in 0..<batches where count[b] > 0 {
        let m = sum[b] / count[b]
        between += count[b] * (m - grand) * (m - grand)
      }
      let r2 = totalSS > 0 ? max(0, between / totalSS) : 0
      weighted += r2 * pca.explainedVariance[c]
    }
    return weighted / total
  }
}
