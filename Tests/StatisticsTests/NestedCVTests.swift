import Foundation
import Statistics
import TestSupport
import XCTest

/// C chosen by inner grouped cross-validation on each outer fold's training rows, against scikit-learn's
/// `GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression()), cv=GroupKFold(3))` fitted with the groups of
/// the same training rows: the mean inner accuracy of every C and the chosen C, fold by fold.
final class NestedCVTests: XCTestCase {
  /// Runs GridSearchCV inside every outer GroupKFold(4) fold of the X, y, g the prelude defines.
  static let gridSearch = """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X.tofile(sys.argv[1] + "/X.bin"); np.asarray(y).astype(np.int64).tofile(sys.argv[1] + "/y.bin")
    grid = [0.001, 0.01, 0.1, 1, 10, 100]
    g = np.asarray([str(v) for v in g])  # the Swift side's groups are strings: same sort order, same folds
    out = {"groups": g.tolist(), "folds": []}
    for train, test in GroupKFold(4).split(X, y, g):
        model = make_pipeline(StandardScaler(), LogisticRegression(tol=1e-10, max_iter=10000))
        search = GridSearchCV(model, {"logisticregression__C": grid}, cv=GroupKFold(3), refit=False)
        search.fit(X[train], y[train], groups=g[train])
        out["folds"].append({"test": test.tolist(), "c": search.best_params_["logisticregression__C"],
                             "scores": search.cv_results_["mean_test_score"].tolist()})
    print(json.dumps(out))
    """

  func check(prelude: String, rows: Int, columns: Int, file: StaticString = #filePath, line: UInt = #line) throws {
    let folder = try TemporaryDirectory()
    let ref = try reference(prelude + Self.gridSearch, in: folder)
    let x = try FeatureMatrix(rows: rows, columns: columns, values: readDoubles(folder.file("X.bin")))
    let y = try readInts(folder.file("y.bin"))
    let groups = ref["groups"] as! [String]
    let outer = try CrossValidation.groupKFold(groups: groups, folds: 4)
    let folds = ref["folds"] as! [[String: Any]]
    XCTAssertEqual(outer.map(\.test), folds.map { $0["test"] as! [Int] }, "same outer folds", file: file, line: line)
    var chosen: [Double] = []
    for (fold, expected) in zip(outer, folds) {
      let selection = try CrossValidation.selectC(
        features: x.selecting(rows: fold.train), labels: fold.train.map { y[$0] },
        groups: fold.train.map { groups[$0] }, innerFolds: 3, options: tightOptions())
      let scores = doubles(expected["scores"])
      for (ours, theirs) in zip(selection.meanScores, scores) {
        XCTAssertEqual(ours, theirs, accuracy: 1e-12, "inner mean accuracy per C", file: file, line: line)
      }
      XCTAssertEqual(selection.c, expected["c"] as! Double, "chosen C, scores \(scores)", file: file, line: line)
      chosen.append(selection.c)
    }
    print("nested C per outer fold: \(chosen) (scikit-learn \(folds.map { $0["c"]! }))")
  }

  /// Weak signal in 40 noisy features, 3 classes, 30 groups of 8 rows: small and large C score differently, so the
  /// choice is not trivially the first grid entry.
  func testSyntheticMatchesGridSearchCV() throws {
    try check(prelude: """
      import json, sys, numpy as np
      rng = np.random.default_rng(11)
      n, d = 240, 40
      g = np.repeat(np.arange(30), 8)
      y = rng.integers(0, 3, size=n)
      X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d)
      X[:, :3] += 0.6 * np.eye(3)[y]
      X += rng.normal(size=(30, d))[g] * 0.5

      """, rows: 240, columns: 40)
  }

  /// The real LINCS plate: which third of the columns a well sits in, compounds as groups (DMSO one big group).
  func testLINCSColumnThirdMatchesGridSearchCV() throws {
    try check(prelude: try lincsPrelude() + """
      X = features(30)
      y = np.array([(int(w[1:]) - 1) // 8 for w in column("Metadata_Well")])
      g = column("Metadata_broad_sample")

      """, rows: 384, columns: 30)
  }

  func testBadGridAndSingleGroupAreClearErrors() throws {
    let x = try FeatureMatrix(rows: 4, columns: 1, values: [0, 1, 2, 3])
    XCTAssertThrowsError(try CrossValidation.selectC(features: x, labels: [0, 1, 0, 1], groups: ["a", "b", "c", "d"],
                                                     grid: [1, -2])) { XCTAssertTrue("\($0)".contains("C grid")) }
    XCTAssertThrowsError(try CrossValidation.selectC(features: x, labels: [0, 1, 0, 1], groups: ["a", "a", "a", "a"])) {
      XCTAssertTrue("\($0)".contains("1 group"), "\($0)")
    }
  }
}
