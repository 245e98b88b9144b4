/// Exact Euclidean distance transform (Felzenszwalb & Huttenlocher 2012): each foreground pixel gets its
/// distance to the nearest background pixel, background gets 0, as `scipy.ndimage.distance_transform_edt(mask)`.
///
/// Runs the 1-D lower-envelope-of-parabolas transform on columns, then rows, in O(width * height).
/// A mask with no background pixel has no finite distance: every pixel gets `Float.infinity`.
public enum DistanceTransform {
  public static func euclidean(_ mask: [Bool], width: Int, height: Int) -> [Float] {
    precondition(mask.count == width * height, "mask has \(mask.count) values, expected \(width)x\(height)")
    let far = Double.infinity
    var squared = mask.map { $0 ? far : 0.0 }
    let longest = max(width, height)
    var line = [Double](repeating: 0, count: longest)
    var result = [Double](repeating: 0, count: longest)
    var vertices = [Int](repeating: 0, count: longest)
    var bounds = [Double](repeating: 0, count: longest + 1)
    for x in 0..<width {
      for y in 0..<height { line[y] = squared[y * width + x] }
      transform1D(line, count: height, result: &result, vertices: &vertices, bounds: &bounds)
      for y in 0..<height { squared[y * width + x] = result[y] }
    }
    for y in 0..<height {
      for x in 0..<width { line[x] = squared[y * width + x] }
      transform1D(line, count: width, result: &result, vertices: &vertices, bounds: &bounds)
      for x in 0..<width { squared[y * width + x] = result[x] }
    }
    return squared.map { Float($0.squareRoot()) }
  }

  /// Squared distance transform of a sampled function `f` on 0..<count: min over q of (p - q)^2 + f(q).
  /// Infinite samples are skipped; if all are infinite the result is infinite.
  private static func transform1D(
    _ f: [Double], count: Int, result: inout [Double], vertices: inout [Int], bounds: inout [Double]
  ) {
    var hull = -1
    for q in 0..<count where f[q].isFinite {
      let fq = f[q] + Double(q * q)
      var intersection = -Double.infinity
      while hull >= 0 {
        let v = vertices[hull]
        intersection = (fq - (f[v] + Double(v * v))) / Double(2 * (q - v))
        if intersection <= bounds[hull] { hull -= 1 } else { break }
      }
      if hull < 0 { intersection = -Double.infinity }
      hull += 1
      vertices[hull] = q
      bounds[hull] = intersection
      bounds[hull + 1] = .infinity
    }
    guard hull >= 0 else {
      for p in 0..<count { result[p] = .infinity }
      return
    }
    var k = 0
    for p in 0..<count {
      while bounds[k + 1] < Double(p) { k += 1 }
      let v = vertices[k]
      result[p] = Double((p - v) * (p - v)) + f[v]
    }
  }
}
