import Foundation

/// An in-place complex discrete Fourier transform of one length `n`, `X_k = sum_j x_j exp(-2 pi i j k / n)`, on
/// split real and imaginary arrays.
///
/// Powers of two use an iterative radix-2 Cooley-Tukey transform; lengths whose prime factors are all at most 64
/// (every camera size in practice: 520, 696, 1080, ...) a recursive mixed-radix Cooley-Tukey transform
/// (`MixedRadix`); any other length Bluestein's chirp-z algorithm, a circular convolution of power-of-two length
/// `m >= 2n - 1`. All run in O(n log n) (mixed radix: O(n * sum of factors)). Not thread-safe: a plan owns
/// scratch buffers, so give each thread its own plan.
final class FFTPlan {
  let n: Int
  private let radix2: Radix2?
  private let mixed: MixedRadix<Double>?
  private let bluestein: Bluestein?

  init(length n: Int) {
    precondition(n >= 1, "FFTPlan needs a positive length")
    self.n = n
    radix2 = n & (n - 1) == 0 ? Radix2(length: n) : nil
    mixed = radix2 == nil ? MixedRadixFactors.factors(n).map { MixedRadix(length: n, factors: $0) } : nil
    bluestein = radix2 == nil && mixed == nil ? Bluestein(length: n) : nil
  }

  /// Transforms `re[0..<n]`, `im[0..<n]` in place.
  func forward(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>) {
    if let radix2 {
      radix2.forward(re, im)
    } else if let mixed {
      mixed.forward(re, im)
    } else {
      bluestein!.forward(re, im)
    }
  }
}

/// Radix-2 decimation-in-time with precomputed twiddles `exp(-2 pi i k / n)`, `k < n/2`, and bit-reversal table.
private final class Radix2 {
  let n: Int
  let cosines: [Double]
  let sines: [Double]
  let reversed: [Int]

  init(length n: Int) {
    self.n = n
    (cosines, sines) = unitRoots(n, count: max(1, n / 2))
    var bits = 0
    while (1 << bits) < n { bits += 1 }
    reversed = (0..<n).map { i in
      var r = 0
      for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
      return r
    }
  }

  func forward(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>) {
    for i in 0..<n {
      let j = reversed[i]
      if j > i {
        swap(&re[i], &re[j])
        swap(&im[i], &im[j])
      }
    }
    cosines.withUnsafeBufferPointer { c in
      sines.withUnsafeBufferPointer { s in
        var size = 2
        while size <= n {
          let half = size / 2
          let step = n / size
          var start = 0
          while start < n {
            for k in 0..<half {
              let wr = c[k * step]
              let wi = s[k * step]
              let a = start + k
              let b = a + half
              let tr = re[b] * wr - im[b] * wi
              let ti = re[b] * wi + im[b] * wr
              re[b] = re[a] - tr
              im[b] = im[a] - ti
              re[a] += tr
              im[a] += ti
            }
            start += size
          }
          size *= 2
        }
      }
    }
  }
}

/// Bluestein's algorithm: with `w_k = exp(-i pi k^2 / n)`, `X_k = w_k sum_j (x_j w_j) conj(w_(k-j))`, a circular
/// convolution of length `m` (a power of two >= 2n - 1) done with the radix-2 transform.
private final class Bluestein {
  let n: Int
  let m: Int
  let inner: Radix2
  let chirpRe: [Double]
  let chirpIm: [Double]
  /// Transform of the zero-padded, wrapped `conj(w)`, divided by `m` so the inverse needs no scaling.
  let kernelRe: [Double]
  let kernelIm: [Double]
  var bufferRe: [Double]
  var bufferIm: [Double]

  init(length n: Int) {
    self.n = n
    var m = 1
    while m < 2 * n - 1 { m *= 2 }
    self.m = m
    inner = Radix2(length: m)
    // k^2 mod 2n keeps the chirp's angle small, so it stays accurate for large k.
    let angles = (0..<n).map { k in Double.pi * Double((k * k) % (2 * n)) / Double(n) }
    chirpRe = angles.map { cos($0) }
    chirpIm = angles.map { -sin($0) }
    var kr = [Double](repeating: 0, count: m)
    var ki = [Double](repeating: 0, count: m)
    for k in 0..<n {
      kr[k] = chirpRe[k]
      ki[k] = -chirpIm[k]
      if k > 0 {
        kr[m - k] = chirpRe[k]
        ki[m - k] = -chirpIm[k]
      }
    }
    let inner = self.inner
    kr.withUnsafeMutableBufferPointer { r in ki.withUnsafeMutableBufferPointer { i in
      inner.forward(r.baseAddress!, i.baseAddress!)
    } }
    kernelRe = kr.map { $0 / Double(m) }
    kernelIm = ki.map { $0 / Double(m) }
    bufferRe = [Double](repeating: 0, count: m)
    bufferIm = [Double](repeating: 0, count: m)
  }

  func forward(_ re: UnsafeMutablePointer<Double>, _ im: UnsafeMutablePointer<Double>) {
    let n = self.n
    let m = self.m
    let inner = self.inner
    chirpRe.withUnsafeBufferPointer { cr in chirpIm.withUnsafeBufferPointer { ci in
      kernelRe.withUnsafeBufferPointer { kr in kernelIm.withUnsafeBufferPointer { ki in
        bufferRe.withUnsafeMutableBufferPointer { brb in bufferIm.withUnsafeMutableBufferPointer { bib in
          let br = brb.baseAddress!
          let bi = bib.baseAddress!
          for k in 0..<n {
            br[k] = re[k] * cr[k] - im[k] * ci[k]
            bi[k] = re[k] * ci[k] + im[k] * cr[k]
          }
          for k in n..<m {
            br[k] = 0
            bi[k] = 0
          }
          inner.forward(br, bi)
          for k in 0..<m {
            let r = br[k] * kr[k] - bi[k] * ki[k]
            let i = br[k] * ki[k] + bi[k] * kr[k]
            br[k] = r
            bi[k] = i
          }
          // Inverse transform as a forward transform with real and imaginary parts swapped.
          inner.forward(bi, br)
          for k in 0..<n {
            re[k] = br[k] * cr[k] - bi[k] * ci[k]
            im[k] = br[k] * ci[k] + bi[k] * cr[k]
          }
        } }
      } }
    } }
  }
}
