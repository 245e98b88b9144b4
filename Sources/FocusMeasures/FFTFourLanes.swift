/// Four complex transforms of one length at once, on split arrays of `SIMD4<Double>` whose lane `l` holds
/// transform `l`: the mixed-radix transform run on all four lanes together where the length's prime factors are at
/// most 64 (for such lengths other than powers of two its lanes equal `FFTPlan`'s transforms bit for bit; for
/// powers of two they agree to rounding), else `FFTPlan` lane by lane. Not thread-safe, like `FFTPlan`.
final class FourLaneFFTPlan {
  let n: Int
  private let mixed: MixedRadix<SIMD4<Double>>?
  private let single: FFTPlan?
  private var laneRe: [Double]
  private var laneIm: [Double]

  init(length n: Int) {
    precondition(n >= 1, "FourLaneFFTPlan needs a positive length")
    self.n = n
    // Length 1 has no factor to recurse on; its transform is the identity, which FFTPlan handles.
    mixed = n > 1 ? MixedRadixFactors.factors(n).map { MixedRadix(length: n, factors: $0) } : nil
    single = mixed == nil ? FFTPlan(length: n) : nil
    laneRe = mixed == nil ? [Double](repeating: 0, count: n) : []
    laneIm = laneRe
  }

  /// Transforms `re[0..<n]`, `im[0..<n]` in place, each lane independently.
  func forward(_ re: UnsafeMutablePointer<SIMD4<Double>>, _ im: UnsafeMutablePointer<SIMD4<Double>>) {
    if let mixed {
      mixed.forward(re, im)
      return
    }
    let single = single!
    let n = self.n
    laneRe.withUnsafeMutableBufferPointer { r in laneIm.withUnsafeMutableBufferPointer { i in
      for lane in 0..<4 {
        for k in 0..<n {
          r[k] = re[k][lane]
          i[k] = im[k][lane]
        }
        single.forward(r.baseAddress!, i.baseAddress!)
        for k in 0..<n {
          re[k][lane] = r[k]
          im[k][lane] = i[k]
        }
      }
    } }
  }
}
