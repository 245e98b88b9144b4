import Foundation

/// The patch features of the defocus model, all invariant to gain (x -> a x), so exposure and stain brightness do
/// not move them. Two families, both over the pixel distances `k` in `lags` (horizontal and vertical pairs):
///
/// - Difference energies: `log(D_k / mean^2)`, `D_k` the mean squared difference between pixels `k` apart, plus
///   `log(variance / mean^2)`. Blurring with width `sigma` suppresses `D_k` for `k` below about `sigma`, so the
///   curve steepens with defocus; but where it bends also depends on the size of the objects.
/// - Edge steepness: `log(q(|x_{i+k} - x_i|) / (q(x) - q'(x)))`, the `edgeQuantile` quantile of the absolute
///   differences over the patch's robust range (its `edgeQuantile` minus its `1 - edgeQuantile` quantile).
///   For a blurred step edge the steepest difference at lag `k` is `range * (2 Phi(k / 2 sigma) - 1)`, whatever the
///   object's size, so these read the blur width itself; objects larger than the blur keep it absolute. They raised
///   the held-out ladder's level accuracy from 0.78 to 0.96 in the prototype that chose them.
public enum DefocusFeatures {
  /// Side of the square patches the model reads, in pixels.
  public static let patchSize = 64
  /// Step between patch corners: patches overlap by half, so small images still give tens of patches.
  public static let patchStride = 32
  /// Pixel distances of the difference energies and edge steepnesses.
  public static let lags = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32]
  /// The quantile of the edge features (numpy's linear-interpolation definition).
  public static let edgeQuantile = 0.995
  /// Number of raw features per patch.
  public static var count: Int { 2 * lags.count + 1 }
  /// Added inside logarithms so that flat patches give finite values (relative to mean^2).
  static let floor = 1e-8
  /// Added inside the edge logarithms (relative to the range).
  static let edgeFloor = 1e-6

  /// The raw features of the `patchSize`-square patch whose top-left pixel is `(x0, y0)`, or nil when the patch
  /// is not inside the plane or its mean is not positive (no brightness to normalise by).
  public static func patch(_ plane: FocusPlane, x0: Int, y0: Int) -> [Double]? {
    let n = patchSize
    guard x0 >= 0, y0 >= 0, x0 + n <= plane.width, y0 + n <= plane.height else { return nil }
    let w = plane.width
    let p = plane.pixels.withUnsafeBufferPointer { source in
      [Double](unsafeUninitializedCapacity: n * n) { out, initialised in
        for y in 0..<n {
          let row = source.baseAddress! + (y0 + y) * w + x0
          for x in 0..<n { out[y * n + x] = Double(row[x]) }
        }
        initialised = n * n
      }
    }
    let count = Double(n * n)
    let mean = p.reduce(0, +) / count
    guard mean > 0 else { return nil }
    let m2 = mean * mean
    let variance = max(0, p.reduce(0) { $0 + $1 * $1 } / count - m2)
    let range = p.withUnsafeBufferPointer { values in
      max(quantile(values, edgeQuantile) - quantile(values, 1 - edgeQuantile), 1e-12)
    }
    var energies: [Double] = []
    var edges: [Double] = []
    p.withUnsafeBufferPointer { p in
      for group in lagGroups {
        let features = lagGroup(p, n: n, group: group, range: range, m2: m2)
        energies += features.energies
        edges += features.edges
      }
    }
    return energies + [log(variance / m2 + floor)] + edges
  }

  /// The `q` quantile of `values` with linear interpolation between order statistics (numpy's default).
  static func quantile(_ values: inout [Double], _ q: Double) -> Double {
    values.withUnsafeBufferPointer { quantile($0, q) }
  }

  /// The `q` quantile of `values` (numpy's linear interpolation), in one pass keeping the few values beyond it.
  static func quantile(_ values: UnsafeBufferPointer<Double>, _ q: Double) -> Double {
    var stream = StreamQuantile(q, count: values.count)
    for v in values { stream.add(v) }
    return stream.value
  }

  /// Top-left corners of the half-overlapping patches tiling the plane, centred (the leftover margin split evenly).
  public static func grid(width: Int, height: Int) -> [(x: Int, y: Int)] {
    let n = patchSize
    guard width >= n, height >= n else { return [] }
    let columns = (width - n) / patchStride + 1
    let rows = (height - n) / patchStride + 1
    let dx = (width - ((columns - 1) * patchStride + n)) / 2
    let dy = (height - ((rows - 1) * patchStride + n)) / 2
    return (0..<rows).flatMap { r in (0..<columns).map { c in (dx + c * patchStride, dy + r * patchStride) } }
  }

  /// The grid patches the model reads: the brightest quarter by mean intensity (at least one). In fluorescence
  /// the brightest patches hold the objects and the most photons; dark background is noise alike at every level
  /// and would only dilute the verdict.
  public static func selected(width: Int, height: Int, _ plane: FocusPlane) -> [(x: Int, y: Int)] {
    let grid = grid(width: width, height: height)
    let n = patchSize
    let means = plane.pixels.withUnsafeBufferPointer { p in
      grid.map { corner -> Double in
        var sum = 0.0
        for y in corner.y..<(corner.y + n) {
          let row = p.baseAddress! + y * plane.width + corner.x
          for x in 0..<n { sum += Double(row[x]) }
        }
        return sum
      }
    }
    let order = grid.indices.sorted { means[$0] > means[$1] || means[$0] == means[$1] && $0 < $1 }
    return order.prefix(max(1, grid.count / 4)).map { grid[$0] }
  }

  /// Raw features of the selected patches of the plane (patches with non-positive mean left out).
  public static func patches(_ plane: FocusPlane) -> [[Double]] {
    selected(width: plane.width, height: plane.height, plane).compactMap { patch(plane, x0: $0.x, y0: $0.y) }
  }
}
