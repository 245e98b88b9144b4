import Foundation

/// The patch features of the defocus model: how fast local differences grow with distance, relative to the
/// patch's own brightness. All are invariant to gain (x -> a x), so exposure and stain brightness do not move them.
///
/// For lags `k` in `lags`, `D_k` is the mean squared difference between pixels `k` apart (horizontal and vertical
/// averaged). A sharp patch has most of its difference energy already at lag 1; blurring with width `sigma`
/// suppresses `D_k` for `k` below about `sigma`, so the curve `log D_k` against `log k` steepens with defocus.
/// Features: `log(D_k / mean^2)` for each lag and `log(variance / mean^2)`, then the squares of the standardised
/// values are appended by the model (so a linear multinomial model can place each level in a band).
public enum DefocusFeatures {
  /// Side of the square patches the model reads, in pixels.
  public static let patchSize = 64
  /// Pixel distances of the difference energies.
  public static let lags = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32]
  /// Number of raw features per patch.
  public static var count: Int { lags.count + 1 }
  /// Added inside logarithms so that flat patches give finite values (relative to mean^2).
  static let floor = 1e-8

  /// The raw features of the `patchSize`-square patch whose top-left pixel is `(x0, y0)`, or nil when the patch
  /// is not inside the plane or its mean is not positive (no brightness to normalise by).
  public static func patch(_ plane: FocusPlane, x0: Int, y0: Int) -> [Double]? {
    let n = patchSize
    guard x0 >= 0, y0 >= 0, x0 + n <= plane.width, y0 + n <= plane.height else { return nil }
    let w = plane.width
    return plane.pixels.withUnsafeBufferPointer { p -> [Double]? in
      var sum = 0.0
      var squares = 0.0
      for y in y0..<(y0 + n) {
        for x in x0..<(x0 + n) {
          let v = Double(p[y * w + x])
          sum += v
          squares += v * v
        }
      }
      let count = Double(n * n)
      let mean = sum / count
      guard mean > 0 else { return nil }
      let m2 = mean * mean
      let variance = max(0, squares / count - m2)
      var features = lags.map { k -> Double in
        var horizontal = 0.0
        var vertical = 0.0
        for y in y0..<(y0 + n) {
          let row = y * w
          for x in x0..<(x0 + n - k) {
            let d = Double(p[row + x + k]) - Double(p[row + x])
            horizontal += d * d
          }
          if y + k < y0 + n {
            for x in x0..<(x0 + n) {
              let d = Double(p[row + k * w + x]) - Double(p[row + x])
              vertical += d * d
            }
          }
        }
        let dk = (horizontal + vertical) / Double(2 * n * (n - k))
        return log(dk / m2 + floor)
      }
      features.append(log(variance / m2 + floor))
      return features
    }
  }

  /// Top-left corners of the non-overlapping patches tiling the plane, centred (the leftover margin split evenly).
  public static func grid(width: Int, height: Int) -> [(x: Int, y: Int)] {
    let n = patchSize
    let columns = width / n
    let rows = height / n
    let dx = (width - columns * n) / 2
    let dy = (height - rows * n) / 2
    return (0..<rows).flatMap { r in (0..<columns).map { c in (dx + c * n, dy + r * n) } }
  }

  /// The grid patches the model reads: the brightest quarter by mean intensity (at least one). In fluorescence
  /// the brightest patches hold the objects and the most photons; dark background is noise alike at every level
  /// and would only dilute the verdict.
  public static func selected(width: Int, height: Int, _ plane: FocusPlane) -> [(x: Int, y: Int)] {
    let grid = grid(width: width, height: height)
    let n = patchSize
    let means = grid.map { corner -> Double in
      var sum = 0.0
      for y in corner.y..<(corner.y + n) {
        for x in corner.x..<(corner.x + n) { sum += Double(plane.pixels[y * plane.width + x]) }
      }
      return sum
    }
    let order = grid.indices.sorted { means[$0] > means[$1] || means[$0] == means[$1] && $0 < $1 }
    return order.prefix(max(1, grid.count / 4)).map { grid[$0] }
  }

  /// Raw features of the selected patches of the plane (patches with non-positive mean left out).
  public static func patches(_ plane: FocusPlane) -> [[Double]] {
    selected(width: plane.width, height: plane.height, plane).compactMap { patch(plane, x0: $0.x, y0: $0.y) }
  }
}
