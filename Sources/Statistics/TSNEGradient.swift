import Foundation

/// The t-SNE objective KL(P || Q) for a 2-D embedding and its gradient, exact, Barnes-Hut or FFT-interpolated.
///
/// Convention (openTSNE's): the gradient returned is dKL/dy_i / 4 = sum_j (p_ij - q_ij) w_ij (y_i - y_j), with
/// w_ij = 1 / (1 + |y_i - y_j|^2) and q_ij = w_ij / Z, Z = sum_{k != l} w_kl; learning rates are scaled to match.
public enum TSNEObjective {
  /// Exact KL(P || Q) = sum p_ij log(p_ij / q_ij) over the stored (non-zero) entries of P, with Z summed over all
  /// pairs: O(N^2), for tests and for reporting the objective of embeddings up to some ten thousand points.
  public static func klDivergence(_ p: TSNEAffinities, embedding y: [Double]) -> Double {
    let z = exactRepulsion(y, count: p.count, force: nil)
    return klDivergence(p, embedding: y, normalisation: z)
  }

  /// KL(P || Q) given the normalisation Z (exact, or the Barnes-Hut or FFT estimate as openTSNE reports).
  static func klDivergence(_ p: TSNEAffinities, embedding y: [Double], normalisation z: Double) -> Double {
    var kl = 0.0
    for i in 0..<p.count {
      for e in p.rowStart[i]..<p.rowStart[i + 1] where p.values[e] > 0 {
        let j = Int(p.columns[e])
        let dx = y[2 * i] - y[2 * j]
        let dy = y[2 * i + 1] - y[2 * j + 1]
        let q = 1 / (1 + dx * dx + dy * dy) / z
        kl += p.values[e] * log(p.values[e] / max(q, .leastNormalMagnitude))
      }
    }
    return kl
  }

  /// The gradient (dKL/dy / 4) with P multiplied by `exaggeration`; exact repulsion when `theta` is nil, else
  /// Barnes-Hut at that theta. Returns Z (exact or estimated).
  @discardableResult
  public static func gradient(
    _ p: TSNEAffinities, embedding y: [Double], exaggeration: Double = 1, theta: Double?,
    into gradient: inout [Double], threads: Int = 1
  ) -> Double {
    self.gradient(
      p, embedding: y, exaggeration: exaggeration, method: theta == nil ? .exact : .barnesHut, theta: theta ?? 0.5,
      into: &gradient, threads: threads)
  }

  /// The gradient (dKL/dy / 4) with P multiplied by `exaggeration` and the repulsion computed by `method` (`.auto`
  /// counts as `.exact`; `theta` is used by Barnes-Hut only). Returns Z (exact or estimated).
  @discardableResult
  public static func gradient(
    _ p: TSNEAffinities, embedding y: [Double], exaggeration: Double = 1, method: TSNE.Method, theta: Double = 0.5,
    into gradient: inout [Double], threads: Int = 1
  ) -> Double {
    let n = p.count
    var repulsive = [Double](repeating: 0, count: 2 * n)
    let z: Double
    switch method {
    case .auto, .exact: z = exactRepulsion(y, count: n, force: &repulsive, threads: threads)
    case .barnesHut: z = barnesHutRepulsion(y, count: n, theta: theta, force: &repulsive, threads: threads)
    case .fft: z = TSNEInterpolation.repulsion(y, count: n, force: &repulsive, threads: threads)
    }
    attraction(p, y, exaggeration: exaggeration, into: &gradient, threads: threads)
    for e in 0..<(2 * n) { gradient[e] -= repulsive[e] / z }
    return z
  }

