import Foundation

/// A compact complex FFT for the lengths t-SNE's interpolation grid uses: products of 2s and 3s (radices 4, 2 and
/// 3), on split real / imaginary arrays, by Stockham's autosort scheme (no bit reversal; two buffers ping-pong).
///
/// Statistics keeps its own rather than sharing FocusMeasures' FFT because FocusMeasures depends on Statistics (the
/// reverse dependency would be a cycle), and this one only needs 2-D convolutions of real grids.
struct TSNEFourier {
  let length: Int
  /// Radices in the order the stages apply them; their product is `length`.
  private let radices: [Int]
  /// Per stage (radix p after m points), the twiddles exp(-2 pi i q k / (m p)) for q in 1..<p, k < m, laid out
  /// stage after stage, q-major; `offsets[s]` is where stage s starts.
  private let twiddleRe: [Double]
  private let twiddleIm: [Double]
  private let offsets: [Int]

  /// nil unless `length` is 2^a 3^b.
  init?(length n: Int) {
    guard n >= 1 else { return nil }
    var rest = n
    var radices: [Int] = []
    while rest % 4 == 0 { radices.append(4); rest /= 4 }
    while rest % 2 == 0 { radices.append(2); rest /= 2 }
    while rest % 3 == 0 { radices.append(3); rest /= 3 }
    guard rest == 1 else { return nil }
    length = n
    self.radices = radices
    var re: [Double] = [], im: [Double] = [], offsets: [Int] = []
    var m = 1
    for p in radices {
      offsets.append(re.count)
      for q in 1..<p {
        for k in 0..<m {
          let angle = -2 * Double.pi * Double(q * k) / Double(m * p)
          re.append(cos(angle))
          im.append(sin(angle))
        }
      }
      m *= p
    }
    twiddleRe = re
    twiddleIm = im
    self.offsets = offsets
  }

  /// The smallest 2^a 3^b that is at least `n`.
  static func smoothLength(atLeast n: Int) -> Int {
    var best = Int.max
    var two = 1
    while two < 2 * max(n, 1) {
      var m = two
      while m < n { m *= 3 }
      best = min(best, m)
      two *= 2
    }
    return best
  }

  /// Transforms `re` / `im` in place (`inverse`: the conjugate transform, unscaled). `sr` / `si` are scratch of the
  /// same length.
  func transform(
    _ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>,
    scratch sr: UnsafeMutablePointer<Double>, _ si: UnsafeMutablePointer<Double>, inverse: Bool
  ) {
    let n = length
    let sign = inverse ? -1.0 : 1.0
    var (inR, inI, outR, outI) = (re, im, sr, si)
    var m = 1
    twiddleRe.withUnsafeBufferPointer { twr in
      twiddleIm.withUnsafeBufferPointer { twi in
        for (stage, p) in radices.enumerated() {
          let r = n / (m * p)
          let wr = twr.baseAddress! + offsets[stage]
          let wi = twi.baseAddress! + offsets[stage]
          // Stage invariant: `in` holds n / m DFTs of length m, DFT t at [t m, t m + m); `out` gets n / (m p) DFTs
          // of length m p, combining DFTs t, t + r, ..., t + (p - 1) r with the stage's twiddles.
          switch p {
          case 4: Self.radix4(inR, inI, outR, outI, wr, wi, m: m, r: r, sign: sign)
          case 2: Self.radix2(inR, inI, outR, outI, wr, wi, m: m, r: r, sign: sign)
          default: Self.radix3(inR, inI, outR, outI, wr, wi, m: m, r: r, sign: sign)
          }
          swap(&inR, &outR)
          swap(&inI, &outI)
          m *= p
        }
      }
    }
    if inR != re {
      re.update(from: inR, count: n)
      im.update(from: inI, count: n)
    }
  }

  private typealias Pointer = UnsafeMutablePointer<Double>

