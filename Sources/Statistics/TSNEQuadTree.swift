/// A quadtree over 2-D points for the Barnes-Hut approximation of t-SNE's repulsive forces: each cell keeps the
/// centre of mass and count of its points, so a cell far enough from a point (side / distance < theta) acts as one
/// heavy point. Built by recursive partitioning of an index array; cells stop splitting at one point, or at depth
/// 48 (coincident points then share a leaf, which the force sum handles like any other mass).
struct TSNEQuadTree {
  /// Per cell: centre of mass, number of points and side length.
  private(set) var massX: [Double] = []
  private(set) var massY: [Double] = []
  private(set) var mass: [Double] = []
  private(set) var side: [Double] = []
  /// Four entries per cell: the child cells by quadrant, -1 where a quadrant is empty or the cell is a leaf.
  private(set) var children: [Int32] = []

  init(x: UnsafePointer<Double>, count n: Int) {
    var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
    for i in 0..<n {
      minX = min(minX, x[2 * i])
      maxX = max(maxX, x[2 * i])
      minY = min(minY, x[2 * i + 1])
      maxY = max(maxY, x[2 * i + 1])
    }
    let half = max(maxX - minX, maxY - minY) / 2 * (1 + 1e-9) + 1e-12
    var order = Array(0..<Int32(n))
    var scratch = order
    massX.reserveCapacity(2 * n)
    build(x, &order, &scratch, 0, n, (minX + maxX) / 2, (minY + maxY) / 2, half, depth: 0)
  }

  @discardableResult
  private mutating func build(
    _ x: UnsafePointer<Double>, _ order: inout [Int32], _ scratch: inout [Int32],
    _ lo: Int, _ hi: Int, _ cx: Double, _ cy: Double, _ half: Double, depth: Int
  ) -> Int32 {
    let node = mass.count
    var sx = 0.0, sy = 0.0
    for e in lo..<hi {
      sx += x[2 * Int(order[e])]
      sy += x[2 * Int(order[e]) + 1]
    }
    let m = Double(hi - lo)
    massX.append(sx / m)
    massY.append(sy / m)
    mass.append(m)
    side.append(2 * half)
    children.append(contentsOf: [-1, -1, -1, -1])
    guard hi - lo > 1, depth < 48 else { return Int32(node) }
    // Counting sort of this range into the four quadrants (bit 0: right half, bit 1: upper half).
    var quadrantCounts = [0, 0, 0, 0]
    func quadrant(_ i: Int32) -> Int {
      (x[2 * Int(i)] >= cx ? 1 : 0) | (x[2 * Int(i) + 1] >= cy ? 2 : 0)
    }
    for e in lo..<hi { quadrantCounts[quadrant(order[e])] += 1 }
    var starts = [lo, 0, 0, 0]
    for q in 1..<4 { starts[q] = starts[q - 1] + quadrantCounts[q - 1] }
    var fill = starts
    for e in lo..<hi {
      let q = quadrant(order[e])
      scratch[fill[q]] = order[e]
      fill[q] += 1
    }
    for e in lo..<hi { order[e] = scratch[e] }
    let quarter = half / 2
    for q in 0..<4 where quadrantCounts[q] > 0 {
      let child = build(
        x, &order, &scratch, starts[q], starts[q] + quadrantCounts[q],
        cx + (q & 1 == 1 ? quarter : -quarter), cy + (q & 2 == 2 ? quarter : -quarter), quarter,
        depth: depth + 1)
      children[4 * node + q] = child
    }
    return Int32(node)
  }

  /// Adds to `force` the unnormalised repulsion sum_j w_ij^2 (y_i - y_j) on point (px, py), w = 1 / (1 + d^2), and
  /// returns sum_j w_ij over all points including i itself (which contributes exactly 1 and no force, since a cell
  /// holding i is never summarised when theta < 1 / sqrt 2).
  func repulsion(
    _ px: Double, _ py: Double, thetaSquared: Double, stack: inout [Int32],
    force: inout (Double, Double)
  ) -> Double {
    var sumW = 0.0
    stack.removeAll(keepingCapacity: true)
    stack.append(0)
    while let top = stack.popLast() {
      let c = Int(top)
      let dx = px - massX[c]
      let dy = py - massY[c]
      let d2 = dx * dx + dy * dy
      let leaf = children[4 * c] < 0 && children[4 * c + 1] < 0 && children[4 * c + 2] < 0 && children[4 * c + 3] < 0
      if leaf || side[c] * side[c] < thetaSquared * d2 {
        let w = 1 / (1 + d2)
        let mw = mass[c] * w
        sumW += mw
        force.0 += mw * w * dx
        force.1 += mw * w * dy
      } else {
        for q in 0..<4 where children[4 * c + q] >= 0 { stack.append(children[4 * c + q]) }
      }
    }
    return sumW
  }
}
