import Foundation

/// Real and imaginary parts of `exp(-2 pi i j / n)` for `j < count`.
func unitRoots(_ n: Int, count: Int) -> ([Double], [Double]) {
  let angles = (0..<count).map { 2 * Double.pi * Double($0) / Double(n) }
  return (angles.map { cos($0) }, angles.map { -sin($0) })
}

/// Recursive decimation-in-time Cooley-Tukey for `n = p1 p2 ... pk`: a length-`len` transform with first factor `p`
/// splits its input into `p` interleaved sub-sequences of length `m = len / p`, transforms each, and combines
/// them with a direct `p`-point DFT of the twiddled values, `X[k + q m] = sum_r W_p^(r q) W_len^(r k) Y_r[k]`.
final class MixedRadix {
  /// Largest prime factor handled directly; beyond it the O(p) work per element loses to Bluestein.
  static let largestFactor = 64

  let n: Int
  let factors: [Int]
  /// `W_n^j = exp(-2 pi i j / n)`, for `j < n`; every twiddle and root of unity used is a power of `W_n`.
  let cosines: [Double]
  let sines: [Double]
  var scratchRe: [Double]
  var scratchIm: [Double]
  var termRe: [Double]
  var termIm: [Double]

  /// Fours first (fewest stages), then twos, then odd primes; nil when a prime factor exceeds `largestFactor`.
  static func factors(_ n: Int) -> [Int]? {
    var rest = n
    var factors: [Int] = []
    while rest % 4 == 0 {
      factors.append(4)
      rest /= 4
    }
    var p = 2
    while p * p <= rest {
      while rest % p == 0 {
        factors.append(p)
        rest /= p
      }
      p += p == 2 ? 1 : 2
    }
    if rest > 1 { factors.append(rest) }
    return factors.allSatisfy { $0 <= largestFactor } ? factors : nil
  }

  init(length n: Int, factors: [Int]) {
    self.n = n
    self.factors = factors
    (cosines, sines) = unitRoots(n, count: n)
    scratchRe = [Double](repeating: 0, count: n)
    scratchIm = [Double](repeating: 0, count: n)
    termRe = [Double](repeating: 0, count: factors.max() ?? 1)
    termIm = [Double](repeating: 0, count: factors.max() ?? 1)
  }

  func forward(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>) {
    scratchRe.withUnsafeMutableBufferPointer { sr in scratchIm.withUnsafeMutableBufferPointer { si in
      sr.baseAddress!.update(from: re, count: n)
      si.baseAddress!.update(from: im, count: n)
      recurse(sr.baseAddress!, si.baseAddress!, stride: 1, re, im, length: n, factor: 0)
    } }
  }

  /// The `p`-point DFT of `t`, written to `y[0], y[stride], ...`; 2 and 4 by hand (W_4 = -i), other `p` by the
  /// defining sum with root indices stepped by addition (an integer modulo per term was the bottleneck).
  private static func smallDFT(
    _ tr: UnsafeMutableBufferPointer<Double>, _ ti: UnsafeMutableBufferPointer<Double>, p: Int, rootStep: Int,
    _ c: UnsafeBufferPointer<Double>, _ s: UnsafeBufferPointer<Double>,
    _ yr: UnsafeMutablePointer<Double>, _ yi: UnsafeMutablePointer<Double>, stride m: Int
  ) {
    switch p {
    case 2:
      yr[0] = tr[0] + tr[1]
      yi[0] = ti[0] + ti[1]
      yr[m] = tr[0] - tr[1]
      yi[m] = ti[0] - ti[1]
    case 4:
      let (ar, ai, br, bi) = (tr[0] + tr[2], ti[0] + ti[2], tr[0] - tr[2], ti[0] - ti[2])
      let (cr, ci, dr, di) = (tr[1] + tr[3], ti[1] + ti[3], tr[1] - tr[3], ti[1] - ti[3])
      yr[0] = ar + cr
      yi[0] = ai + ci
      yr[m] = br + di
      yi[m] = bi - dr
      yr[2 * m] = ar - cr
      yi[2 * m] = ai - ci
      yr[3 * m] = br - di
      yi[3 * m] = bi + dr
    default:
      for q in 0..<p {
        var sumRe = tr[0]
        var sumIm = ti[0]
        var index = 0
        for r in 1..<p {
          index += q
          if index >= p { index -= p }
          let e = index * rootStep
          sumRe += tr[r] * c[e] - ti[r] * s[e]
          sumIm += tr[r] * s[e] + ti[r] * c[e]
        }
        yr[q * m] = sumRe
        yi[q * m] = sumIm
      }
    }
  }

  /// Transforms the `length` inputs `x[0], x[stride], ...` into `y[0..<length]`.
  private func recurse(
    _ xr: UnsafeMutablePointer<Double>, _ xi: UnsafeMutablePointer<Double>, stride: Int,
    _ yr: UnsafeMutablePointer<Double>, _ yi: UnsafeMutablePointer<Double>, length: Int, factor: Int
  ) {
    let p = factors[factor]
    let m = length / p
    if m > 1 {
      for r in 0..<p {
        recurse(xr + r * stride, xi + r * stride, stride: stride * p, yr + r * m, yi + r * m, length: m,
                factor: factor + 1)
      }
    }
    let twiddleStep = n / length
    let rootStep = n / p
    cosines.withUnsafeBufferPointer { c in sines.withUnsafeBufferPointer { s in
      termRe.withUnsafeMutableBufferPointer { tr in termIm.withUnsafeMutableBufferPointer { ti in
        for k in 0..<m {
          // Positions k + r m hold Y_r[k] and receive X[k + q m]: the same p slots, so gather all first.
          for r in 0..<p {
            let (ar, ai) = m > 1 ? (yr[k + r * m], yi[k + r * m]) : (xr[r * stride], xi[r * stride])
            let e = r * k * twiddleStep
            tr[r] = ar * c[e] - ai * s[e]
            ti[r] = ar * s[e] + ai * c[e]
          }
          Self.smallDFT(tr, ti, p: p, rootStep: rootStep, c, s, yr + k, yi + k, stride: m)
        }
      } }
    } }
  }
}
