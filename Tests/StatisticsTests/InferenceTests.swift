import Foundation
import Statistics
import TestSupport
import XCTest

/// Permutation tests at the unit of replication, the column-permuted baseline and the unit bootstrap.
final class InferenceTests: XCTestCase {
  /// Mean of `values` over rows labelled 1 minus over rows labelled 0.
  static func meanDifference(_ values: [Double]) -> ([Int]) -> Double {
    { labels in
      var sum = [0.0, 0.0]
      var n = [0.0, 0.0]
      for (v, l) in zip(values, labels) {
        sum[l] += v
        n[l] += 1
      }
      return sum[1] / n[1] - sum[0] / n[0]
    }
  }

  /// Three wells of a plate, one treated, three sites each: 3 arrangements, so p >= 1/3 whatever the effect.
  func testThreeWellsCannotReachFivePercent() throws {
    let wells = ["A01", "A01", "A01", "A02", "A02", "A02", "A03", "A03", "A03"]
    let labels = [1, 1, 1, 0, 0, 0, 0, 0, 0]
    let values = [9.0, 9.1, 8.9, 1, 1.1, 0.9, 1.2, 1, 1]
    let design = try PermutationDesign(units: wells, labels: labels)
    XCTAssertEqual(design.distinctArrangements, 3)
    let result = Inference.permutationTest(design: design, seed: 1, statistic: Self.meanDifference(values))
    XCTAssertTrue(result.exact)
    XCTAssertEqual(result.permutations, 3)
    XCTAssertEqual(result.pValue, 1.0 / 3, accuracy: 1e-15)  // the treated well is the most extreme of 3
    XCTAssertFalse(result.canReach(0.05))
    XCTAssertNotNil(result.unreachableWarning())
    // Rows permuted individually would have given C(9, 3) = 84 arrangements: the design refuses to pretend.
    XCTAssertThrowsError(try PermutationDesign(units: wells, labels: [1, 0, 1, 0, 0, 0, 0, 0, 0]))
  }

  /// Exact enumeration equals scipy's exact permutation_test on the unit means (equal rows per unit).
  func testExactPermutationMatchesScipy() throws {
    let folder = try TemporaryDirectory()
    let ref = try reference("""
      import json, sys, numpy as np
      from scipy import stats
      rng = np.random.default_rng(9)
      v = rng.normal(size=(12, 3)) + np.repeat([[0.6], [0.0]], 6, axis=0)   # units 0-5 treated
      v.tofile(sys.argv[1] + "/v.bin")
      m = v.mean(1)
      r = stats.permutation_test((m[:6], m[6:]), lambda a, b, axis: a.mean(axis) - b.mean(axis),
                                 permutation_type="independent", alternative="greater", n_resamples=np.inf)
      print(json.dumps({"p": r.pvalue}))
      """, in: folder)
    let values = try readDoubles(folder.file("v.bin"))
    let units = (0..<36).map { $0 / 3 }
    let labels = units.map { $0 < 6 ? 1 : 0 }
    let design = try PermutationDesign(units: units, labels: labels)
    XCTAssertEqual(design.distinctArrangements, 924)
    let exact = Inference.permutationTest(design: design, permutations: 1000, seed: 2,
                                          statistic: Self.meanDifference(values))
    XCTAssertTrue(exact.exact)
    XCTAssertEqual(exact.pValue, ref["p"] as! Double, accuracy: 1e-12)
    // Random permutations estimate the same p-value; (k + 1) / (n + 1) form.
    let random = Inference.permutationTest(design: design, permutations: 4999, seed: 2, enumerate: false,
                                           statistic: Self.meanDifference(values))
    XCTAssertFalse(random.exact)
    let k = random.pValue * 5000 - 1
    XCTAssertEqual(k, k.rounded(), accuracy: 1e-6)
    let se = (exact.pValue * (1 - exact.pValue) / 5000).squareRoot()
    XCTAssertEqual(random.pValue, exact.pValue, accuracy: 4 * se + 1e-3)
  }

  /// Strata (plates) multiply arrangements; labels never leave their stratum.
  func testStrataRestrictExchanges() throws {
    let units = ["p1-a", "p1-b", "p1-c", "p1-d", "p2-a", "p2-b", "p2-c"]
    let labels = [1, 1, 0, 0, 1, 0, 0]
    let plates = units.map { String($0.prefix(2)) }
    let design = try PermutationDesign(units: units, labels: labels, strata: plates)
    XCTAssertEqual(design.distinctArrangements, 6 * 3)
    var seen = Set<[Int]>()
    let result = Inference.permutationTest(design: design, permutations: 100, seed: 0) { rows in
      seen.insert(rows)
      XCTAssertEqual(rows[0..<4].reduce(0, +), 2)
      XCTAssertEqual(rows[4..<7].reduce(0, +), 1)
      return Double(rows[0] + rows[4])
    }
    XCTAssertEqual(seen.count, 18)
    XCTAssertEqual(result.pValue, 3.0 / 18, accuracy: 1e-15)  // rows 0 and 4 both 1: 3 of 6 x 1 of 3
  }

