/// The pixel count of a mask's convex hull image, as `skimage.morphology.convex_hull_image` builds it: the hull
/// of the midpoints of every object pixel's four edges (centre +- 0.5 along each axis), then every pixel centre
/// inside the hull or on its boundary.
enum ConvexHull {
  private struct Point { var x: Double, y: Double }

  static func pixelCount(_ mask: [Bool], width: Int, height: Int) -> Int {
    // Only the first and last pixel of each row can be hull vertices.
    var points: [Point] = []
    for y in 0..<height {
      guard let first = (0..<width).first(where: { mask[y * width + $0] }),
        let last = (0..<width).last(where: { mask[y * width + $0] })
      else { continue }
      for x in Set([first, last]) {
        let cx = Double(x), cy = Double(y)
        points += [Point(x: cx - 0.5, y: cy), Point(x: cx + 0.5, y: cy), Point(x: cx, y: cy - 0.5),
                   Point(x: cx, y: cy + 0.5)]
      }
    }
    let hull = monotoneChain(points)
    guard hull.count >= 3 else { return mask.filter { $0 }.count }
    var count = 0
    for y in 0..<height {
      guard let (low, high) = rowSpan(hull, y: Double(y)) else { continue }
      // Centres exactly on the boundary count, as skimage's include_borders=True; the tolerance absorbs rounding.
      let first = Int((low - 1e-9).rounded(.up)), last = Int((high + 1e-9).rounded(.down))
      if last >= first { count += last - first + 1 }
    }
    return count
  }

  /// Andrew's monotone chain; returns the hull counter-clockwise without collinear points.
  private static func monotoneChain(_ input: [Point]) -> [Point] {
    let points = input.sorted { $0.x < $1.x || ($0.x == $1.x && $0.y < $1.y) }
    func cross(_ o: Point, _ a: Point, _ b: Point) -> Double { (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x) }
    var lower: [Point] = [], upper: [Point] = []
    for p in points {
      while lower.count >= 2 && cross(lower[lower.count - 2], lower[lower.count - 1], p) <= 0 { lower.removeLast() }
      lower.append(p)
    }
    for p in points.reversed() {
      while upper.count >= 2 && cross(upper[upper.count - 2], upper[upper.count - 1], p) <= 0 { upper.removeLast() }
      upper.append(p)
    }
    return Array(lower.dropLast() + upper.dropLast())
  }

  /// The x-interval where the horizontal line at `y` meets the convex polygon, or nil if it misses.
  private static func rowSpan(_ hull: [Point], y: Double) -> (Double, Double)? {
    var low = Double.infinity, high = -Double.infinity
    for index in hull.indices {
      let a = hull[index], b = hull[(index + 1) % hull.count]
      if (a.y - y) * (b.y - y) > 0 { continue }
      if a.y == b.y {
        low = min(low, a.x, b.x); high = max(high, a.x, b.x)
      } else {
        let x = a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y)
        low = min(low, x); high = max(high, x)
      }
    }
    return low <= high ? (low, high) : nil
  }
}
