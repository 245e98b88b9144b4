import Foundation

/// The 2-D power spectrum `|F(x - mean(x))|^2` of a plane, at full size (no padding or windowing), with rows
/// indexed by vertical frequency `i` and columns by horizontal frequency `j` (FFT order: index `k` above `n/2`
/// is the negative frequency `k - n`).
struct PowerSpectrum {
  let width: Int
  let height: Int
  /// `power[i * width + j]`.
  let power: [Double]

  init(_ plane: FocusPlane) {
    let w = plane.width
    let h = plane.height
    let halfW = w / 2 + 1
    let mean = plane.pixels.withUnsafeBufferPointer(PlaneMoments.init).mean
    // Row transforms, two real rows per complex transform: z = a + i b gives A_k = (Z_k + conj Z_(n-k)) / 2 and
    // B_k = (Z_k - conj Z_(n-k)) / (2i). Only j <= w/2 is kept: the rest follows from Hermitian symmetry.
    var rowsRe = [Double](repeating: 0, count: h * halfW)
    var rowsIm = [Double](repeating: 0, count: h * halfW)
    var zr = [Double](repeating: 0, count: w)
    var zi = [Double](repeating: 0, count: w)
    let rowPlan = FFTPlan(length: w)
    plane.pixels.withUnsafeBufferPointer { p in
      var y = 0
      while y < h {
        let paired = y + 1 < h
        for x in 0..<w {
          zr[x] = Double(p[y * w + x]) - mean
          zi[x] = paired ? Double(p[(y + 1) * w + x]) - mean : 0
        }
        zr.withUnsafeMutableBufferPointer { r in zi.withUnsafeMutableBufferPointer { i in
          rowPlan.forward(r.baseAddress!, i.baseAddress!)
        } }
        for k in 0..<halfW {
          let mirror = k == 0 ? 0 : w - k
          let (ar, ai) = (zr[k], zi[k])
          let (cr, ci) = (zr[mirror], -zi[mirror])
          rowsRe[y * halfW + k] = (ar + cr) / 2
          rowsIm[y * halfW + k] = (ai + ci) / 2
          if paired {
            rowsRe[(y + 1) * halfW + k] = (ai - ci) / 2
            rowsIm[(y + 1) * halfW + k] = -(ar - cr) / 2
          }
        }
        y += 2
      }
    }
    // Column transforms of the kept half; P(-i, -j) = P(i, j) fills the other half.
    var power = [Double](repeating: 0, count: h * w)
    var cr = [Double](repeating: 0, count: h)
    var ci = [Double](repeating: 0, count: h)
    let columnPlan = FFTPlan(length: h)
    for j in 0..<halfW {
      for i in 0..<h {
        cr[i] = rowsRe[i * halfW + j]
        ci[i] = rowsIm[i * halfW + j]
      }
      cr.withUnsafeMutableBufferPointer { r in ci.withUnsafeMutableBufferPointer { c in
        columnPlan.forward(r.baseAddress!, c.baseAddress!)
      } }
      let mirrorJ = j == 0 ? 0 : w - j
      for i in 0..<h {
        let value = cr[i] * cr[i] + ci[i] * ci[i]
        power[i * w + j] = value
        power[(i == 0 ? 0 : h - i) * w + mirrorJ] = value
      }
    }
    width = w
    height = h
    self.power = power
  }
}

/// The slope of the radially averaged power spectrum in log-log coordinates (`ImageQuality_PowerLogLogSlope`).
/// Sharper images keep more power at high frequencies, so their slope is less negative.
public enum PowerLogLogSlope {
  /// The upper frequency of the low band, in cycles per pixel. Measured on BBBC006 (520 x 696): far-from-focus
  /// images reach a flat floor (camera noise) above about 0.2 cycles/pixel (mean ring power within 2x from 0.2 to
  /// 0.5) while near-focus images still fall 10-20x there. Fits ending at 0.05, 0.1 or 0.15 rank every near image
  /// above every far one; from 0.2 upwards the order flips, and fitted to Nyquist it is fully reversed. 0.1 keeps
  /// a margin below the knee.
  public static let lowBandLimit = 0.1

  /// CellProfiler's slopes and the two band-limited variants, from one Fourier transform.
  public struct Slopes: Sendable, Equatable {
    /// `ImageQuality_PowerLogLogSlope`, exactly as CellProfiler computes it (see `cellProfiler(_:)`).
    public let cellProfiler: Double
    /// Fitted from the lowest non-DC bin up to `lowBandLimit` cycles/pixel.
    public let lowBand: Double
    /// Fitted from the lowest non-DC bin up to Nyquist (0.5 cycles/pixel): ranks defocus the wrong way on noisy
    /// cameras; reported so that users can see why the low band is the default.
    public let fullBand: Double
  }

