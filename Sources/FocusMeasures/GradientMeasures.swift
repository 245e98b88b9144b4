/// Classical sharpness measures from local differences, each as the mean over the positions where its stencil fits
/// inside the image (no border convention), so values do not depend on image size.
///
/// The raw values scale with the square of intensity. The `normalised` forms divide by the squared mean intensity
/// of the whole plane, which makes them invariant to exposure and gain (x -> a x) and comparable between images of
/// different brightness; they are 0 when the mean is not positive. (Dividing by the image variance instead, a
/// common alternative, ranks the BBBC006 far-from-focus images above the near-focus ones, because a defocused
/// field loses variance faster than it loses edges.)
public enum GradientSharpness {
  /// A raw measure and its intensity-normalised form (raw / mean^2).
  public struct Value: Sendable, Equatable {
    public let raw: Double
    public let normalised: Double
  }

  /// Brenner's gradient: mean of squared differences between pixels two apart, averaged over the horizontal
  /// (`I(x+2,y) - I(x,y)`) and vertical (`I(x,y+2) - I(x,y)`) directions. For a ramp `a x + b y` it is
  /// `2 (a^2 + b^2)`. Needs a plane of at least 3 x 3 (else 0).
  public static func brenner(_ plane: FocusPlane) -> Value { normalise(rawBrenner(plane), plane) }

  /// `brenner`'s raw value.
  static func rawBrenner(_ plane: FocusPlane) -> Double {
    let w = plane.width
    let h = plane.height
    guard w >= 3, h >= 3 else { return 0 }
    var horizontal = 0.0
    var vertical = 0.0
    plane.pixels.withUnsafeBufferPointer { p in
      for y in 0..<h {
        let row = y * w
        horizontal += squaredDifferences(p, from: row, to: row + 2, count: w - 2)
        if y + 2 < h { vertical += squaredDifferences(p, from: row, to: row + 2 * w, count: w) }
      }
    }
    return 0.5 * (horizontal / Double((w - 2) * h) + vertical / Double(w * (h - 2)))
  }

  /// Sum of `(p[to + i] - p[from + i])^2` over `i < count`, in Double, with four independent partial sums: one
  /// running sum is a chain of dependent additions that runs at one per add latency.
  @inline(__always)
  static func squaredDifferences(_ p: UnsafeBufferPointer<Float>, from: Int, to: Int, count: Int) -> Double {
    var s = SIMD4<Double>(repeating: 0)
    var i = 0
    while i + 4 <= count {
      let (f, t) = (from + i, to + i)
      let a = SIMD4<Double>(Double(p[f]), Double(p[f + 1]), Double(p[f + 2]), Double(p[f + 3]))
      let b = SIMD4<Double>(Double(p[t]), Double(p[t + 1]), Double(p[t + 2]), Double(p[t + 3]))
      let d = b - a
      s += d * d
      i += 4
    }
    var tail = 0.0
    while i < count {
      let d = Double(p[to + i]) - Double(p[from + i])
      tail += d * d
      i += 1
    }
    return s.sum() + tail
  }

  /// Tenengrad: mean over interior pixels of `Gx^2 + Gy^2`, with the unscaled 3 x 3 Sobel kernels
  /// (`Gx = [-1 0 1; -2 0 2; -1 0 1]`, `Gy` its transpose). For a ramp `a x + b y` it is `64 (a^2 + b^2)`.
  public static func tenengrad(_ plane: FocusPlane) -> Value { normalise(rawTenengrad(plane), plane) }

  /// `tenengrad`'s raw value.
  static func rawTenengrad(_ plane: FocusPlane) -> Double {
    interiorMean(plane) { p, i, w in
      let up = i - w
      let down = i + w
      let gx = (Double(p[up + 1]) + 2 * Double(p[i + 1]) + Double(p[down + 1]))
        - (Double(p[up - 1]) + 2 * Double(p[i - 1]) + Double(p[down - 1]))
      let gy = (Double(p[down - 1]) + 2 * Double(p[down]) + Double(p[down + 1]))
        - (Double(p[up - 1]) + 2 * Double(p[up]) + Double(p[up + 1]))
      return (gx * gx + gy * gy, 0)
    }.mean
  }

  /// Variance of the Laplacian: population variance over interior pixels of the 4-neighbour Laplacian
  /// `I(x-1,y) + I(x+1,y) + I(x,y-1) + I(x,y+1) - 4 I(x,y)`. 0 for any plane `a + b x + c y + d x^2 + e y^2`.
  public static func laplacianVariance(_ plane: FocusPlane) -> Value {
    normalise(rawLaplacianVariance(plane), plane)
  }

  /// `laplacianVariance`'s raw value.
  static func rawLaplacianVariance(_ plane: FocusPlane) -> Double {
    // Moments are taken around 0: the Laplacian of a real image has mean near 0, so E[L^2] - E[L]^2 does not cancel.
    let m = interiorMean(plane) { p, i, w in
      let l = Double(p[i - 1]) + Double(p[i + 1]) + Double(p[i - w]) + Double(p[i + w]) - 4 * Double(p[i])
      return (l * l, l)
    }
    return max(0, m.mean - m.secondary * m.secondary)
  }

  /// Mean over interior pixels (those with all 8 neighbours) of `term(pixels, index, width)`, which returns a value
  /// and a secondary value averaged alongside; zeros when the plane has no interior.
  private static func interiorMean(
    _ plane: FocusPlane, _ term: (UnsafeBufferPointer<Float>, Int, Int) -> (Double, Double)
  ) -> (mean: Double, secondary: Double) {
    let w = plane.width
    let h = plane.height
    guard w >= 3, h >= 3 else { return (0, 0) }
    var sum = 0.0
    var secondary = 0.0
    plane.pixels.withUnsafeBufferPointer { p in
      for y in 1..<(h - 1) {
        for x in 1..<(w - 1) {
          let (a, b) = term(p, y * w + x, w)
          sum += a
          secondary += b
        }
      }
    }
    let n = Double((w - 2) * (h - 2))
    return (sum / n, secondary / n)
  }

  /// `raw` and `raw / mean^2`, the plane's mean given (`FocusMeasurements` computes it once for every measure).
  static func normalise(_ raw: Double, _ plane: FocusPlane, mean: Double? = nil) -> Value {
    let mean = mean ?? plane.pixels.withUnsafeBufferPointer(PlaneMoments.init).mean
    return Value(raw: raw, normalised: mean > 0 ? raw / (mean * mean) : 0)
  }
}
