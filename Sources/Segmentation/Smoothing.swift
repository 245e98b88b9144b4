import Foundation

/// Separable Gaussian smoothing of a float32 plane.
///
/// Border mode is "nearest" (the edge pixel repeats), which is the default of `skimage.filters.gaussian`
/// (scipy's `gaussian_filter` default is "reflect"; both agree away from the border). The kernel is truncated
/// at `truncate * sigma` (rounded to the nearest integer radius), as in scipy, and normalised to sum 1.
public enum GaussianSmoothing {
  /// The normalised 1-D kernel for `sigma`, of length `2 * radius + 1`, radius `Int(truncate * sigma + 0.5)`.
  public static func kernel(sigma: Double, truncate: Double = 4.0) -> [Double] {
    let radius = Int(truncate * sigma + 0.5)
    var weights = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
    let total = weights.reduce(0, +)
    for index in weights.indices { weights[index] /= total }
    return weights
  }

  /// Smooths `plane` (row-major, `width * height` values); `sigma <= 0` returns the plane unchanged.
  ///
  /// Both passes run along rows of contiguous memory (the vertical pass adds whole shifted rows), so the inner
  /// loops are over `x` and vectorise; the symmetric kernel adds mirrored taps before multiplying. Sums are in
  /// Float32 (within 1e-6 of scipy's float64 sums, relatively).
  public static func smooth(_ plane: [Float], width: Int, height: Int, sigma: Double) -> [Float] {
    precondition(plane.count == width * height, "plane has \(plane.count) values, expected \(width)x\(height)")
    guard sigma > 0, width > 0, height > 0 else { return plane }
    let weights = kernel(sigma: sigma).map { Float($0) }
    let radius = weights.count / 2
    // One scratch line with `radius` replicated edge values on each side, so the inner loop has no branches;
    // the horizontal pass fills a ring of 2r + 1 rows just ahead of the vertical pass instead of a whole plane.
    var line = [Float](repeating: 0, count: width + 2 * radius)
    var ring = [Float](repeating: 0, count: (2 * radius + 1) * width)
    let taps = 2 * radius + 1
    return [Float](unsafeUninitializedCapacity: plane.count) { out, initialized in
      plane.withUnsafeBufferPointer { src in
        line.withUnsafeMutableBufferPointer { padded in
          ring.withUnsafeMutableBufferPointer { ring in
            let rows = ring.baseAddress!
            /// The horizontally smoothed row y (clamped to the plane) in its ring slot.
            func horizontal(_ y: Int) {
              let source = src.baseAddress! + y * width
              for index in 0..<(width + 2 * radius) { padded[index] = source[min(max(index - radius, 0), width - 1)] }
              let centre = UnsafePointer(padded.baseAddress! + radius)
              symmetricTaps(weights, centre: centre, up: { centre - $0 }, down: { centre + $0 },
                            into: rows + (y % taps) * width, count: width)
            }
            @inline(__always) func row(_ y: Int) -> UnsafePointer<Float> {
              UnsafePointer(rows + (min(max(y, 0), height - 1) % taps) * width)
            }
            for y in 0..<min(radius, height) { horizontal(y) }
            for y in 0..<height {
              if y + radius < height { horizontal(y + radius) }
              // Rows above and below the plane repeat the edge rows: clamp the row of each tap. Clamped rows
              // are still in the ring (the first r rows and the last row stay until they are overwritten).
              symmetricTaps(weights, centre: row(y), up: { row(y - $0) }, down: { row(y + $0) },
                            into: out.baseAddress! + y * width, count: width)
            }
          }
        }
      }
      initialized = plane.count
    }
  }

  /// destination[i] = w[r] * centre[i] + sum over k in 1...r of w[r + k] * (up(k)[i] + down(k)[i]), for a
  /// symmetric kernel w of radius r; loops over `i` innermost, so they vectorise.
  @inline(__always)
  private static func symmetricTaps(
    _ weights: [Float], centre: UnsafePointer<Float>, up: (Int) -> UnsafePointer<Float>,
    down: (Int) -> UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int
  ) {
    let radius = weights.count / 2
    let middle = weights[radius]
    for index in 0..<count { destination[index] = middle * centre[index] }
    for k in stride(from: 1, through: radius, by: 1) {
      let weight = weights[radius + k], a = up(k), b = down(k)
      for index in 0..<count { destination[index] += weight * (a[index] + b[index]) }
    }
  }
}
