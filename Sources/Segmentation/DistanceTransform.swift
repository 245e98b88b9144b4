/// Exact Euclidean distance transform: each foreground pixel gets its distance to the nearest background pixel,
/// background gets 0, as `scipy.ndimage.distance_transform_edt(mask)`.
///
/// Meijster, Roerdink & Hesselink (2000), all in integers: the vertical distance to background by one scan down
/// and one up (row-major, so the loops vectorise), then per row the lower envelope of the parabolas
/// (x - i)^2 + g(i)^2, over each run of mask pixels only. Squared distances are exact integers, which the
/// watershed uses as its flooding levels.
/// A mask with no background pixel has no finite distance: every pixel gets `Float.infinity`.
public enum DistanceTransform {
  public static func euclidean(_ mask: [Bool], width: Int, height: Int) -> [Float] {
    precondition(mask.count == width * height, "mask has \(mask.count) values, expected \(width)x\(height)")
    guard let squared = squaredEuclidean(mask, width: width, height: height) else {
      return [Float](repeating: .infinity, count: mask.count)
    }
    return squared.map { Float($0).squareRoot() }
  }

  /// Squared distances as integers, or nil when the mask has no background pixel (or is empty).
  public static func squaredEuclidean(_ mask: [Bool], width: Int, height: Int) -> [Int32]? {
    precondition(mask.count == width * height, "mask has \(mask.count) values, expected \(width)x\(height)")
    guard mask.contains(false) else { return nil }
    // Farther than any real distance, and its square still fits in Int.
    let far = Int32(width + height)
    // The vertical distances are computed in place of the result: background pixels keep their 0, and each run
    // of mask pixels is copied out to `run` before the row pass overwrites it.
    var squared = [Int32](repeating: 0, count: mask.count)
    let vertices = UnsafeMutablePointer<Int>.allocate(capacity: width)
    let starts = UnsafeMutablePointer<Int>.allocate(capacity: width)
    let run = UnsafeMutablePointer<Int32>.allocate(capacity: width)
    run.initialize(repeating: 0, count: width)
    defer { vertices.deallocate(); starts.deallocate(); run.deallocate() }
    mask.withUnsafeBufferPointer { inMask in
      squared.withUnsafeMutableBufferPointer { g in
        for x in 0..<width { g[x] = inMask[x] ? far : 0 }
        for y in 1..<max(height, 1) {
          let row = y * width
          for x in 0..<width { g[row + x] = inMask[row + x] ? min(g[row - width + x] &+ 1, far) : 0 }
        }
        for y in stride(from: height - 2, through: 0, by: -1) {
          let row = y * width
          for x in 0..<width { g[row + x] = min(g[row + x], g[row + width + x] &+ 1) }
        }
        // Only mask pixels need the row pass, and for a run of them only the columns from the background pixel
        // before it to the one after it: any column beyond those two is farther along the row, and they have
        // g = 0. So the work is the mask's area, not the plane's.
        for y in 0..<height {
          let row = y * width
          var x = 0
          while x < width {
            guard inMask[row + x] else { x += 1; continue }
            var end = x
            while end < width && inMask[row + end] { end += 1 }
            let first = max(x - 1, 0), count = min(end, width - 1) - first + 1
            run.update(from: g.baseAddress! + row + first, count: count)
            envelope(run, count: count, into: g.baseAddress! + row + first, vertices: vertices, starts: starts)
            x = end
          }
        }
      }
    }
    return squared
  }

  /// One row: out[x] = min over i of (x - i)^2 + g[i]^2. `vertices` holds the parabolas of the lower envelope,
  /// `starts` the first x where each is lowest.
  @inline(__always)
  private static func envelope(
    _ g: UnsafePointer<Int32>, count: Int, into out: UnsafeMutablePointer<Int32>,
    vertices: UnsafeMutablePointer<Int>, starts: UnsafeMutablePointer<Int>
  ) {
    @inline(__always) func f(_ x: Int, _ i: Int) -> Int { (x - i) * (x - i) + Int(g[i]) * Int(g[i]) }
    var top = 0
    vertices[0] = 0
    starts[0] = 0
    for u in 1..<max(count, 1) {
      while top >= 0 && f(starts[top], vertices[top]) > f(starts[top], u) { top -= 1 }
      if top < 0 {
        top = 0
        vertices[0] = u
      } else {
        // The first x where parabola u is below parabola i (floor division; the numerator may be negative).
        let i = vertices[top]
        let numerator = u * u - i * i + Int(g[u]) * Int(g[u]) - Int(g[i]) * Int(g[i])
        let denominator = 2 * (u - i)
        let separation = numerator >= 0 ? numerator / denominator : -((-numerator + denominator - 1) / denominator)
        let first = 1 + separation
        if first < count {
          top += 1
          vertices[top] = u
          starts[top] = first
        }
      }
    }
    for x in stride(from: count - 1, through: 0, by: -1) {
      out[x] = Int32(f(x, vertices[top]))
      if x == starts[top] { top -= 1 }
    }
  }
}
