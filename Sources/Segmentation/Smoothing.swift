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
  public static func smooth(_ plane: [Float], width: Int, height: Int, sigma: Double) -> [Float] {
    precondition(plane.count == width * height, "plane has \(plane.count) values, expected \(width)x\(height)")
    guard sigma > 0, width > 0, height > 0 else { return plane }
    let weights = kernel(sigma: sigma)
    let radius = weights.count / 2
    var rows = [Float](repeating: 0, count: plane.count)
    var out = [Float](repeating: 0, count: plane.count)
    // One scratch line with `radius` replicated edge values on each side, so the inner loop has no branches.
    var line = [Double](repeating: 0, count: max(width, height) + 2 * radius)
    plane.withUnsafeBufferPointer { src in
      rows.withUnsafeMutableBufferPointer { dst in
        for y in 0..<height {
          convolveLine(weights, count: width, line: &line, source: src.baseAddress! + y * width,
                       destination: dst.baseAddress! + y * width, stride: 1)
        }
      }
    }
    rows.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for x in 0..<width {
          convolveLine(weights, count: height, line: &line, source: src.baseAddress! + x,
                       destination: dst.baseAddress! + x, stride: width)
        }
      }
    }
    return out
  }

  /// Convolves `count` samples `stride` apart with nearest-edge extension. Accumulates in Double (as scipy
  /// does), rounding to Float32 after each pass.
  private static func convolveLine(
    _ weights: [Double], count: Int, line: inout [Double], source: UnsafePointer<Float>,
    destination: UnsafeMutablePointer<Float>, stride: Int
  ) {
    let radius = weights.count / 2
    line.withUnsafeMutableBufferPointer { buffer in
      for index in 0..<(count + 2 * radius) {
        buffer[index] = Double(source[min(max(index - radius, 0), count - 1) * stride])
      }
      weights.withUnsafeBufferPointer { kernel in
        for index in 0..<count {
          var sum = 0.0
          for tap in 0..<kernel.count { sum += kernel[tap] * buffer[index + tap] }
          destination[index * stride] = Float(sum)
        }
      }
    }
  }
}
