import Foundation

/// The 2-D power spectrum `|F(x - mean(x))|^2` of a plane, at full size (no padding or windowing), with rows
/// indexed by vertical frequency `i` and columns by horizontal frequency `j` (FFT order: index `k` above `n/2`
/// is the negative frequency `k - n`).
///
/// Only the half `j <= w/2` is stored; `P(i, j) = P(-i, -j)` (the input is real) gives the rest. It is stored
/// column-blocked, column `j` of row `i` at lane `j % 4` of `half[(j / 4) * h + i]`, the layout the four-lane
/// column transforms produce.
struct PowerSpectrum {
  let width: Int
  let height: Int
  /// Columns kept: `width / 2 + 1`.
  let keptColumns: Int
  let half: [SIMD4<Double>]

  /// The spectrum of `plane`, whose mean is `mean` when given.
  init(_ plane: FocusPlane, mean: Double? = nil) {
    let w = plane.width
    let h = plane.height
    let blocks = (w / 2 + 1 + 3) / 4
    let mean = mean ?? plane.pixels.withUnsafeBufferPointer(PlaneMoments.init).mean
    var re = [SIMD4<Double>](repeating: .zero, count: blocks * h)
    var im = re
    plane.pixels.withUnsafeBufferPointer { p in
      re.withUnsafeMutableBufferPointer { re in im.withUnsafeMutableBufferPointer { im in
        Self.transformRows(p, width: w, height: h, mean: mean, re.baseAddress!, im.baseAddress!)
        Self.transformColumns(re.baseAddress!, im.baseAddress!, width: w, height: h)
      } }
    }
    width = w
    height = h
    keptColumns = w / 2 + 1
    half = re
  }

  /// `P(i, j)` for any bin.
  @inline(__always)
  func power(_ i: Int, _ j: Int) -> Double {
    let (row, column) = j < keptColumns ? (i, j) : (i == 0 ? 0 : height - i, width - j)
    return half[(column / 4) * height + row][column % 4]
  }

  /// Row transforms, two real rows per complex transform and four transforms per pass: lane `l` of the pass at
  /// row `y0` holds rows `y0 + 2l` (real part) and `y0 + 2l + 1` (imaginary part). With `z = a + i b`,
  /// `A_k = (Z_k + conj Z_(n-k)) / 2` and `B_k = (Z_k - conj Z_(n-k)) / (2i)`; only `k <= w/2` is written.
  private static func transformRows(
    _ p: UnsafeBufferPointer<Float>, width w: Int, height h: Int, mean: Double,
    _ re: UnsafeMutablePointer<SIMD4<Double>>, _ im: UnsafeMutablePointer<SIMD4<Double>>
  ) {
    let halfW = w / 2 + 1
    let plan = FourLaneFFTPlan(length: w)
    let zr = UnsafeMutablePointer<SIMD4<Double>>.allocate(capacity: w)
    let zi = UnsafeMutablePointer<SIMD4<Double>>.allocate(capacity: w)
    defer {
      zr.deallocate()
      zi.deallocate()
    }
    let base = p.baseAddress!
    var y0 = 0
    while y0 < h {
      // Rows past the end read row 0 and are zeroed below.
      let rows = (0..<8).map { base + (y0 + $0 < h ? (y0 + $0) * w : 0) }
      for x in 0..<w {
        let even = SIMD4(Double(rows[0][x]), Double(rows[2][x]), Double(rows[4][x]), Double(rows[6][x]))
        let odd = SIMD4(Double(rows[1][x]), Double(rows[3][x]), Double(rows[5][x]), Double(rows[7][x]))
        zr[x] = even - SIMD4(repeating: mean)
        zi[x] = odd - SIMD4(repeating: mean)
      }
      if y0 + 8 > h {
        for lane in 0..<4 {
          for x in 0..<w {
            if y0 + 2 * lane >= h { zr[x][lane] = 0 }
            if y0 + 2 * lane + 1 >= h { zi[x][lane] = 0 }
          }
        }
      }
      plan.forward(zr, zi)
      for lane in 0..<4 where y0 + 2 * lane < h {
        let y = y0 + 2 * lane
        let paired = y + 1 < h
        for k in 0..<halfW {
          let mirror = k == 0 ? 0 : w - k
          let (ar, ai) = (zr[k][lane], zi[k][lane])
          let (cr, ci) = (zr[mirror][lane], -zi[mirror][lane])
          let (at, column) = ((k / 4) * h + y, k % 4)
          re[at][column] = (ar + cr) / 2
          im[at][column] = (ai + ci) / 2
          if paired {
            re[at + 1][column] = (ai - ci) / 2
            im[at + 1][column] = -(ar - cr) / 2
          }
        }
      }
      y0 += 8
    }
  }

  /// Column transforms of the kept half, four columns per pass; each bin's power replaces its real part.
  private static func transformColumns(
    _ re: UnsafeMutablePointer<SIMD4<Double>>, _ im: UnsafeMutablePointer<SIMD4<Double>>, width w: Int, height h: Int
  ) {
    let plan = FourLaneFFTPlan(length: h)
    for block in 0..<((w / 2 + 1 + 3) / 4) {
      let (cr, ci) = (re + block * h, im + block * h)
      plan.forward(cr, ci)
      for i in 0..<h { cr[i] = cr[i] * cr[i] + ci[i] * ci[i] }
    }
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
    try slopes(plane, lowBandLimit: lowBandLimit, mean: nil)
  }

