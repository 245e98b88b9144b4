/// One greyscale image plane as the focus measures read it: float32 intensities, row-major, `width` columns by
/// `height` rows (pixel `(x, y)` is `pixels[y * width + x]`).
///
/// Invariant: `pixels.count == width * height`, both sides at least 1. Intensities may be in any unit; the
/// measures that depend on the unit say so (CellProfiler's values assume intensities scaled to [0, 1] by the
/// image's bit depth, e.g. divided by 65535 for 16-bit images).
public struct FocusPlane: Sendable {
  public let pixels: [Float]
  public let width: Int
  public let height: Int

  /// Wraps a row-major plane; throws when the pixel count does not match the size.
  public init(pixels: [Float], width: Int, height: Int) throws {
    guard width >= 1, height >= 1, pixels.count == width * height else {
      throw FocusMeasuresError.shape(
        "FocusPlane: \(pixels.count) pixels cannot fill \(width) x \(height); pass a row-major plane of width*height")
    }
    self.pixels = pixels
    self.width = width
    self.height = height
  }

  var count: Int { pixels.count }
}

/// Errors of the focus measures; each names the argument at fault and what to pass instead.
public enum FocusMeasuresError: Error, CustomStringConvertible, Equatable {
  /// The plane's size and pixel count disagree, or a size is not positive.
  case shape(String)
  /// A parameter (scale, band) is outside its domain.
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .shape(let m), .invalidArgument(let m): return m
    }
  }
}

/// Mean and population variance of a plane in one pass.
///
/// Sums are taken around the first pixel (a shifted one-pass sum), which keeps the cancellation error of
/// `E[x^2] - E[x]^2` at the size of the spread rather than the size of the offset.
struct PlaneMoments {
  let mean: Double
  let variance: Double

  init(_ pixels: UnsafeBufferPointer<Float>) {
    let n = pixels.count
    let shift = Double(pixels[0])
    var s1 = 0.0
    var s2 = 0.0
    for v in pixels {
      let d = Double(v) - shift
      s1 += d
      s2 += d * d
    }
    let m = s1 / Double(n)
    mean = shift + m
    variance = max(0, s2 / Double(n) - m * m)
  }
}

/// The statistics of `samples` used throughout: population variance and NumPy's median (mean of the two middle
/// values for an even count). `samples` must not be empty.
enum SampleStatistics {
  static func mean(_ samples: [Double]) -> Double { samples.reduce(0, +) / Double(samples.count) }

  static func variance(_ samples: [Double]) -> Double {
    let m = mean(samples)
    return samples.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(samples.count)
  }

  static func median(_ samples: [Double]) -> Double {
    let sorted = samples.sorted()
    let n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
  }

  /// Ordinary least-squares slope of `y` on `x` (with an intercept); 0 when `x` has no spread.
  static func slope(x: [Double], y: [Double]) -> Double {
    guard x.count >= 2 else { return 0 }
    let mx = mean(x)
    let my = mean(y)
    var sxy = 0.0
    var sxx = 0.0
    for i in x.indices {
      sxy += (x[i] - mx) * (y[i] - my)
      sxx += (x[i] - mx) * (x[i] - mx)
    }
    return sxx > 0 ? sxy / sxx : 0
  }
}
