import Foundation

/// A small, fast, seedable random number generator (SplitMix64), so that folds, permutations and bootstrap
/// replicates are reproducible from a seed on every platform and Swift version.
///
/// Swift's `shuffle(using:)` and `random(in:using:)` algorithms are not guaranteed stable across releases; the
/// module therefore draws through `nextIndex(below:)` and `shuffle(_:)` defined here.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform integer in `0..<bound` (Lemire's multiply-and-reject, no modulo bias).
  public mutating func nextIndex(below bound: Int) -> Int {
    precondition(bound > 0, "nextIndex(below:) needs a positive bound")
    let b = UInt64(bound)
    var m = next().multipliedFullWidth(by: b)
    if m.low < b {
      let threshold = (0 &- b) % b
      while m.low < threshold { m = next().multipliedFullWidth(by: b) }
    }
    return Int(m.high)
  }

  /// Fisher-Yates shuffle of `array` in place.
  public mutating func shuffle<T>(_ array: inout [T]) {
    guard array.count > 1 else { return }
    for i in stride(from: array.count - 1, to: 0, by: -1) {
      array.swapAt(i, nextIndex(below: i + 1))
    }
  }
}

extension SeededGenerator {
  /// A standard normal draw (Box-Muller on two uniform draws in (0, 1]).
  public mutating func nextGaussian() -> Double {
    let u = (Double(next() >> 11) + 1) / 9_007_199_254_740_992
    let v = Double(next() >> 11) / 9_007_199_254_740_992
    return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
  }
}
