import Foundation

/// Real and imaginary parts of `exp(-2 pi i j / n)` for `j < count`.
func unitRoots(_ n: Int, count: Int) -> ([Double], [Double]) {
  let angles = (0..<count).map { 2 * Double.pi * Double($0) / Double(n) }
  return (angles.map { cos($0) }, angles.map { -sin($0) })
}

/// What the mixed-radix transform computes on: one component of one transform (`Double`), or of four transforms
/// side by side (`SIMD4<Double>`: lane `l` of every element belongs to transform `l`). Every lane sees the same
/// operations in the same order, so a batched transform's lanes equal the single transforms bit for bit; batching
/// pays the index and twiddle work once for four transforms and reads whole cache lines of a column-blocked image.
protocol FFTLanes {
  static func + (lhs: Self, rhs: Self) -> Self
  static func - (lhs: Self, rhs: Self) -> Self
  static func += (lhs: inout Self, rhs: Self)
  static func * (lhs: Self, rhs: Double) -> Self
}

extension Double: FFTLanes {}
extension SIMD4: FFTLanes where Scalar == Double {}

/// The factorisation and butterfly constants of `MixedRadix` (a generic class has no static storage).
enum MixedRadixFactors {
  /// Largest prime factor handled directly; beyond it the O(p) work per element loses to Bluestein.
  static let largestFactor = 64

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

  static let sin3 = (3.0).squareRoot() / 2
  static let cos5a = cos(2 * Double.pi / 5)
  static let cos5b = cos(4 * Double.pi / 5)
  static let sin5a = sin(2 * Double.pi / 5)
  static let sin5b = sin(4 * Double.pi / 5)
}

/// Recursive decimation-in-time Cooley-Tukey for `n = p1 p2 ... pk`: a length-`len` transform with first factor `p`
/// splits its input into `p` interleaved sub-sequences of length `m = len / p`, transforms each, and combines
/// them with a direct `p`-point DFT of the twiddled values, `X[k + q m] = sum_r W_p^(r q) W_len^(r k) Y_r[k]`.
final class MixedRadix<Lane: FFTLanes> {
  private typealias C = MixedRadixFactors
  let n: Int
  let factors: [Int]
  /// `W_n^j = exp(-2 pi i j / n)`, for `j < n`; every twiddle and root of unity used is a power of `W_n`. Raw
  /// buffers, owned by the plan, so the inner loops pay no per-call exclusivity checks on the plan's properties.
  private let cosines: UnsafeMutablePointer<Double>
  private let sines: UnsafeMutablePointer<Double>
  private let scratchRe: UnsafeMutablePointer<Lane>
  private let scratchIm: UnsafeMutablePointer<Lane>
  private let termRe: UnsafeMutablePointer<Lane>
  private let termIm: UnsafeMutablePointer<Lane>

  init(length n: Int, factors: [Int]) {
    self.n = n
    self.factors = factors
    let (c, s) = unitRoots(n, count: n)
    cosines = .allocate(capacity: n)
    cosines.initialize(from: c, count: n)
    sines = .allocate(capacity: n)
    sines.initialize(from: s, count: n)
    scratchRe = .allocate(capacity: n)
    scratchIm = .allocate(capacity: n)
    let largest = factors.max() ?? 1
    termRe = .allocate(capacity: largest)
    termIm = .allocate(capacity: largest)
  }

  deinit {
    for buffer in [cosines, sines] { buffer.deallocate() }
    for buffer in [scratchRe, scratchIm, termRe, termIm] { buffer.deallocate() }
  }

  func forward(_ re: UnsafeMutablePointer<Lane>, _ im: UnsafeMutablePointer<Lane>) {
    scratchRe.update(from: re, count: n)
    scratchIm.update(from: im, count: n)
    recurse(scratchRe, scratchIm, stride: 1, re, im, length: n, factor: 0)
  }