  /// sum_j p_ij w_ij (y_i - y_j) per point, written into `out`.
  static func attraction(
    _ p: TSNEAffinities, _ y: [Double], exaggeration: Double, into out: inout [Double],
    threads: Int
  ) {
    let n = p.count
    let workers = max(1, threads)
    let chunk = (n + workers - 1) / workers
    p.rowStart.withUnsafeBufferPointer { start in
      p.columns.withUnsafeBufferPointer { cols in
        p.values.withUnsafeBufferPointer { vals in
          y.withUnsafeBufferPointer { y in
            out.withUnsafeMutableBufferPointer { out in
              DispatchQueue.concurrentPerform(iterations: workers) { w in
                for i in min(n, w * chunk)..<min(n, (w + 1) * chunk) {
                  var fx = 0.0, fy = 0.0
                  for e in start[i]..<start[i + 1] {
                    let j = Int(cols[e])
                    let dx = y[2 * i] - y[2 * j]
                    let dy = y[2 * i + 1] - y[2 * j + 1]
                    let pw = exaggeration * vals[e] / (1 + dx * dx + dy * dy)
                    fx += pw * dx
                    fy += pw * dy
                  }
                  out[2 * i] = fx
                  out[2 * i + 1] = fy
                }
              }
            }
          }
        }
      }
    }
  }

  /// Z over all ordered pairs i != j, and (when `force` is given) sum_j w_ij^2 (y_i - y_j) per point. O(N^2).
  @discardableResult
  static func exactRepulsion(_ y: [Double], count n: Int, force: UnsafeMutablePointer<[Double]>?, threads: Int = 1)
    -> Double
  {
    let workers = max(1, min(threads, n))
    let chunk = (n + workers - 1) / workers
    var partial = [Double](repeating: 0, count: workers)
    var forces = [Double](repeating: 0, count: force == nil ? 0 : 2 * n)
    y.withUnsafeBufferPointer { y in
      forces.withUnsafeMutableBufferPointer { f in
        partial.withUnsafeMutableBufferPointer { sums in
          DispatchQueue.concurrentPerform(iterations: workers) { w in
            var s = 0.0
            for i in min(n, w * chunk)..<min(n, (w + 1) * chunk) {
              var fx = 0.0, fy = 0.0
              for j in 0..<n where j != i {
                let dx = y[2 * i] - y[2 * j]
                let dy = y[2 * i + 1] - y[2 * j + 1]
                let q = 1 / (1 + dx * dx + dy * dy)
                s += q
                fx += q * q * dx
                fy += q * q * dy
              }
              if f.count > 0 {
                f[2 * i] = fx
                f[2 * i + 1] = fy
              }
            }
            sums[w] = s
          }
        }
      }
    }
    if let force { force.pointee = forces }
    return partial.reduce(0, +)
  }

  /// Barnes-Hut: Z and the repulsive sums from a quadtree, cells summarised when side / distance < theta.
  /// Points are split into fixed chunks whose partial sums are added in order, so results do not depend on timing.
  static func barnesHutRepulsion(_ y: [Double], count n: Int, theta: Double, force: inout [Double], threads: Int)
    -> Double
  {
    let tree = y.withUnsafeBufferPointer { TSNEQuadTree(x: $0.baseAddress!, count: n) }
    let thetaSquared = theta * theta
    let stack = UnsafeMutablePointer<Int32>.allocate(capacity: 256 * fixedChunks)
    defer { stack.deallocate() }
    let z = force.withUnsafeMutableBufferPointer { f in
      chunkedSum(count: n) { chunk, points in
        var s = 0.0
        for i in points {
          var fi = (0.0, 0.0)
          s += tree.repulsion(
            y[2 * i], y[2 * i + 1], thetaSquared: thetaSquared, stack: stack + 256 * chunk, force: &fi) - 1
          f[2 * i] = fi.0
          f[2 * i + 1] = fi.1
        }
        return s
      }
    }
    _ = threads  // concurrentPerform sizes its pool to the machine's cores
    return z
  }

  /// The number of chunks `chunkedSum` splits points into (fixed, so sums never depend on the thread count).
  static let fixedChunks = 64

  /// Runs `body(chunk, points)` over `fixedChunks` contiguous ranges of 0..<n in parallel and adds the values it
  /// returns in chunk order, so the total does not depend on timing.
  static func chunkedSum(count n: Int, _ body: (Int, Range<Int>) -> Double) -> Double {
    let chunks = max(1, min(n, fixedChunks))
    let size = (n + chunks - 1) / chunks
    var partial = [Double](repeating: 0, count: chunks)
    partial.withUnsafeMutableBufferPointer { sums in
      DispatchQueue.concurrentPerform(iterations: chunks) { c in
        sums[c] = body(c, min(n, c * size)..<min(n, (c + 1) * size))
      }
    }
    return partial.reduce(0, +)
  }
}
