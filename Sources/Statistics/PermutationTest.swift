import Foundation

/// The outcome of a label-permutation test.
public struct PermutationTestResult: Sendable {
  /// The statistic on the observed labels.
  public let observed: Double
  /// Exact: (arrangements with statistic >= observed) / (all arrangements). Random: (k + 1) / (n + 1) with k of
  /// the n permutations reaching the observed statistic. Both count the observed arrangement.
  public let pValue: Double
  /// Whether every distinct arrangement was evaluated (done when they are no more than the permutations asked).
  public let exact: Bool
  /// Arrangements evaluated, not counting the observed one in the random case.
  public let permutations: Int
  /// The statistic of each evaluated arrangement, for plotting the null distribution.
  public let null: [Double]
  /// The design's floor on the p-value: `max(1 / distinct arrangements, 1 / (permutations + 1))`.
  public let smallestAttainablePValue: Double

  /// Whether the design and permutation count could produce a p-value at or below `alpha` at all.
  public func canReach(_ alpha: Double) -> Bool { smallestAttainablePValue <= alpha }

  /// A warning to show the user when `alpha` is unreachable, naming the floor; nil otherwise.
  public func unreachableWarning(alpha: Double = 0.05) -> String? {
    canReach(alpha) ? nil : "p < \(alpha) is impossible with this design: the smallest attainable p-value is "
      + "\(smallestAttainablePValue) (too few units of replication to permute)"
  }
}

/// Inference for probes that respects the unit of replication.
public enum Inference {
  /// Tests whether `statistic(rowLabels)` is larger than under exchangeable unit labels (a one-sided test: use a
  /// statistic where larger means more association, such as AUC or accuracy). Labels move between whole units
  /// (never rows within a unit), within strata. When the design has no more distinct arrangements than
  /// `permutations`, all of them are enumerated and the p-value is exact (unless `enumerate` is false).
  public static func permutationTest(design: PermutationDesign, permutations: Int = 999, seed: UInt64,
                                     enumerate: Bool = true, statistic: ([Int]) throws -> Double) rethrows
    -> PermutationTestResult
  {
    let observed = try statistic(design.rowLabels(design.unitLabels))
    // Statistics equal up to rounding count as reaching the observed one (the observed arrangement must).
    let reach = observed - 1e-12 * max(1, abs(observed))
    if enumerate, design.logDistinctArrangements <= log(Double(permutations)) + 1e-9 {
      var null: [Double] = []
      try forEachArrangement(design) { null.append(try statistic(design.rowLabels($0))) }
      let k = null.filter { $0 >= reach }.count
      return PermutationTestResult(observed: observed, pValue: Double(k) / Double(null.count), exact: true,
                                   permutations: null.count, null: null,
                                   smallestAttainablePValue: 1 / Double(null.count))
    }
    var generator = SeededGenerator(seed: seed)
    var labels = design.unitLabels
    var null: [Double] = []
    null.reserveCapacity(permutations)
    for _ in 0..<permutations {
      for members in design.strata {
        var values = members.map { labels[$0] }
        generator.shuffle(&values)
        for (u, v) in zip(members, values) { labels[u] = v }
      }
      null.append(try statistic(design.rowLabels(labels)))
    }
    let k = null.filter { $0 >= reach }.count
    return PermutationTestResult(
      observed: observed, pValue: Double(k + 1) / Double(permutations + 1), exact: false,
      permutations: permutations, null: null,
      smallestAttainablePValue: max(design.smallestAttainablePValue, 1 / Double(permutations + 1)))
  }

  /// Calls `body` with every distinct unit-label vector of the design (each stratum's labels run through their
  /// distinct orderings in lexicographic order, strata combined like an odometer).
  static func forEachArrangement(_ design: PermutationDesign, _ body: ([Int]) throws -> Void) rethrows {
    var current = design.strata.map { members in members.map { design.unitLabels[$0] }.sorted() }
    var labels = design.unitLabels
    while true {
      for (members, values) in zip(design.strata, current) { for (u, v) in zip(members, values) { labels[u] = v } }
      try body(labels)
      var s = 0
      while s < current.count && !nextPermutation(&current[s]) { s += 1 }  // wrapped round: carry to the next
      if s == current.count { return }
    }
  }
}

/// Advances `a` to its next lexicographic ordering; at the last one, resets it to sorted and returns false.
/// Repeated values yield each distinct ordering once.
func nextPermutation(_ a: inout [Int]) -> Bool {
  guard a.count > 1 else { return false }
  var i = a.count - 2
  while i >= 0 && a[i] >= a[i + 1] { i -= 1 }
  if i < 0 {
    a.reverse()
    return false
  }
  var j = a.count - 1
  while a[j] <= a[i] { j -= 1 }
  a.swapAt(i, j)
  a[(i + 1)...].reverse()
  return true
}
