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
    var source = ArrangementSource(design: design, permutations: permutations, seed: seed, enumerate: enumerate)
    var null: [Double] = []
    null.reserveCapacity(source.count)
    while let labels = source.next() { null.append(try statistic(design.rowLabels(labels))) }
    return PermutationTestResult(observed: observed, null: null, source: source)
  }

  /// The same test, with the arrangements' statistics evaluated on `workers` threads at once: the arrangements,
  /// and so the result, are exactly those of `permutationTest` with the same arguments, whatever `workers` is.
  /// `statistic` is called concurrently and must not share mutable state between calls. The first error thrown
  /// by any call is thrown once the calls under way have returned. `afterBatch` runs on the calling thread after
  /// each batch of `2 * workers` arrangements with the number evaluated so far (for progress and cancellation,
  /// which a plugin may report only from the thread it was called on); what it throws ends the test.
  public static func concurrentPermutationTest(design: PermutationDesign, permutations: Int = 999, seed: UInt64,
                                               enumerate: Bool = true, workers: Int,
                                               afterBatch: (Int) throws -> Void = { _ in },
                                               statistic: ([Int]) throws -> Double) throws -> PermutationTestResult
  {
    let observed = try statistic(design.rowLabels(design.unitLabels))
    var source = ArrangementSource(design: design, permutations: permutations, seed: seed, enumerate: enumerate)
    var null: [Double] = []
    null.reserveCapacity(source.count)
    // Arrangements are drawn in order, a bounded batch at a time (a batch of unit labels, not of row labels, so
    // memory stays small for designs of many rows), and each batch is shared out among the workers.
    let workers = max(workers, 1)
    let batchSize = 2 * workers
    let failure = FirstError()
    while true {
      var batch: [[Int]] = []
      while batch.count < batchSize, let labels = source.next() { batch.append(labels) }
      if batch.isEmpty { break }
      var values = [Double](repeating: .nan, count: batch.count)
      values.withUnsafeMutableBufferPointer { out in
        let out = out
        DispatchQueue.concurrentPerform(iterations: min(workers, batch.count)) { w in
          for i in stride(from: w, to: batch.count, by: workers) where !failure.isSet {
            do { out[i] = try statistic(design.rowLabels(batch[i])) } catch { failure.record(error) }
          }
        }
      }
      if let error = failure.error { throw error }
      null.append(contentsOf: values)
      try afterBatch(null.count)
    }
    return PermutationTestResult(observed: observed, null: null, source: source)
  }

  /// Calls `body` with every distinct unit-label vector of the design (each stratum's labels run through their
  /// distinct orderings in lexicographic order, strata combined like an odometer).
  static func forEachArrangement(_ design: PermutationDesign, _ body: ([Int]) throws -> Void) rethrows {
    var source = ArrangementSource(design: design, permutations: 0, seed: 0, enumerate: true, exhaustive: true)
    while let labels = source.next() { try body(labels) }
  }
}

extension PermutationTestResult {
  /// The result of a test whose arrangements came from `source` (exact: k / n; random: (k + 1) / (n + 1)).
  init(observed: Double, null: [Double], source: ArrangementSource) {
    // Statistics equal up to rounding count as reaching the observed one (the observed arrangement must).
    let reach = observed - 1e-12 * max(1, abs(observed))
    let k = null.filter { $0 >= reach }.count
    if source.exact {
      self.init(observed: observed, pValue: Double(k) / Double(null.count), exact: true, permutations: null.count,
                null: null, smallestAttainablePValue: 1 / Double(null.count))
    } else {
      self.init(observed: observed, pValue: Double(k + 1) / Double(null.count + 1), exact: false,
                permutations: null.count,
                null: null, smallestAttainablePValue: max(source.design.smallestAttainablePValue, 1 / Double(null.count + 1)))
    }
  }
}

/// The unit-label arrangements of a permutation test, in the order they are evaluated: every distinct one (an
/// exact test) when the design has no more than `permutations` of them, else `permutations` seeded shuffles
/// within strata.
struct ArrangementSource {
  let design: PermutationDesign
  /// Whether the arrangements are every distinct one.
  let exact: Bool
  /// How many arrangements there are (for an exact test, at most `permutations`).
  let count: Int
  private var generator: SeededGenerator
  private var labels: [Int]
  private var current: [[Int]]
  private var produced = 0
  private var finished = false

  /// - Parameter exhaustive: enumerate every distinct arrangement however many there are.
  init(design: PermutationDesign, permutations: Int, seed: UInt64, enumerate: Bool, exhaustive: Bool = false) {
    self.design = design
    exact = exhaustive || (enumerate && design.logDistinctArrangements <= log(Double(permutations)) + 1e-9)
    count = exact ? Int(min(design.distinctArrangements, Double(Int32.max))) : permutations
    generator = SeededGenerator(seed: seed)
    labels = design.unitLabels
    current = design.strata.map { members in members.map { design.unitLabels[$0] }.sorted() }
  }

  /// The next unit-label vector, or nil when all are done.
  mutating func next() -> [Int]? {
    guard !finished else { return nil }
    if !exact {
      guard produced < count else { return nil }
      produced += 1
      for members in design.strata {
        var values = members.map { labels[$0] }
        generator.shuffle(&values)
        for (u, v) in zip(members, values) { labels[u] = v }
      }
      return labels
    }
    for (members, values) in zip(design.strata, current) { for (u, v) in zip(members, values) { labels[u] = v } }
    var s = 0
    while s < current.count && !nextPermutation(&current[s]) { s += 1 }  // wrapped round: carry to the next
    if s == current.count { finished = true }
    return labels
  }
}

/// The first error recorded from any thread.
final class FirstError: @unchecked Sendable {
  private let lock = NSLock()
  private var first: Error?

  var error: Error? { lock.withLock { first } }
  var isSet: Bool { lock.withLock { first != nil } }

  func record(_ error: Error) { lock.withLock { if first == nil { first = error } } }
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
