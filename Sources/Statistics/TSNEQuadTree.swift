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
  /// Per cell: true when it is not split (one point, or coincident points at the depth limit).
  private(set) var leaf: [Bool] = []

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
    // A tree of n points has fewer than 2n cells unless points nearly coincide.
    massX.reserveCapacity(2 * n)
    massY.reserveCapacity(2 * n)
    mass.reserveCapacity(2 * n)
    side.reserveCapacity(2 * n)
    leaf.reserveCapacity(2 * n)
    children.reserveCapacity(8 * n)
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
    for _ in 0..<4 { children.append(-1) }
    guard hi - lo > 1, depth < 48 else {
      leaf.append(true)
      return Int32(node)
    }
    leaf.append(false)
    // Counting sort of this range into the four quadrants (bit 0: right half, bit 1: upper half); fixed-size
    // tuples rather than arrays, because this runs for every cell of every tree of every iteration.
    func quadrant(_ i: Int32) -> Int {
      (x[2 * Int(i)] >= cx ? 1 : 0) | (x[2 * Int(i) + 1] >= cy ? 2 : 0)
    }
    var counts = (0, 0, 0, 0)
    for e in lo..<hi {
      switch quadrant(order[e]) {
      case 0: counts.0 += 1
      case 1: counts.1 += 1
      case 2: counts.2 += 1
      default: counts.3 += 1
      }
    }
    let starts = (lo, lo + counts.0, lo + counts.0 + counts.1, lo + counts.0 + counts.1 + counts.2)
    var fill = starts
    for e in lo..<hi {
      let i = order[e]
      switch quadrant(i) {
      case 0: scratch[fill.0] = i; fill.0 += 1
      case 1: scratch[fill.1] = i; fill.1 += 1
      case 2: scratch[fill.2] = i; fill.2 += 1
      default: scratch[fill.3] = i; fill.3 += 1
      }
    }
    for e in lo..<hi { order[e] = scratch[e] }
    let quarter = half / 2
    if counts.0 > 0 {
      children[4 * node] = build(
        x, &order, &scratch, starts.0, starts.0 + counts.0, cx - quarter, cy - quarter,
        quarter, depth: depth + 1)
    }
    if counts.1 > 0 {
      children[4 * node + 1] = build(
        x, &order, &scratch, starts.1, starts.1 + counts.1, cx + quarter, cy - quarter,
        quarter, depth: depth + 1)
    }
    if counts.2 > 0 {
      children[4 * node + 2] = build(
        x, &order, &scratch, starts.2, starts.2 + counts.2, cx - quarter, cy + quarter,
        quarter, depth: depth + 1)
    }
    if counts.3 > 0 {
      children[4 * node + 3] = build(
        x, &order, &scratch, starts.3, starts.3 + counts.3, cx + quarter, cy + quarter,
        quarter, depth: depth + 1)
    }
    return Int32(node)
  }

  /// Adds to `force` the unnormalised repulsion sum_j w_ij^2 (y_i - y_j) on point (px, py), w = 1 / (1 + d^2), and
  /// returns sum_j w_ij over all points including i itself (which contributes exactly 1 and no force, since a cell
  /// holding i is never summarised when theta < 1 / sqrt 2).
  /// `stack` is scratch space for 256 cell indices (depth 48 needs at most 3 x 48 + 4), reused across calls.
  func repulsion(
    _ px: Double, _ py: Double, thetaSquared: Double, stack: UnsafeMutablePointer<Int32>,
    force: inout (Double, Double)
  ) -> Double {
    var sumW = 0.0
    var fx = 0.0
    var fy = 0.0
    massX.withUnsafeBufferPointer { massX in
      massY.withUnsafeBufferPointer { massY in
        mass.withUnsafeBufferPointer { mass in
          side.withUnsafeBufferPointer { side in
            leaf.withUnsafeBufferPointer { leaf in
              children.withUnsafeBufferPointer { children in
                var top = 1
                stack[0] = 0
                while top > 0 {
                  top -= 1
                  let c = Int(stack[top])
                  let dx = px - massX[c]
                  let dy = py - massY[c]
                  let d2 = dx * dx + dy * dy
                  if leaf[c] || side[c] * side[c] < thetaSquared * d2 {
                    let w = 1 / (1 + d2)
                    let mw = mass[c] * w
                    sumW += mw
                    fx += mw * w * dx
                    fy += mw * w * dy
                  } else {
                    for q in 0..<4 where children[4 * c + q] >= 0 {
                      stack[top] = children[4 * c + q]
                      top += 1
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    force.0 += fx
    force.1 += fy
    return sumW
  }
}
