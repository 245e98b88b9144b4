/// Two groups of values compared by their means: the difference, the ratio and the relative difference, each
/// with an interval of that same quantity.
public struct MeanComparison: Sendable, Equatable {
  public let referenceMean: Double
  public let otherMean: Double
  public let referenceCount: Int
  public let otherCount: Int
  /// Welch's standard error of `difference`.
  public let standardError: Double

  /// `reference` is the group the other is compared with (interior wells, healthy wells).
  public init(reference: [Double], other: [Double]) {
    func meanVariance(_ x: [Double]) -> (Double, Double) {
      let m = x.reduce(0, +) / Double(max(x.count, 1))
      return (m, x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(x.count - 1, 1)))
    }
    let (mr, vr) = meanVariance(reference)
    let (mo, vo) = meanVariance(other)
    referenceMean = mr
    otherMean = mo
    referenceCount = reference.count
    otherCount = other.count
    standardError = (vr / Double(max(reference.count, 1)) + vo / Double(max(other.count, 1))).squareRoot()
  }

  /// other mean - reference mean.
  public var difference: Double { otherMean - referenceMean }
  /// other mean / reference mean (NaN when the reference mean is 0).
  public var ratio: Double { referenceMean != 0 ? otherMean / referenceMean : .nan }
  /// (other - reference) / reference.
  public var relativeDifference: Double { ratio - 1 }

  /// The normal-approximation interval of the difference with Welch's standard error.
  public func differenceInterval(z: Double = 1.959963984540054) -> (lower: Double, upper: Double) {
    (difference - z * standardError, difference + z * standardError)
  }

  /// Mean of the rows labelled 1 minus mean of the rows labelled 0, and their ratio, over `rows` (a row may
  /// repeat, as in a bootstrap resample); NaN when a label has no row, and a NaN ratio when the reference mean is 0.
  public static func of(_ values: [Double], labels: [Int], rows: [Int]) -> (difference: Double, ratio: Double) {
    var sum = [0.0, 0.0], n = [0.0, 0.0]
    for r in rows {
      sum[labels[r]] += values[r]
      n[labels[r]] += 1
    }
    guard n[0] > 0, n[1] > 0 else { return (.nan, .nan) }
    let (m0, m1) = (sum[0] / n[0], sum[1] / n[1])
    return (m1 - m0, m0 != 0 ? m1 / m0 : .nan)
  }
}
