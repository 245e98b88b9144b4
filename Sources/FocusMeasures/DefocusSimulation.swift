import Foundation
import Statistics

/// Synthetic defocus of an in-focus plane, as the defocus model is trained and tested on: a Gaussian point-spread
/// function whose width grows with the defocus level, then camera noise (Poisson shot noise on photon counts plus
/// Gaussian read noise), as real out-of-focus images carry both.
///
/// A Gaussian is the paraxial approximation of a widefield defocus PSF's core; the level's `sigma` is in pixels.
public enum DefocusSimulation {
  /// Blur width in pixels of each of the 11 defocus levels (0 = in focus): steps of 0.75 px up to 3 px, then
  /// steps growing by about a quarter (4, 5, 6.5, 8, 10, 12.5), so each step changes the total blur (the image's own
  /// optical blur of 1-2 px combined with the applied one) by a similar factor, about 1.25. Yang et al. space their
  /// levels in defocus distance, where the PSF width grows roughly linearly; ours are defined on the blur itself.
  /// Sigma 1.5 and 3 px, which the pair tests use, are levels 2 and 4.
  public static let levelSigmas: [Double] = [0, 0.75, 1.5, 2.25, 3, 4, 5, 6.5, 8, 10, 12.5]

  /// Number of defocus levels.
  public static var levelCount: Int { levelSigmas.count }

  /// Separable Gaussian blur with standard deviation `sigma` pixels, mirrored at the borders (`sigma <= 0`
  /// returns the plane unchanged). The kernel spans `ceil(4 sigma)` pixels each side and sums to 1.
  public static func gaussianBlur(_ plane: FocusPlane, sigma: Double) -> FocusPlane {
    guard sigma > 0 else { return plane }
    let radius = Int((4 * sigma).rounded(.up))
    var kernel = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
    let total = kernel.reduce(0, +)
    kernel = kernel.map { $0 / total }
    let w = plane.width
    let h = plane.height
    // Each row and column is first copied into a mirrored, padded line, so the inner loop has no index arithmetic.
    var out = plane.pixels
    var line = [Float](repeating: 0, count: max(w, h) + 2 * radius)
    out.withUnsafeMutableBufferPointer { p in
      line.withUnsafeMutableBufferPointer { l in
        kernel.withUnsafeBufferPointer { k in
          convolveLines(p, count: h, length: w, stride: 1, step: w, radius: radius, kernel: k, line: l)
          convolveLines(p, count: w, length: h, stride: w, step: 1, radius: radius, kernel: k, line: l)
        }
      }
    }
    // Force-unwrap is safe: the size is the input's.
    return try! FocusPlane(pixels: out, width: w, height: h)
  }

  /// Convolves `count` lines of `length` samples in place; sample `i` of line `j` is `p[j * step + i * stride]`.
  static func convolveLines(_ p: UnsafeMutableBufferPointer<Float>, count: Int, length: Int, stride: Int, step: Int,
                            radius: Int, kernel: UnsafeBufferPointer<Float>, line: UnsafeMutableBufferPointer<Float>) {
    for j in 0..<count {
      let base = j * step
      for i in 0..<(length + 2 * radius) { line[i] = p[base + mirror(i - radius, length) * stride] }
      for i in 0..<length {
        var s: Float = 0
        for t in 0..<kernel.count { s += kernel[t] * line[i + t] }
        p[base + i * stride] = s
      }
    }
  }

  /// Reflects an index into `0..<n` (mirror without repeating the edge pixel; `n == 1` maps everything to 0).
  static func mirror(_ i: Int, _ n: Int) -> Int {
    guard n > 1 else { return 0 }
    let period = 2 * (n - 1)
    var j = i % period
    if j < 0 { j += period }
    return j < n ? j : period - j
  }

  /// Camera noise: the plane is scaled so that its 99.9th percentile is `peakPhotons` photons, each pixel is
  /// replaced by a Poisson draw with that mean plus a Gaussian read noise of `readNoise` photons. The result stays
  /// in photon units (the model's features do not depend on the unit).
  public static func cameraNoise(_ plane: FocusPlane, peakPhotons: Double, readNoise: Double,
                                 generator: inout SeededGenerator) -> FocusPlane {
    let sorted = plane.pixels.sorted()
    let high = Double(sorted[min(sorted.count - 1, Int(0.999 * Double(sorted.count)))])
    let gain = high > 0 ? peakPhotons / high : 0
    let out = plane.pixels.map { v -> Float in
      let photons = poisson(max(0, Double(v) * gain), &generator)
      return Float(photons + readNoise * normal(&generator))
    }
    return try! FocusPlane(pixels: out, width: plane.width, height: plane.height)
  }

  /// A uniform double in [0, 1) from 53 random bits.
  static func uniform(_ g: inout SeededGenerator) -> Double { Double(g.next() >> 11) * 0x1p-53 }

  /// A standard normal draw (Box-Muller, one of the pair).
  static func normal(_ g: inout SeededGenerator) -> Double {
    let u = max(uniform(&g), 0x1p-60)
    return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * uniform(&g))
  }

  /// A Poisson draw: Knuth's product of uniforms below mean 30, the normal approximation (rounded, >= 0) above,
  /// where its error is far below the shot noise itself.
  static func poisson(_ mean: Double, _ g: inout SeededGenerator) -> Double {
    guard mean > 0 else { return 0 }
    if mean >= 30 { return max(0, (mean + mean.squareRoot() * normal(&g)).rounded()) }
    let limit = exp(-mean)
    var k = 0.0
    var p = uniform(&g)
    while p > limit {
      k += 1
      p *= uniform(&g)
    }
    return k
  }
}
