import Foundation

/// xoshiro256** seeded through SplitMix64: a small, fast generator whose output depends only on its seed, so a
/// simulated screen is bit-for-bit the same on every run (the system generator is never used).
public struct RandomSource: RandomNumberGenerator, Sendable {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
  private var spare: Double?

  public init(seed: UInt64) {
    var x = seed
    func splitMix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    (s0, s1, s2, s3) = (splitMix(), splitMix(), splitMix(), splitMix())
  }

  /// A generator for one part of the output (a site, a plate), independent of the order parts are made in.
  public init(seed: UInt64, stream: [UInt64]) {
    var h = seed
    for part in stream {
      var mixer = RandomSource(seed: h ^ (part &* 0x9E37_79B9_7F4A_7C15))
      h = mixer.next()
    }
    self.init(seed: h)
  }

  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3 << 45 | s3 >> 19
    return result
  }

  /// Uniform in [0, 1) with 53 random bits.
  public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

  /// Standard normal by Box-Muller; each draw of the pair is used (the second is kept for the next call).
  public mutating func normal() -> Double {
    if let z = spare {
      spare = nil
      return z
    }
    let radius = (-2 * log(1 - uniform())).squareRoot()
    let angle = 2 * Double.pi * uniform()
    spare = radius * sin(angle)
    return radius * cos(angle)
  }

  /// Poisson counts: exact (Knuth) below a mean of 30, the normal approximation above, where it differs from
  /// the Poisson law by less than camera read noise does.
  public mutating func poisson(_ mean: Double) -> Double {
    guard mean > 0 else { return 0 }
    if mean >= 30 { return max(0, (mean + mean.squareRoot() * normal()).rounded()) }
    let limit = exp(-mean)
    var k = 0.0
    var p = uniform()
    while p > limit {
      k += 1
      p *= uniform()
    }
    return k
  }
}
