/// Object-level accuracy of a label image against ground truth, as in the Data Science Bowl 2018 metric.
public struct MatchCounts: Sendable, Equatable {
  public var truePositives = 0
  public var falsePositives = 0
  public var falseNegatives = 0
  public init(truePositives: Int = 0, falsePositives: Int = 0, falseNegatives: Int = 0) {
    self.truePositives = truePositives; self.falsePositives = falsePositives; self.falseNegatives = falseNegatives
  }

  /// 2TP / (2TP + FP + FN); 1 when both sides are empty.
  public var f1: Double {
    let denominator = 2 * truePositives + falsePositives + falseNegatives
    return denominator == 0 ? 1 : Double(2 * truePositives) / Double(denominator)
  }

  public static func + (a: MatchCounts, b: MatchCounts) -> MatchCounts {
    MatchCounts(truePositives: a.truePositives + b.truePositives, falsePositives: a.falsePositives + b.falsePositives,
                falseNegatives: a.falseNegatives + b.falseNegatives)
  }
}

/// Matches predicted objects to true ones at an IoU cut.
public enum InstanceMatching {
  /// A predicted and a true object match when their IoU exceeds `threshold` (default 0.5); above 0.5 each object
  /// can match at most one other, so no assignment step is needed. Labels are any positive Int32; 0 = background.
  public static func match(truth: [Int32], predicted: [Int32], threshold: Double = 0.5) -> MatchCounts {
    precondition(truth.count == predicted.count, "label images differ in size")
    precondition(threshold >= 0.5, "IoU cuts below 0.5 need an assignment step")
    var truthAreas: [Int32: Int] = [:], predictedAreas: [Int32: Int] = [:], overlaps: [Int64: Int] = [:]
    for index in truth.indices {
      let t = truth[index], p = predicted[index]
      if t != 0 { truthAreas[t, default: 0] += 1 }
      if p != 0 { predictedAreas[p, default: 0] += 1 }
      if t != 0 && p != 0 { overlaps[Int64(t) << 32 | Int64(p), default: 0] += 1 }
    }
    var matches = 0
    for (key, intersection) in overlaps {
      let t = Int32(key >> 32), p = Int32(truncatingIfNeeded: key)
      let union = truthAreas[t]! + predictedAreas[p]! - intersection
      if Double(intersection) / Double(union) > threshold { matches += 1 }
    }
    return MatchCounts(truePositives: matches, falsePositives: predictedAreas.count - matches,
                       falseNegatives: truthAreas.count - matches)
  }
}