  /// All three slopes. `lowBandLimit` is in cycles per pixel, in (0, 0.5].
  public static func slopes(_ plane: FocusPlane, lowBandLimit: Double = lowBandLimit) throws -> Slopes {
    guard lowBandLimit > 0, lowBandLimit <= 0.5 else {
      throw FocusMeasuresError.invalidArgument(
        "PowerLogLogSlope: low band limit \(lowBandLimit) cycles/pixel must be in (0, 0.5]")
    }
    guard !isFlat(plane) else { return Slopes(cellProfiler: 0, lowBand: 0, fullBand: 0) }
    let spectrum = PowerSpectrum(plane)
    return Slopes(
      cellProfiler: cellProfilerSlope(spectrum),
      lowBand: bandSlope(spectrum, upTo: lowBandLimit),
      fullBand: bandSlope(spectrum, upTo: 0.5))
  }

  /// CellProfiler's definition (centrosome `rps` + MeasureImageQuality): the power of `x - mean` is summed over
  /// rings of radius label `floor(sqrt(ri^2 + rj^2)) + 1`, where `ri = min(i, h - 1 - i)` and likewise `rj`
  /// (frequency indices, not cycles/pixel, so non-square images mix scales; the `- 1` is CellProfiler's), for
  /// labels `2 ..< floor(min(w, h) / 8)`; rings with zero power are dropped and `log(power)` is fitted against
  /// `log(label)` by least squares. CellProfiler first divides the image by its mean absolute deviation from the
  /// median; that adds a constant to `log(power)` and leaves the slope unchanged, so it is skipped here. 0 for a
  /// flat plane or fewer than two rings.
  static func cellProfilerSlope(_ s: PowerSpectrum) -> Double {
    let labelEnd = Int((Double(min(s.width, s.height)) / 8).rounded(.down))
    guard labelEnd > 2 else { return 0 }
    var sums = [Double](repeating: 0, count: labelEnd)
    let rowRadius = (0..<s.height).map { min($0, s.height - 1 - $0) }
    let columnRadius = (0..<s.width).map { min($0, s.width - 1 - $0) }
    s.power.withUnsafeBufferPointer { p in
      for i in 0..<s.height {
        let ri2 = rowRadius[i] * rowRadius[i]
        guard rowRadius[i] < labelEnd else { continue }
        for j in 0..<s.width {
          let rj = columnRadius[j]
          guard rj < labelEnd else { continue }
          let label = Int(Double(ri2 + rj * rj).squareRoot().rounded(.down)) + 1
          if label >= 2 && label < labelEnd { sums[label] += p[i * s.width + j] }
        }
      }
    }
    var x: [Double] = []
    var y: [Double] = []
    for label in 2..<labelEnd where sums[label] > 0 {
      x.append(Double(label).logarithm)
      y.append(sums[label].logarithm)
    }
    return x.count > 1 ? SampleStatistics.slope(x: x, y: y) : 0
  }

  /// Mean power in rings of width `1/min(w, h)` cycles/pixel of radial frequency
  /// `f = sqrt((fi / h)^2 + (fj / w)^2)` (signed FFT frequencies, so the rings are circles in physical frequency
  /// for any aspect ratio), ring `k = floor(f min(w, h))`. Rings 1 through `floor(limit min(w, h)) - 1` (those
  /// wholly below `limit`) with positive power are fitted: `log(mean power)` against `log((k + 1/2) / min(w, h))`.
  static func bandSlope(_ s: PowerSpectrum, upTo limit: Double) -> Double {
    let side = Double(min(s.width, s.height))
    let rings = Int((limit * side).rounded(.down))
    guard rings > 2 else { return 0 }
    var sums = [Double](repeating: 0, count: rings)
    var counts = [Double](repeating: 0, count: rings)
    let fi = (0..<s.height).map { signedFrequency($0, s.height) }
    let fj = (0..<s.width).map { signedFrequency($0, s.width) }
    // Ring index grows with |fi| and |fj|: rows whose ring at fj = 0 is already past the band, and columns whose
    // ring at fi = 0 is, hold no bin of the band. Skipping them leaves every sum's terms and order unchanged.
    let columns = (0..<s.width).filter { Int((fj[$0] * fj[$0]).squareRoot() * side) < rings }
    s.power.withUnsafeBufferPointer { p in
      for i in 0..<s.height where Int((fi[i] * fi[i]).squareRoot() * side) < rings {
        let a = fi[i] * fi[i]
        for j in columns {
          let k = Int(((a + fj[j] * fj[j]).squareRoot() * side).rounded(.down))
          if k < rings {
            sums[k] += p[i * s.width + j]
            counts[k] += 1
          }
        }
      }
    }
    var x: [Double] = []
    var y: [Double] = []
    for k in 1..<rings where counts[k] > 0 && sums[k] > 0 {
      x.append(((Double(k) + 0.5) / side).logarithm)
      y.append((sums[k] / counts[k]).logarithm)
    }
    return SampleStatistics.slope(x: x, y: y)
  }

  /// NumPy's `fftfreq`: index `k` of an `n`-point transform is `k / n` cycles/pixel, or `(k - n) / n` above `n/2`.
  static func signedFrequency(_ k: Int, _ n: Int) -> Double {
    Double(k < (n + 1) / 2 ? k : k - n) / Double(n)
  }

  private static func isFlat(_ plane: FocusPlane) -> Bool {
    let first = plane.pixels[0]
    return !plane.pixels.contains { $0 != first }
  }
}

extension Double {
  fileprivate var logarithm: Double { Foundation.log(self) }
}