  private static func radix2(
    _ xr: Pointer, _ xi: Pointer, _ yr: Pointer, _ yi: Pointer, _ wr: UnsafePointer<Double>,
    _ wi: UnsafePointer<Double>, m: Int, r: Int, sign: Double
  ) {
    for t in 0..<r {
      let a = t * m, b = (t + r) * m, o = 2 * t * m
      for k in 0..<m {
        let c = wr[k], s = sign * wi[k]
        let br = xr[b + k] * c - xi[b + k] * s, bi = xr[b + k] * s + xi[b + k] * c
        yr[o + k] = xr[a + k] + br; yi[o + k] = xi[a + k] + bi
        yr[o + m + k] = xr[a + k] - br; yi[o + m + k] = xi[a + k] - bi
      }
    }
  }

  private static func radix3(
    _ xr: Pointer, _ xi: Pointer, _ yr: Pointer, _ yi: Pointer, _ wr: UnsafePointer<Double>,
    _ wi: UnsafePointer<Double>, m: Int, r: Int, sign: Double
  ) {
    // exp(-+2 pi i / 3) = -1/2 -+ i sqrt(3)/2.
    let h = sign * 0.866_025_403_784_438_6
    for t in 0..<r {
      let a = t * m, b = (t + r) * m, c = (t + 2 * r) * m, o = 3 * t * m
      for k in 0..<m {
        let c1 = wr[k], s1 = sign * wi[k], c2 = wr[m + k], s2 = sign * wi[m + k]
        let br = xr[b + k] * c1 - xi[b + k] * s1, bi = xr[b + k] * s1 + xi[b + k] * c1
        let cr = xr[c + k] * c2 - xi[c + k] * s2, ci = xr[c + k] * s2 + xi[c + k] * c2
        let pr = br + cr, pi = bi + ci, dr = br - cr, di = bi - ci
        let mr = xr[a + k] - 0.5 * pr, mi = xi[a + k] - 0.5 * pi
        yr[o + k] = xr[a + k] + pr; yi[o + k] = xi[a + k] + pi
        yr[o + m + k] = mr + h * di; yi[o + m + k] = mi - h * dr
        yr[o + 2 * m + k] = mr - h * di; yi[o + 2 * m + k] = mi + h * dr
      }
    }
  }

  private static func radix4(
    _ xr: Pointer, _ xi: Pointer, _ yr: Pointer, _ yi: Pointer, _ wr: UnsafePointer<Double>,
    _ wi: UnsafePointer<Double>, m: Int, r: Int, sign: Double
  ) {
    for t in 0..<r {
      let i0 = t * m, i1 = (t + r) * m, i2 = (t + 2 * r) * m, i3 = (t + 3 * r) * m, o = 4 * t * m
      for k in 0..<m {
        let c1 = wr[k], s1 = sign * wi[k]
        let c2 = wr[m + k], s2 = sign * wi[m + k]
        let c3 = wr[2 * m + k], s3 = sign * wi[2 * m + k]
        let a0r = xr[i0 + k], a0i = xi[i0 + k]
        let a1r = xr[i1 + k] * c1 - xi[i1 + k] * s1, a1i = xr[i1 + k] * s1 + xi[i1 + k] * c1
        let a2r = xr[i2 + k] * c2 - xi[i2 + k] * s2, a2i = xr[i2 + k] * s2 + xi[i2 + k] * c2
        let a3r = xr[i3 + k] * c3 - xi[i3 + k] * s3, a3i = xr[i3 + k] * s3 + xi[i3 + k] * c3
        // exp(-+2 pi i / 4) = -+i.
        let s0r = a0r + a2r, s0i = a0i + a2i, d0r = a0r - a2r, d0i = a0i - a2i
        let s1r = a1r + a3r, s1i = a1i + a3i
        let d1r = sign * (a1r - a3r), d1i = sign * (a1i - a3i)
        yr[o + k] = s0r + s1r; yi[o + k] = s0i + s1i
        yr[o + m + k] = d0r + d1i; yi[o + m + k] = d0i - d1r
        yr[o + 2 * m + k] = s0r - s1r; yi[o + 2 * m + k] = s0i - s1i
        yr[o + 3 * m + k] = d0r - d1i; yi[o + 3 * m + k] = d0i + d1r
      }
    }
  }
}
