import Foundation

/// t-SNE's input similarities P as a sparse symmetric matrix (CSR), from the k = 3 x perplexity nearest neighbours
/// of each point, as openTSNE and Barnes-Hut t-SNE build them:
///
/// p(j|i) = exp(-beta_i d_ij^2) / sum_k exp(-beta_i d_ik^2) over i's neighbours, with beta_i found by binary
/// search so that the entropy of p(.|i) equals log(perplexity) (natural log); then P = (P_cond + P_cond^T) / (2N),
/// which sums to 1.
public struct TSNEAffinities: Sendable {
  public let count: Int
  /// CSR row starts (`count + 1` entries) into `columns` and `values`; columns are sorted within each row.
  public let rowStart: [Int]
  public let columns: [Int32]
  public let values: [Double]
  /// beta_i = 1 / (2 sigma_i^2) of each point's Gaussian.
  public let precisions: [Double]
  /// Each point's conditional distribution p(.|i) over its neighbours (row-major `count x k`, neighbour order).
  public let conditional: [Double]
  public let neighbors: NearestNeighbors

  /// Affinities of the rows of `x` at `perplexity` (5...50 is usual; at most (points - 1) / 3).
  public init(points x: FeatureMatrix, perplexity: Double, threads: Int = ProcessInfo.processInfo.activeProcessorCount)
    throws
  {
    guard perplexity >= 1, 3 * perplexity < Double(x.rows) else {
      throw StatisticsError.invalidArgument(
        "t-SNE: perplexity \(perplexity) needs 1 <= perplexity < points / 3 (\(x.rows) points): lower it")
    }
    let k = min(x.rows - 1, Int(3 * perplexity))
    try self.init(neighbors: NearestNeighbors(of: x, k: k, threads: threads), perplexity: perplexity, threads: threads)
  }

  /// Affinities from a neighbour graph already found.
  public init(
    neighbors graph: NearestNeighbors, perplexity: Double,
    threads: Int = ProcessInfo.processInfo.activeProcessorCount
  ) throws {
    let n = graph.count
    let k = graph.k
    var conditional = [Double](repeating: 0, count: n * k)
    var precisions = [Double](repeating: 1, count: n)
    let target = log(perplexity)
    let workers = max(1, threads)
    let chunk = (n + workers - 1) / workers
    conditional.withUnsafeMutableBufferPointer { out in
      precisions.withUnsafeMutableBufferPointer { beta in
        graph.squaredDistances.withUnsafeBufferPointer { d in
          DispatchQueue.concurrentPerform(iterations: workers) { w in
            for i in min(n, w * chunk)..<min(n, (w + 1) * chunk) {
              beta[i] = Self.calibrate(d.baseAddress! + i * k, k: k, entropy: target, into: out.baseAddress! + i * k)
            }
          }
        }
      }
    }
    // Symmetrise: entry (i, j) collects p(j|i) and p(i|j); duplicates are merged after sorting each row.
    var counts = [Int](repeating: 0, count: n + 1)
    for i in 0..<n {
      counts[i + 1] += k
      for s in 0..<k { counts[Int(graph.indices[i * k + s]) + 1] += 1 }
    }
    for i in 0..<n { counts[i + 1] += counts[i] }
    var fill = counts
    var cols = [Int32](repeating: 0, count: counts[n])
    var vals = [Double](repeating: 0, count: counts[n])
    let scale = 1 / (2 * Double(n))
    for i in 0..<n {
      for s in 0..<k {
        let j = Int(graph.indices[i * k + s])
        let p = conditional[i * k + s] * scale
        cols[fill[i]] = Int32(j)
        vals[fill[i]] = p
        fill[i] += 1
        cols[fill[j]] = Int32(i)
        vals[fill[j]] = p
        fill[j] += 1
      }
    }
    var rowStart = [0]
    var mergedColumns: [Int32] = []
    var mergedValues: [Double] = []
    mergedColumns.reserveCapacity(cols.count)
    mergedValues.reserveCapacity(cols.count)
    for i in 0..<n {
      let order = (counts[i]..<counts[i + 1]).sorted { cols[$0] < cols[$1] }
      for e in order {
        if mergedColumns.count > rowStart[i], mergedColumns.last == cols[e] {
          mergedValues[mergedValues.count - 1] += vals[e]
        } else {
          mergedColumns.append(cols[e])
          mergedValues.append(vals[e])
        }
      }
      rowStart.append(mergedColumns.count)
    }
    count = n
    self.rowStart = rowStart
    columns = mergedColumns
    values = mergedValues
    self.precisions = precisions
    self.conditional = conditional
    neighbors = graph
  }

  /// Finds beta with entropy(p) = `entropy` for one point's k squared distances; writes p; returns beta.
  /// Distances are shifted by their minimum first so that exp never underflows for a far-away point.
  static func calibrate(
    _ d: UnsafePointer<Double>, k: Int, entropy target: Double, into p: UnsafeMutablePointer<Double>
  )
    -> Double
  {
    var minimum = Double.infinity
    for s in 0..<k { minimum = min(minimum, d[s]) }
    return searchPrecision(entropy: target, tolerance: 1e-10, updates: 200) { beta in
      var sum = 0.0
      var weighted = 0.0
      for s in 0..<k {
        let shifted = d[s] - minimum
        let e = exp(-beta * shifted)
        p[s] = e
        sum += e
        weighted += shifted * e
      }
      for s in 0..<k { p[s] /= sum }
      return log(sum) + beta * weighted / sum
    }
  }

  /// The perplexity exp(H) of point i's conditional distribution (what the binary search aimed at).
  public func perplexity(of i: Int) -> Double {
    let k = neighbors.k
    var h = 0.0
    for s in 0..<k where conditional[i * k + s] > 0 {
      let p = conditional[i * k + s]
      h -= p * log(p)
    }
    return exp(h)
  }
}

/// The precision beta of a Gaussian kernel whose weights over a point's neighbours have entropy `target` (natural
/// log): start at beta = 1, double or halve until the target is bracketed, then bisect, stopping once
/// |H - target| <= `tolerance` or after `updates` changes of beta. `evaluate(beta)` returns H at beta (and may
/// write the weights: its last call is always at the beta returned). t-SNE's affinities and scib's LISI both use
/// this search, each with its reference's tolerance and cap.
func searchPrecision(entropy target: Double, tolerance: Double, updates: Int, evaluate: (Double) -> Double)
  -> Double
{
  var beta = 1.0
  var low = -Double.infinity
  var high = Double.infinity
  var h = evaluate(beta)
  var tries = 0
  while abs(h - target) > tolerance, tries < updates {
    if h > target {
      low = beta
      beta = high.isFinite ? (beta + high) / 2 : beta * 2
    } else {
      high = beta
      beta = low.isFinite ? (beta + low) / 2 : beta / 2
    }
    h = evaluate(beta)
    tries += 1
  }
  return beta
}
