import Foundation

/// How well the batches of an embedding or feature space mix, with scib's definitions (Luecken et al. 2022):
///
/// - iLISI: per point, the inverse Simpson index of the batch labels of its k = 90 nearest neighbours weighted by a
///   Gaussian kernel on their Euclidean distances calibrated to perplexity 30 (the LISI of Korsunsky et al., scib's
///   `compute_simpson_index`); the median over points, scaled as scib does: (median - 1) / (batches - 1), so 1 is
///   perfect mixing and 0 is none. scib's graph variant replaces the distances by shortest paths on a UMAP graph;
///   this is the embedding form, the one defined on any feature space.
/// - kNN batch entropy: per point, the Shannon entropy of the batch frequencies among its k nearest neighbours,
///   divided by log(batches); the mean over points (1: neighbourhoods as mixed as can be, 0: one batch each).
/// - batch silhouette: scib's `silhouette_batch`: within each label group (or over all points when there are no
///   labels), the silhouette of each point with respect to batch, taken as 1 - |s|; averaged per group, then over
///   groups (1: batches overlap, 0: batches separated).
/// - principal-component regression: scib's `pc_regression`: the R^2 of each principal component regressed on the
///   batch (one-hot, with intercept), weighted by the component's share of the variance of the first 50 (1: the
///   variance is all batch, 0: none of it).
public struct BatchMixing: Sendable, Codable, Equatable {
  public let points: Int
  public let batches: Int
  /// Scaled iLISI (median; 0 none ... 1 perfect mixing) and the raw median LISI (1 ... batches).
  public let iLISI: Double
  public let medianLISI: Double
  public let knnBatchEntropy: Double
  public let silhouetteBatch: Double
  public let pcRegression: Double

  /// Scores for the rows of `x` labelled by `batch`; `labels` (e.g. the treatment) restricts silhouettes to within
  /// each label as scib does. Needs 2+ batches and more than `neighbors` points.
  public init(
    _ x: FeatureMatrix, batch: [String], labels: [String]? = nil, neighbors k: Int = 90,
    perplexity: Double = 30, entropyNeighbors: Int = 50
  ) throws {
    guard batch.count == x.rows, labels.map({ $0.count == x.rows }) ?? true else {
      throw StatisticsError.shape("batch mixing: \(x.rows) rows but \(batch.count) batch labels")
    }
    let levels = Array(Set(batch)).sorted()
    guard levels.count >= 2 else {
      throw StatisticsError.invalidArgument("batch mixing: need 2+ batches, all \(x.rows) rows are in \(levels)")
    }
    let code = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0) })
    let codes = batch.map { code[$0]! }
    let kLISI = min(k, x.rows - 1)
    let graph = try NearestNeighbors(of: x, k: max(kLISI, min(entropyNeighbors, x.rows - 1)))
    let lisi = Self.lisi(
      graph, codes: codes, batches: levels.count, k: kLISI, perplexity: min(perplexity, Double(kLISI) / 3))
    let median = Self.median(lisi)
    points = x.rows
    batches = levels.count
    medianLISI = median
    iLISI = (median - 1) / Double(levels.count - 1)
    knnBatchEntropy = Self.entropy(graph, codes: codes, batches: levels.count, k: min(entropyNeighbors, x.rows - 1))
    silhouetteBatch = try Self.silhouetteBatch(x, batch: codes, labels: labels)
    pcRegression = try Self.pcRegression(x, batch: codes, batches: levels.count)
  }

  /// Per-point LISI: 1 / sum_b (sum of the kernel weights of neighbours in batch b)^2.
  public static func lisi(_ graph: NearestNeighbors, codes: [Int], batches: Int, k: Int, perplexity: Double)
    -> [Double]
  {
    let target = log(perplexity)
    var out = [Double](repeating: 1, count: graph.count)
    var weights = [Double](repeating: 0, count: k)
    var distances = [Double](repeating: 0, count: k)
    for i in 0..<graph.count {
      for s in 0..<k { distances[s] = graph.squaredDistances[i * graph.k + s].squareRoot() }
      // scib's search (`compute_simpson_index`): tolerance 1e-5, 50 tries.
      _ = searchPrecision(entropy: target, tolerance: 1e-5, updates: 50) { entropy(distances, $0, into: &weights) }
      var perBatch = [Double](repeating: 0, count: batches)
      for s in 0..<k { perBatch[codes[Int(graph.indices[i * graph.k + s])]] += weights[s] }
      let simpson = perBatch.reduce(0) { $0 + $1 * $1 }
      out[i] = simpson > 0 ? 1 / simpson : 1
    }
    return out
  }

  /// Entropy of the kernel exp(-beta d) over `d` (unshifted, as scib's `Hbeta`); writes the normalised weights.
  private static func entropy(_ d: [Double], _ beta: Double, into p: inout [Double]) -> Double {
    var sum = 0.0
    var weighted = 0.0
    for s in 0..<d.count {
      p[s] = exp(-d[s] * beta)
      sum += p[s]
      weighted += d[s] * p[s]
    }
    guard sum > 0 else {
      for s in 0..<d.count { p[s] = 0 }
      return 0
    }
    for s in 0..<d.count { p[s] /= sum }
    return log(sum) + beta * weighted / sum
  }

  /// Mean over points of the batch entropy among the first `k` neighbours, over log(batches).
  static func entropy(_ graph: NearestNeighbors, codes: [Int], batches: Int, k: Int) -> Double {
    var total = 0.0
    var counts = [Int](repeating: 0, count: batches)
    for i in 0..<graph.count {
      for b in 0..<batches { counts[b] = 0 }
      for s in 0..<k { counts[codes[Int(graph.indices[i * graph.k + s])]] += 1 }
      for c in counts where c > 0 {
        let f = Double(c) / Double(k)
        total -= f * log(f)
      }
    }
    return total / Double(graph.count) / log(Double(batches))
  }

  static func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }
}