  /// `slopes` of a plane whose mean is `mean` when given.
  static func slopes(_ plane: FocusPlane, lowBandLimit: Double = lowBandLimit, mean: Double?) throws -> Slopes {
    guard lowBandLimit > 0, lowBandLimit <= 0.5 else {
      throw FocusMeasuresError.invalidArgument(
        "PowerLogLogSlope: low band limit \(lowBandLimit) cycles/pixel must be in (0, 0.5]")
    }
    guard !isFlat(plane) else { return Slopes(cellProfiler: 0, lowBand: 0, fullBand: 0) }
    let spectrum = PowerSpectrum(plane, mean: mean)
    // One pass for both bands: ring k's sum has the same terms in the same order whichever band it is summed for.
    let rings = RingPowers(spectrum, upTo: 0.5)
    return Slopes(
      cellProfiler: cellProfilerSlope(spectrum),
      lowBand: rings.slope(upTo: lowBandLimit),
      fullBand: rings.slope(upTo: 0.5))
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
    for i in 0..<s.height {
      let ri2 = rowRadius[i] * rowRadius[i]
      guard rowRadius[i] < labelEnd else { continue }
      for j in 0..<s.width {
        let rj = columnRadius[j]
        guard rj < labelEnd else { continue }
        let label = Int(Double(ri2 + rj * rj).squareRoot().rounded(.down)) + 1
        if label >= 2 && label < labelEnd { sums[label] += s.power(i, j) }
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

  /// NumPy's `fftfreq`: index `k` of an `n`-point transform is `k / n` cycles/pixel, or `(k - n) / n` above `n/2`.
  static func signedFrequency(_ k: Int, _ n: Int) -> Double {
    Double(k < (n + 1) / 2 ? k : k - n) / Double(n)
  }

  private static func isFlat(_ plane: FocusPlane) -> Bool {
    let first = plane.pixels[0]
    return !plane.pixels.contains { $0 != first }
  }
}

/// Power summed in rings of width `1/min(w, h)` cycles/pixel of radial frequency
/// `f = sqrt((fi / h)^2 + (fj / w)^2)` (signed FFT frequencies, so the rings are circles in physical frequency for
/// any aspect ratio), ring `k = floor(f min(w, h))`, for the rings wholly below a limit.
struct RingPowers {
  let side: Double
  let sums: [Double]
  let counts: [Double]

  /// Rings `0 ..< floor(limit min(w, h))`. Each kept bin `(i, j)` with `0 < j < w/2` stands for itself and its
  /// mirror `(-i, -j)`, whose radius is the same (the frequencies only change sign), so it counts twice.
  init(_ s: PowerSpectrum, upTo limit: Double) {
    let side = Double(min(s.width, s.height))
    self.side = side
    let rings = Int((limit * side).rounded(.down))
    var sums = [Double](repeating: 0, count: max(rings, 0))
    var counts = sums
    let h = s.height
    let fi = (0..<h).map { PowerLogLogSlope.signedFrequency($0, h) }
    let rowSquares = fi.map { $0 * $0 }
    // Ring index grows with |fi| and |fj|: rows whose ring at fj = 0 is already past the band, and columns whose
    // ring at fi = 0 is, hold no bin of the band.
    let rows = (0..<h).filter { Int(rowSquares[$0].squareRoot() * side) < rings }
    sums.withUnsafeMutableBufferPointer { sum in counts.withUnsafeMutableBufferPointer { count in
      s.half.withUnsafeBufferPointer { half in
        for j in 0..<s.keptColumns {
          let fj = PowerLogLogSlope.signedFrequency(j, s.width)
          let b = fj * fj
          guard Int(b.squareRoot() * side) < rings else { continue }
          let weight: Double = j == 0 || 2 * j == s.width ? 1 : 2
          let (column, lane) = (half.baseAddress! + (j / 4) * h, j % 4)
          // The radius is never negative, so truncation is the floor.
          for i in rows {
            let k = Int((rowSquares[i] + b).squareRoot() * side)
            if k < rings {
              sum[k] += weight * column[i][lane]
              count[k] += weight
            }
          }
        }
      }
    } }
    self.sums = sums
    self.counts = counts
  }

  /// Rings 1 through `floor(limit min(w, h)) - 1` (at most those summed) with positive power fitted:
  /// `log(mean power)` against `log((k + 1/2) / min(w, h))`. 0 with fewer than three rings.
  func slope(upTo limit: Double) -> Double {
    let rings = min(Int((limit * side).rounded(.down)), sums.count)
    guard rings > 2 else { return 0 }
    var x: [Double] = []
    var y: [Double] = []
    for k in 1..<rings where counts[k] > 0 && sums[k] > 0 {
      x.append(((Double(k) + 0.5) / side).logarithm)
      y.append((sums[k] / counts[k]).logarithm)
    }
    return SampleStatistics.slope(x: x, y: y)
  }
}

extension Double {
  fileprivate var logarithm: Double { Foundation.log(self) }
}
