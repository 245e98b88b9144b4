import Foundation
import Statistics
import TestSupport
import XCTest

/// Scores and tests against scikit-learn's metrics and scipy's contingency tests on the same numbers.
final class MetricsTests: XCTestCase {
  func testScoresMatchScikitLearnIncludingTies() throws {
    let folder = try TemporaryDirectory()
    let ref = try reference("""
      import json, sys, numpy as np
      from sklearn import metrics as m
      rng = np.random.default_rng(5)
      y = rng.integers(0, 2, size=300)
      s = np.round(rng.normal(size=300) + 0.8 * y, 1)  # rounding to 0.1 makes many ties
      y3 = rng.integers(0, 3, size=200) * 10
      p = rng.dirichlet([1, 1, 1], size=200); p = np.round(p + 0.3 * np.eye(3)[y3 // 10], 2)
      p /= p.sum(1, keepdims=True)
      pred = np.array([0, 10, 20])[np.argmax(p + rng.normal(scale=0.3, size=p.shape), 1)]
      s.tofile(sys.argv[1] + "/s.bin"); p.tofile(sys.argv[1] + "/p.bin")  # binary: JSON text may not round-trip
      print(json.dumps({"y": y.tolist(), "auc": m.roc_auc_score(y, s),
        "y3": y3.tolist(), "pred": pred.tolist(),
        "ovr": m.roc_auc_score(y3, p, multi_class="ovr", average="macro"),
        "acc": m.accuracy_score(y3, pred), "bacc": m.balanced_accuracy_score(y3, pred),
        "cm": m.confusion_matrix(y3, pred).tolist()}))
      """, in: folder)
    let y = (ref["y"] as! [Int]).map { $0 == 1 }
    let auc = try Metrics.rocAUC(positive: y, scores: readDoubles(folder.file("s.bin")))
    XCTAssertEqual(auc, ref["auc"] as! Double, accuracy: 1e-12)
    let y3 = ref["y3"] as! [Int]
    let p = try FeatureMatrix(rows: 200, columns: 3, values: readDoubles(folder.file("p.bin")))
    XCTAssertEqual(try Metrics.macroOneVsRestAUC(truth: y3, scores: p, classes: [0, 10, 20]), ref["ovr"] as! Double,
                   accuracy: 1e-12)
    let pred = ref["pred"] as! [Int]
    XCTAssertEqual(try Metrics.accuracy(truth: y3, predicted: pred), ref["acc"] as! Double, accuracy: 1e-15)
    XCTAssertEqual(try Metrics.balancedAccuracy(truth: y3, predicted: pred), ref["bacc"] as! Double, accuracy: 1e-15)
    XCTAssertEqual(try ConfusionMatrix(truth: y3, predicted: pred).counts, ref["cm"] as! [[Int]])
  }

  func testAUCClosedForms() throws {
    XCTAssertEqual(try Metrics.rocAUC(positive: [false, false, true, true], scores: [1, 2, 3, 4]), 1)
    XCTAssertEqual(try Metrics.rocAUC(positive: [true, true, false, false], scores: [1, 2, 3, 4]), 0)
    XCTAssertEqual(try Metrics.rocAUC(positive: [true, false, true, false], scores: [5, 5, 5, 5]), 0.5)
    // One positive at 2 against negatives 1, 2, 3: beats one, ties one -> (1 + 0.5) / 3.
    XCTAssertEqual(try Metrics.rocAUC(positive: [false, true, false, false], scores: [1, 2, 2, 3]), 0.5)
    XCTAssertEqual(try Metrics.balancedAccuracy(truth: [0, 0, 0, 0, 1], predicted: [0, 0, 0, 0, 0]), 0.5)
  }

  func testContingencyTestsMatchScipy() throws {
    let tables = [[[12, 5, 9], [3, 14, 6], [7, 7, 20]], [[8, 2], [1, 5]], [[30, 10], [12, 41]], [[3, 0], [0, 4]],
                  [[5, 5], [5, 5]], [[0, 7], [9, 2]], [[100, 120], [95, 130]]]
    let json = String(decoding: try JSONSerialization.data(withJSONObject: tables), as: UTF8.self)
    let ref = try reference("""
      import json, numpy as np
      from scipy import stats
      from scipy.stats.contingency import association
      out = []
      for t in json.loads('\(json)'):
          t = np.array(t); row = {}
          for corr in (False, True):
              c = stats.chi2_contingency(t, correction=corr)
              row["chi2_%d" % corr] = [c.statistic, c.pvalue, int(c.dof)]
          row["v"] = association(t, method="cramer")
          if t.shape == (2, 2):
              f = stats.fisher_exact(t); row["fisher"] = [f.statistic if np.isfinite(f.statistic) else -1, f.pvalue]
          out.append(row)
      print(json.dumps({"rows": out}))
      """, in: try TemporaryDirectory())
    for (table, row) in zip(tables, ref["rows"] as! [[String: Any]]) {
      for corrected in [false, true] {
        let expected = doubles(row["chi2_\(corrected ? 1 : 0)"])
        let test = try ChiSquareTest(table: table, yatesCorrection: corrected)
        XCTAssertEqual(test.statistic, expected[0], accuracy: 1e-10 * max(1, expected[0]), "\(table)")
        XCTAssertEqual(test.pValue, expected[1], accuracy: 1e-12 + 1e-10 * expected[1], "\(table) p")
        XCTAssertEqual(test.degreesOfFreedom, Int(expected[2]))
        XCTAssertEqual(test.cramersV, row["v"] as! Double, accuracy: 1e-12, "\(table) V")
      }
      if let fisher = row["fisher"].map(doubles) {
        let test = try FisherExactTest(table: table)
        XCTAssertEqual(test.oddsRatio.isFinite ? test.oddsRatio : -1, fisher[0], accuracy: 1e-12, "\(table) OR")
        XCTAssertEqual(test.pValue, fisher[1], accuracy: 1e-10 * fisher[1], "\(table) Fisher p")
      }
    }
  }

  /// Chi-square survival at large statistics (p ~ 1e-30) exercises the continued fraction; scipy as reference.
  func testChiSquareSurvivalTailMatchesScipy() throws {
    let points: [(Double, Int)] = [(0.5, 1), (3.84, 1), (150, 4), (33.2, 7), (400, 120), (0.01, 30), (12, 12)]
    let ref = try reference("""
      import json; from scipy.stats import chi2
      print(json.dumps({"sf": [chi2.sf(x, k) for x, k in \(points.map { [$0.0, Double($0.1)] })]}))
      """, in: try TemporaryDirectory())
    for ((x, k), expected) in zip(points, doubles(ref["sf"])) {
      XCTAssertEqual(SpecialFunctions.chiSquareSurvival(x, degreesOfFreedom: k), expected,
                     accuracy: 1e-300 + 1e-11 * expected, "chi2.sf(\(x), \(k))")
    }
  }
}