  /// The concurrent test evaluates exactly the sequential test's arrangements, so its result is the same for any
  /// number of workers, exact or random, within strata; an error from one call ends it.
  func testConcurrentPermutationTestEqualsTheSequentialOne() throws {
    var generator = SeededGenerator(seed: 5)
    let units = (0..<90).map { "well\($0 / 3)" }
    let labels = units.map { Int($0.dropFirst(4))! % 3 == 0 ? 1 : 0 }
    let plates = units.map { Int($0.dropFirst(4))! < 15 ? "p1" : "p2" }
    let values = labels.map { Double($0) * 0.4 + Double.random(in: -1...1, using: &generator) }
    let statistic = Self.meanDifference(values)
    for (strata, permutations) in [(nil, 199), (plates, 999)] as [([String]?, Int)] {
      let design = try PermutationDesign(units: units, labels: labels, strata: strata)
      let sequential = Inference.permutationTest(design: design, permutations: permutations, seed: 3, statistic: statistic)
      for workers in [1, 2, 3, 7] {
        var batches: [Int] = []
        let concurrent = try Inference.concurrentPermutationTest(
          design: design, permutations: permutations, seed: 3, workers: workers, afterBatch: { batches.append($0) },
          statistic: statistic)
        XCTAssertEqual(concurrent.null, sequential.null, "workers \(workers)")
        XCTAssertEqual(concurrent.pValue, sequential.pValue)
        XCTAssertEqual(batches.last, permutations)
        XCTAssertEqual(batches.first, min(2 * workers, permutations))
      }
    }
    // Few arrangements: both enumerate every one (3 wells, one treated: 3 arrangements, p = 1/3).
    let small = try PermutationDesign(units: ["a", "a", "b", "b", "c", "c"], labels: [1, 1, 0, 0, 0, 0])
    let exact = try Inference.concurrentPermutationTest(design: small, seed: 1, workers: 2,
                                                        statistic: Self.meanDifference([5, 5, 1, 1, 2, 2]))
    XCTAssertTrue(exact.exact)
    XCTAssertEqual(exact.null.count, 3)
    XCTAssertEqual(exact.pValue, 1.0 / 3, accuracy: 1e-15)
    struct Broken: Error {}
    let design = try PermutationDesign(units: units, labels: labels)
    var calls = 0
    XCTAssertThrowsError(try Inference.concurrentPermutationTest(design: design, permutations: 50, seed: 1, workers: 2,
                                                                 afterBatch: { _ in calls += 1 }) { rows in
      if rows == design.rowLabels(design.unitLabels) { return 0 }
      throw Broken()
    }) { XCTAssertTrue($0 is Broken) }
    XCTAssertEqual(calls, 0, "the failing batch ends the test before its report")
  }

  func testColumnPermutationKeepsMarginalsAndBreaksRows() throws {
    let x = try FeatureMatrix(rows: 50, columns: 3, values: (0..<150).map(Double.init))
    let p = Inference.permutingColumns(x, seed: 4)
    let column = { (m: FeatureMatrix, j: Int) in (0..<50).map { m[$0, j] } }
    for j in 0..<3 { XCTAssertEqual(column(p, j).sorted(), column(x, j)) }
    let orders = (0..<3).map { j in column(p, j).map { Int($0) / 3 } }
    XCTAssertNotEqual(orders[0], orders[1], "columns are permuted independently")
    XCTAssertNotEqual(orders[0], Array(0..<50))
    XCTAssertEqual(Inference.permutingColumns(x, seed: 4), p)
  }

  /// Units are resampled whole; bounds are numpy's percentiles of the replicate values.
  func testBootstrapOverUnits() throws {
    let units = (0..<60).map { "well\($0 / 3)" }
    let values = (0..<60).map { Double($0 / 3) + (($0 % 3) == 0 ? 0.5 : 0) }
    let mean = { (rows: [Int]) in rows.reduce(0.0) { $0 + values[$1] } / Double(rows.count) }
    let result = try Inference.bootstrapInterval(units: units, replicates: 500, confidence: 0.9, seed: 8) { rows in
      XCTAssertEqual(rows.count, 60, "20 units of 3 rows each are drawn")
      return mean(rows)
    }
    XCTAssertEqual(result.estimate, mean(Array(0..<60)), accuracy: 1e-12)
    XCTAssertLessThan(result.lower, result.estimate)
    XCTAssertGreaterThan(result.upper, result.estimate)
    let folder = try TemporaryDirectory()
    try Data(bytes: result.replicates, count: 8 * result.replicates.count).write(to: folder.file("r.bin"))
    let ref = try reference("""
      import json, sys, numpy as np
      r = np.fromfile(sys.argv[1] + "/r.bin")
      print(json.dumps({"q": np.percentile(r, [5, 95]).tolist()}))
      """, in: folder)
    // JSONSerialization on Linux may misread the last digit of a 17-digit double, hence 1e-12 and not equality.
    assertClose([result.lower, result.upper], doubles(ref["q"]), relative: 1e-12, "bootstrap percentiles")
    let again = try Inference.bootstrapInterval(units: units, replicates: 500, confidence: 0.9, seed: 8,
                                                statistic: mean)
    XCTAssertEqual(again.replicates, result.replicates)
  }
}