  /// The `p`-point DFT of `t`, written to `y[0], y[stride], ...`: 2, 3, 4 and 5 as butterflies (W_4 = -i; the
  /// 3- and 5-point forms pair `x_r` with `x_(p-r)`, whose roots are conjugate), other `p` by the defining sum
  /// with root indices stepped by addition (an integer modulo per term was the bottleneck).
  @inline(__always)
  private func smallDFT(
    _ tr: UnsafeMutablePointer<Lane>, _ ti: UnsafeMutablePointer<Lane>, p: Int, rootStep: Int,
    _ yr: UnsafeMutablePointer<Lane>, _ yi: UnsafeMutablePointer<Lane>, stride m: Int
  ) {
    switch p {
    case 2:
      yr[0] = tr[0] + tr[1]
      yi[0] = ti[0] + ti[1]
      yr[m] = tr[0] - tr[1]
      yi[m] = ti[0] - ti[1]
    case 3:
      // X_1,2 = x0 - (x1 + x2) / 2 -/+ i sin(2 pi / 3) (x1 - x2).
      let (ar, ai) = (tr[1] + tr[2], ti[1] + ti[2])
      let (br, bi) = ((tr[1] - tr[2]) * C.sin3, (ti[1] - ti[2]) * C.sin3)
      let (cr, ci) = (tr[0] - ar * 0.5, ti[0] - ai * 0.5)
      yr[0] = tr[0] + ar
      yi[0] = ti[0] + ai
      yr[m] = cr + bi
      yi[m] = ci - br
      yr[2 * m] = cr - bi
      yi[2 * m] = ci + br
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
    case 5:
      // a_r = x_r + x_(5-r), b_r = x_r - x_(5-r); X_q = x0 + sum_r cos(2 pi q r / 5) a_r - i sin(2 pi q r / 5) b_r.
      let (a1r, a1i, b1r, b1i) = (tr[1] + tr[4], ti[1] + ti[4], tr[1] - tr[4], ti[1] - ti[4])
      let (a2r, a2i, b2r, b2i) = (tr[2] + tr[3], ti[2] + ti[3], tr[2] - tr[3], ti[2] - ti[3])
      let (c1r, c1i) = (tr[0] + a1r * C.cos5a + a2r * C.cos5b, ti[0] + a1i * C.cos5a + a2i * C.cos5b)
      let (c2r, c2i) = (tr[0] + a1r * C.cos5b + a2r * C.cos5a, ti[0] + a1i * C.cos5b + a2i * C.cos5a)
      let (s1r, s1i) = (b1r * C.sin5a + b2r * C.sin5b, b1i * C.sin5a + b2i * C.sin5b)
      let (s2r, s2i) = (b1r * C.sin5b - b2r * C.sin5a, b1i * C.sin5b - b2i * C.sin5a)
      yr[0] = tr[0] + a1r + a2r
      yi[0] = ti[0] + a1i + a2i
      yr[m] = c1r + s1i
      yi[m] = c1i - s1r
      yr[4 * m] = c1r - s1i
      yi[4 * m] = c1i + s1r
      yr[2 * m] = c2r + s2i
      yi[2 * m] = c2i - s2r
      yr[3 * m] = c2r - s2i
      yi[3 * m] = c2i + s2r
    default:
      for q in 0..<p {
        var sumRe = tr[0]
        var sumIm = ti[0]
        var index = 0
        for r in 1..<p {
          index += q
          if index >= p { index -= p }
          let e = index * rootStep
          sumRe += tr[r] * cosines[e] - ti[r] * sines[e]
          sumIm += tr[r] * sines[e] + ti[r] * cosines[e]
        }
        yr[q * m] = sumRe
        yi[q * m] = sumIm
      }
    }
  }

  /// Transforms the `length` inputs `x[0], x[stride], ...` into `y[0..<length]`.
  private func recurse(
    _ xr: UnsafeMutablePointer<Lane>, _ xi: UnsafeMutablePointer<Lane>, stride: Int,
    _ yr: UnsafeMutablePointer<Lane>, _ yi: UnsafeMutablePointer<Lane>, length: Int, factor: Int
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
    let (tr, ti) = (termRe, termIm)
    for k in 0..<m {
      // Positions k + r m hold Y_r[k] and receive X[k + q m]: the same p slots, so gather all first.
      if m == 1 {
        for r in 0..<p {
          tr[r] = xr[r * stride]
          ti[r] = xi[r * stride]
        }
      } else if k == 0 {
        // Every twiddle W^0 is 1.
        for r in 0..<p {
          tr[r] = yr[r * m]
          ti[r] = yi[r * m]
        }
      } else {
        for r in 0..<p {
          let (ar, ai) = (yr[k + r * m], yi[k + r * m])
          let e = r * k * twiddleStep
          tr[r] = ar * cosines[e] - ai * sines[e]
          ti[r] = ar * sines[e] + ai * cosines[e]
        }
      }
      smallDFT(tr, ti, p: p, rootStep: rootStep, yr + k, yi + k, stride: m)
    }
  }
}
