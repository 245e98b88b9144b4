import Foundation
import Statistics
import TestSupport
import XCTest

/// Folds against scikit-learn's splitters on the same groups, and the leak-proof properties of paired folds.
final class CrossValidationTests: XCTestCase {
  /// Groups with many equal sizes (ties exercise the ordering rule) and labels correlated with groups.
  static let script = """
    import json, sys, numpy as np
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedGroupKFold
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 23, size=400) * 7 + 100
    labels = (groups % 3 + rng.integers(0, 2, size=400)) % 3
    tests = lambda cv, *a: [t.tolist() for _, t in cv.split(np.zeros(400), *a)]
    print(json.dumps({"groups": groups.tolist(), "labels": labels.tolist(),
                      "gkf": tests(GroupKFold(5), None, groups), "logo": tests(LeaveOneGroupOut(), None, groups),
                      "sgkf": tests(StratifiedGroupKFold(4), labels, groups)}))
    """

  func testFoldsMatchScikitLearn() throws {
    let folder = try TemporaryDirectory()
    let ref = try reference(Self.script, in: folder)
    let groups = ref["groups"] as! [Int]
    let labels = ref["labels"] as! [Int]
    XCTAssertEqual(try CrossValidation.groupKFold(groups: groups, folds: 5).map(\.test), ref["gkf"] as! [[Int]])
    XCTAssertEqual(try CrossValidation.leaveOneGroupOut(groups: groups).map(\.test), ref["logo"] as! [[Int]])
    XCTAssertEqual(try CrossValidation.stratifiedGroupKFold(labels: labels, groups: groups, folds: 4).map(\.test),
                   ref["sgkf"] as! [[Int]])
  }

  /// Real plate: compounds as groups (DMSO is one large group), 5 folds.
  func testGroupKFoldMatchesScikitLearnOnLINCSCompounds() throws {
    let ref = try reference(lincsPrelude() + """
      from sklearn.model_selection import GroupKFold
      g = np.array(column("Metadata_broad_sample"))
      print(json.dumps({"groups": g.tolist(), "folds": [t.tolist() for _, t in GroupKFold(5).split(g, groups=g)]}))
      """, in: try TemporaryDirectory())
    let groups = ref["groups"] as! [String]
    let folds = try CrossValidation.groupKFold(groups: groups, folds: 5)
    XCTAssertEqual(folds.map(\.test), ref["folds"] as! [[Int]])
    XCTAssertEqual(try CrossValidation.leakageLint(folds: folds, identities: ["compound": groups]), [])
  }

  /// Honest prediction on the real plate: which third of the plate's columns a well is in, compounds as groups;
  /// out-of-fold probabilities equal scikit-learn's cross_val_predict with a StandardScaler pipeline.
  func testOutOfFoldProbabilitiesMatchCrossValPredictOnLINCS() throws {
    let folder = try TemporaryDirectory()
    let ref = try reference(lincsPrelude() + """
      from sklearn.linear_model import LogisticRegression
      from sklearn.model_selection import GroupKFold, cross_val_predict
      from sklearn.pipeline import make_pipeline
      from sklearn.preprocessing import StandardScaler
      X = features(40)
      y = np.array([(int(w[1:]) - 1) // 8 for w in column("Metadata_Well")])
      g = column("Metadata_broad_sample")
      X.tofile(sys.argv[1] + "/X.bin")
      model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, tol=1e-10, max_iter=10000))
      p = cross_val_predict(model, X, y, groups=g, cv=GroupKFold(4), method="predict_proba")
      p.tofile(sys.argv[1] + "/p.bin")
      print(json.dumps({"y": y.tolist(), "groups": g, "d": X.shape[1]}))
      """, in: folder)
    let x = try FeatureMatrix(rows: 384, columns: ref["d"] as! Int, values: readDoubles(folder.file("X.bin")))
    let labels = ref["y"] as! [Int]
    let folds = try CrossValidation.groupKFold(groups: ref["groups"] as! [String], folds: 4)
    let oof = try CrossValidation.outOfFoldProbabilities(features: x, labels: labels, folds: folds, c: 0.1,
                                                         options: tightOptions())
    XCTAssertEqual(oof.classes, [0, 1, 2])
    assertClose(oof.probabilities.values, try readDoubles(folder.file("p.bin")), relative: 1e-4, floor: 1e-2,
                "out-of-fold probabilities")
  }

  func testPairedFoldsTestOneHealthyAndOneDiseaseLineNeverSeenInTraining() throws {
    // 4 healthy lines (h0-h3) and 3 disease lines (d0-d2), 5 rows each.
    let lines = (0..<4).flatMap { i in Array(repeating: "h\(i)", count: 5) }
      + (0..<3).flatMap { i in Array(repeating: "d\(i)", count: 5) }
    let disease = lines.map { $0.hasPrefix("d") }
    let folds = try CrossValidation.pairedFolds(groups: lines, disease: disease, seed: 11)
    XCTAssertEqual(folds.count, 4)
    for fold in folds {
      let tested = Set(fold.test.map { lines[$0] })
      XCTAssertEqual(tested.filter { $0.hasPrefix("h") }.count, 1)
      XCTAssertEqual(tested.filter { $0.hasPrefix("d") }.count, 1)
      XCTAssertEqual(fold.test.count, 10)
      XCTAssertEqual(fold.train.count, 25)
    }
    XCTAssertEqual(Set(folds.flatMap { $0.test.map { lines[$0] } }).count, 7, "every line is tested")
    XCTAssertEqual(try CrossValidation.leakageLint(folds: folds, identities: ["cell line": lines]), [])
    XCTAssertEqual(try CrossValidation.pairedFolds(groups: lines, disease: disease, seed: 11), folds)
    let others = try (0..<20).map { try CrossValidation.pairedFolds(groups: lines, disease: disease, seed: $0) }
    XCTAssertGreaterThan(Set(others.map { $0.map(\.test) }).count, 1, "the seed changes the pairing")
    XCTAssertThrowsError(
      try CrossValidation.pairedFolds(groups: lines, disease: lines.indices.map { $0 % 2 == 0 }, seed: 1),
      "a line with healthy and disease rows is refused")
  }

  /// Row-wise folds on a plate with 3 sites per well put sites of one well on both sides; the lint names them.
  func testLeakageLintNamesEveryIdentityOnBothSides() throws {
    let wells = ["A01", "A01", "A01", "B02", "B02", "B02"]
    let sites = ["A01-1", "A01-2", "A01-3", "B02-1", "B02-2", "B02-3"]
    let rowFolds = [Fold(testing: [0, 3], of: 6), Fold(testing: [1, 2, 4, 5], of: 6)]
    let leaks = try CrossValidation.leakageLint(folds: rowFolds, identities: ["well": wells, "site": sites])
    XCTAssertEqual(leaks.map(\.description), [
      "fold 0: well \"A01\" is in training (2 rows) and test (1 rows)",
      "fold 0: well \"B02\" is in training (2 rows) and test (1 rows)",
      "fold 1: well \"A01\" is in training (1 rows) and test (2 rows)",
      "fold 1: well \"B02\" is in training (1 rows) and test (2 rows)",
    ])
    let byWell = try CrossValidation.groupKFold(groups: wells, folds: 2)
    XCTAssertEqual(try CrossValidation.leakageLint(folds: byWell, identities: ["well": wells, "site": sites]), [])
  }
}
