import Foundation

/// Exact k nearest neighbours of every row of a feature matrix under Euclidean distance, each row's own index
/// excluded: the neighbour graph t-SNE's affinities and the batch-mixing scores (iLISI, kNN entropy) are built on.
///
/// Distances come from blocks of `|x|^2 + |y|^2 - 2 x.y` (one dgemm per block of rows), so the cost is N^2 d / 2
/// flops but at BLAS speed; ties are broken by the smaller index, so the result never depends on thread timing.
public struct NearestNeighbors: Sendable {
  public let count: Int
  public let k: Int
  /// Row-major `count x k`: the neighbours of point i, nearest first.
  public let indices: [Int32]
  /// Row-major `count x k`: the squared Euclidean distances to those neighbours (never negative).
  public let squaredDistances: [Double]

  public init(of x: FeatureMatrix, k: Int, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
    let n = x.rows
    let d = x.columns
    guard n >= 2, k >= 1, k < n else {
      throw StatisticsError.invalidArgument("nearest neighbours: need 1 <= k < points (got k = \(k), \(n) points)")
    }
    guard x.values.allSatisfy(\.isFinite) else {
      throw StatisticsError.numerical("nearest neighbours: features contain NaN/inf")
    }
    var norms = [Double](repeating: 0, count: n)
    for i in 0..<n { for j in 0..<d { norms[i] += x[i, j] * x[i, j] } }
    var indices = [Int32](repeating: 0, count: n * k)
    var distances = [Double](repeating: 0, count: n * k)
    // Block rows so that a block of products stays near 32 MB whatever N is.
    let block = max(1, min(n, 4_000_000 / n))
    var products = [Double](repeating: 0, count: block * n)
    let workers = max(1, threads)
    for start in stride(from: 0, to: n, by: block) {
      let rows = min(block, n - start)
      x.values.withUnsafeBufferPointer { xs in
        products.withUnsafeMutableBufferPointer { p in
          gemm(
            transposeA: false, transposeB: true, m: rows, n: n, k: d, alpha: -2, a: xs.baseAddress! + start * d,
            lda: d, b: xs.baseAddress!, ldb: d, beta: 0, c: p.baseAddress!, ldc: n)
        }
      }
      products.withUnsafeBufferPointer { p in
        indices.withUnsafeMutableBufferPointer { outI in
          distances.withUnsafeMutableBufferPointer { outD in
            norms.withUnsafeBufferPointer { norm in
              let chunk = (rows + workers - 1) / workers
              DispatchQueue.concurrentPerform(iterations: workers) { w in
                var heap = NeighborHeap(capacity: k)
                for r in min(rows, w * chunk)..<min(rows, (w + 1) * chunk) {
                  let i = start + r
                  heap.clear()
                  let row = p.baseAddress! + r * n
                  for j in 0..<n where j != i {
                    heap.offer(max(0, norm[i] + norm[j] + row[j]), Int32(j))
                  }
                  heap.drainSorted(into: outI.baseAddress! + i * k, outD.baseAddress! + i * k)
                }
              }
            }
          }
        }
      }
    }
    count = n
    self.k = k
    self.indices = indices
    squaredDistances = distances
  }
}

/// A bounded max-heap on (distance, index): keeps the k smallest pairs offered.
struct NeighborHeap {
  let capacity: Int
  private var keys: [Double]
  private var ids: [Int32]
  private var size = 0

  init(capacity: Int) {
    self.capacity = capacity
    keys = [Double](repeating: 0, count: capacity)
    ids = [Int32](repeating: 0, count: capacity)
  }

  mutating func clear() { size = 0 }

  private func above(_ a: Int, _ b: Int) -> Bool { keys[a] > keys[b] || (keys[a] == keys[b] && ids[a] > ids[b]) }

  mutating func offer(_ key: Double, _ id: Int32) {
    if size < capacity {
      keys[size] = key
      ids[size] = id
      size += 1
      var c = size - 1
      while c > 0, above(c, (c - 1) / 2) {
        keys.swapAt(c, (c - 1) / 2)
        ids.swapAt(c, (c - 1) / 2)
        c = (c - 1) / 2
      }
    } else if key < keys[0] || (key == keys[0] && id < ids[0]) {
      keys[0] = key
      ids[0] = id
      siftDown(from: 0)
    }
  }

  private mutating func siftDown(from start: Int) {
    var p = start
    while true {
      var m = p
      let l = 2 * p + 1
      if l < size, above(l, m) { m = l }
      if l + 1 < size, above(l + 1, m) { m = l + 1 }
      if m == p { return }
      keys.swapAt(p, m)
      ids.swapAt(p, m)
      p = m
    }
  }

  /// Writes the kept pairs nearest first and empties the heap.
  mutating func drainSorted(into outIDs: UnsafeMutablePointer<Int32>, _ outKeys: UnsafeMutablePointer<Double>) {
    while size > 0 {
      outIDs[size - 1] = ids[0]
      outKeys[size - 1] = keys[0]
      size -= 1
      keys[0] = keys[size]
      ids[0] = ids[size]
      siftDown(from: 0)
    }
  }
}
