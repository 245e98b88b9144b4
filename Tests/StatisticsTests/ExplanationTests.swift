import Foundation
import Statistics
import TestSupport
import XCTest

/// Partial dependence, ICE and permutation importance against scikit-learn's `partial_dependence` and
/// `permutation_importance`, run on the same fitted coefficients (ours, set into a StandardScaler + LogisticRegression
/// pipeline through mean_/scale_/coef_/intercept_) and, for importance, the same permutation draws; and against
/// closed forms.
final class ExplanationTests: XCTestCase {
  /// Row i of a permuted column takes row perms[r][i]: the draws scikit-learn's permutation_importance makes with
  /// random_state=0 (one seed drawn from RandomState(0), then one RandomState shuffling an index array in place per
  /// repeat, each repeat permuting the previous repeat's column again), composed into row indices.
  static let sklearnDraws = """
    def sklearn_draws(n, repeats, random_state=0):
        seed = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max + 1)
        rs, idx, eff, out = np.random.RandomState(seed), np.arange(n), np.arange(n), []
        for _ in range(repeats):
            rs.shuffle(idx)
            eff = eff[idx]
            out.append(eff.tolist())
        return out

    """

  /// Fits our models on the data in `folder` (X.bin, y.bin, groups and draws in setup.json), computes partial
  /// dependence of `pdFeatures` and importance of `families` plus each column of `singles` (default all) alone,
  /// runs scikit-learn on the same coefficients and draws, and compares.
  func compare(
    folder: TemporaryDirectory, rows: Int, columns: Int, families: [[Int]], pdFeatures: [Int],
    singles: [Int]? = nil, c: Double = 1, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let setup = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.file("setup.json"))) as! [String: Any]
    let x = try FeatureMatrix(rows: rows, columns: columns, values: readDoubles(folder.file("X.bin")))
    let y = try readInts(folder.file("y.bin"))
    let groups = setup["groups"] as! [String]
    let draws = setup["draws"] as! [[Int]]
    let classCount = Set(y).count
    let folds = try CrossValidation.groupKFold(groups: groups, folds: 5)
    let model = try StandardizedLogisticModel.fit(features: x, labels: y, c: c)
    let foldModels = try folds.map { try StandardizedLogisticModel.fit(features: x, labels: y, rows: $0.train, c: c) }
    let sets = families + (singles ?? Array(0..<columns)).map { [$0] }
    let importance = try PermutationImportance(
      models: foldModels, folds: folds, x: x, labels: y, classCount: classCount,
      families: sets, permutations: draws)
    func json(_ m: StandardizedLogisticModel) -> [String: Any] {
      let w = m.model.coefficients
      return [
        "means": m.scaler.means, "scales": m.scaler.scales, "intercept": m.model.intercepts,
        "classes": m.model.classes, "coef": (0..<w.rows).map { k in (0..<w.columns).map { w[k, $0] } },
      ]
    }
    let explanation: [String: Any] = [
      "rows": rows, "columns": columns, "c": c, "model": json(model), "fold_models": foldModels.map(json),
      "tests": folds.map(\.test), "sets": sets, "repeats": draws.count, "pd_features": pdFeatures,
    ]
    try JSONSerialization.data(withJSONObject: explanation).write(to: folder.file("explanation.json"))
    let ref = try inspectReference(folder)

    // Partial dependence: the grid exactly as numpy/scipy make it, the curves to rounding.
    for (i, j) in pdFeatures.enumerated() {
      let r = (ref["curves"] as! [[String: Any]])[i]
      let grid = try PartialDependence.grid((0..<rows).map { x[$0, j] })
      assertClose(
        grid, doubles(r["grid"]), relative: 1e-14, floor: 1e-12, "grid of feature \(j)", file: file, line: line)
      let curve = try PartialDependence.curve(of: model, x: x, feature: j, grid: grid, individual: true)
      XCTAssertEqual(curve.classes, classCount == 2 ? [1] : Array(0..<classCount), file: file, line: line)
      assertClose(
        curve.average.flatMap { $0 }, doubles(r["average"]), relative: 1e-9, floor: 1e-6,
        "average of feature \(j)", file: file, line: line)
      let individual = (r["individual"] as! [[[Any]]]).flatMap { $0.flatMap { doubles($0) } }
      assertClose(
        curve.individual.flatMap(\.values), individual, relative: 1e-9, floor: 1e-6,
        "individual of feature \(j)", file: file, line: line)
    }
    // Importance: the same draws, so the same scores: equal to rounding, repeat by repeat.
    let auc = ref["auc"] as! [[Any]]
    let balanced = ref["balanced"] as! [[Any]]
    XCTAssertEqual(auc.count, sets.count, file: file, line: line)
    for (s, entry) in importance.entries.enumerated() {
      // Scores differ only in the rounding of sums taken in another order: at most 1e-12 absolute.
      assertClose(
        entry.rocAUCDrops, doubles(auc[s]), relative: 1e-12, floor: 1, "ROC AUC drops of set \(s)",
        file: file, line: line)
      assertClose(
        entry.balancedAccuracyDrops, doubles(balanced[s]), relative: 1e-12, floor: 1,
        "balanced accuracy drops of set \(s)", file: file, line: line)
      XCTAssertEqual(entry.rocAUC.mean, doubles(ref["auc_mean"])[s], accuracy: 1e-12, file: file, line: line)
      XCTAssertEqual(entry.rocAUC.std, doubles(ref["auc_std"])[s], accuracy: 1e-12, file: file, line: line)
    }
    let drops = importance.entries.map(\.rocAUC.mean)
    print(
      "baseline ROC AUC \(importance.baseline.rocAUC), balanced accuracy \(importance.baseline.balancedAccuracy); "
        + "largest ROC AUC drops \(drops.enumerated().sorted { $0.1 > $1.1 }.prefix(5).map { "set \($0.0): \($0.1)" })")
  }

  /// A synthetic table: column 0 carries the class, column 1 is column 0 plus a little noise (the two hide each other
  /// when permuted alone), column 2 is pure noise, column 3 takes 7 values (its grid is those values).
  func synthetic(classes: Int) throws -> TemporaryDirectory {
    let folder = try TemporaryDirectory()
    _ = try reference(
      Self.sklearnDraws + """
        import json, sys, numpy as np
        rng = np.random.default_rng(3)
        n, k = 240, \(classes)
        y = rng.integers(0, k, size=n)
        signal = y + rng.normal(scale=0.8, size=n)
        X = np.column_stack([signal, signal + rng.normal(scale=0.1, size=n), rng.normal(size=n),
                             rng.integers(0, 7, size=n) + 0.5 * y, rng.normal(size=n) * 3])
        X.tofile(sys.argv[1] + "/X.bin"); y.astype(np.int64).tofile(sys.argv[1] + "/y.bin")
        groups = [f"g{i % 24:02d}" for i in range(n)]
        json.dump({"groups": groups, "draws": sklearn_draws(n, 6)}, open(sys.argv[1] + "/setup.json", "w"))
        print("{}")
        """, in: folder)
    return folder
  }

  func testBinarySyntheticEqualsScikitLearn() throws {
    let folder = try synthetic(classes: 2)
    try compare(folder: folder, rows: 240, columns: 5, families: [[0, 1], [2, 4]], pdFeatures: [0, 2, 3], c: 0.5)
  }

  func testThreeClassSyntheticEqualsScikitLearn() throws {
    let folder = try synthetic(classes: 3)
    try compare(folder: folder, rows: 240, columns: 5, families: [[0, 1], [2, 4]], pdFeatures: [0, 3])
  }

  /// LINCS SQ00015054 (384 wells x 454 features): DMSO against compound wells (binary), grouped by plate column, and
  /// the plate row (16 classes); every CellProfiler module as a family and every 30th feature alone.
  func testLINCSEqualsScikitLearn() throws {
    for (target, name) in [
      ("np.array([int(v == 'DMSO') for v in column('Metadata_broad_sample')])", "dmso"),
      ("np.array([ord(w[0]) - 65 for w in column('Metadata_Well')])", "row"),
    ] {
      let folder = try TemporaryDirectory()
      let ref = try reference(
        try lincsPrelude() + Self.sklearnDraws + """
          X = features()
          y = \(target)
          X.tofile(sys.argv[1] + "/X.bin"); y.astype(np.int64).tofile(sys.argv[1] + "/y.bin")
          names = [c for c in head if not c.startswith("Metadata_")]
          modules = sorted(set(c.split("_")[1] for c in names))
          families = [[j for j, c in enumerate(names) if c.split("_")[1] == m] for m in modules]
          groups = [w[1:] for w in column("Metadata_Well")]
          json.dump({"groups": groups, "draws": sklearn_draws(len(X), 3)}, open(sys.argv[1] + "/setup.json", "w"))
          print(json.dumps({"shape": X.shape, "families": families}))
          """, in: folder)
      let shape = ref["shape"] as! [Int]
      let families = ref["families"] as! [[Int]]
      print("LINCS \(name): \(shape[0]) x \(shape[1]), \(families.count) families")
      // Every 30th feature alone: scikit-learn's side costs 5 pipelines per permuted set and repeat (minutes for all).
      try compare(
        folder: folder, rows: shape[0], columns: shape[1], families: families, pdFeatures: [0, 100, 453],
        singles: Array(stride(from: 0, to: shape[1], by: 30)))
    }
  }

  /// Closed forms. The grid of 0...199: scipy's quantiles at 0.05 and 0.95 are 0.59 * 9 + 0.41 * 10 = 9.41 and
  /// 0.41 * 189 + 0.59 * 190 = 189.59 (plotting positions 0.4, 0.4), then 100 evenly spaced points; a column of 5
  /// values gets those values. With one feature every row's ICE curve, and so their mean, is the sigmoid of the
  /// model's line at each grid point.
  func testOneFeatureModelIsTheSigmoidAtTheGrid() throws {
    let grid = try PartialDependence.grid((0..<200).map { Double(199 - $0) })
    XCTAssertEqual(grid.count, 100)
    XCTAssertEqual(grid.first!, 9.41, accuracy: 1e-12)
    XCTAssertEqual(grid.last!, 189.59, accuracy: 1e-12)
    XCTAssertEqual(grid[1] - grid[0], (189.59 - 9.41) / 99, accuracy: 1e-12)
    XCTAssertEqual(try PartialDependence.grid([3, 1, 2, 3, 5, 4, 1]), [1, 2, 3, 4, 5])

    var generator = SeededGenerator(seed: 9)
    let values = (0..<150).map { _ in Double.random(in: 0...10, using: &generator) }
    let labels = values.map { v in Double.random(in: 0...10, using: &generator) < v ? 1 : 0 }
    let x = try FeatureMatrix(rows: 150, columns: 1, values: values)
    let fitted = try StandardizedLogisticModel.fit(features: x, labels: labels)
    let points = try PartialDependence.grid(values)
    XCTAssertEqual(points.count, 100, "150 distinct values: a 100-point grid")
    let curve = try PartialDependence.curve(of: fitted, x: x, feature: 0, grid: points, individual: true)
    let (w, b) = (fitted.model.coefficients[0, 0], fitted.model.intercepts[0])
    let (mean, scale) = (fitted.scaler.means[0], fitted.scaler.scales[0])
    XCTAssertGreaterThan(w, 0.5, "the label follows the feature")
    for (g, v) in points.enumerated() {
      let expected = 1 / (1 + exp(-(w * (v - mean) / scale + b)))
      XCTAssertEqual(curve.average[0][g], expected, accuracy: 1e-12)
      XCTAssertEqual(curve.individual[0][37, g], expected, accuracy: 1e-12)
    }
  }

  /// Two copies of the signal hide each other: each alone matters less (the other still carries the class) than the
  /// family of both, which drops held-out ROC AUC by more than the two alone added up; a constant column has
  /// coefficient 0 and drops exactly nothing.
  func testFamiliesRevealWhatCorrelatedFeaturesHide() throws {
    var generator = SeededGenerator(seed: 4)
    let n = 200
    var values: [Double] = []
    var labels: [Int] = []
    for i in 0..<n {
      let label = i % 2
      let signal = Double(label) + Double.random(in: -0.9...0.9, using: &generator)
      values += [
        signal, signal + Double.random(in: -0.05...0.05, using: &generator),
        Double.random(in: -1...1, using: &generator), 2.5,
      ]
      labels.append(label)
    }
    let x = try FeatureMatrix(rows: n, columns: 4, values: values)
    let groups = (0..<n).map { "g\($0 % 20)" }
    let folds = try CrossValidation.groupKFold(groups: groups, folds: 5)
    let models = try folds.map { try StandardizedLogisticModel.fit(features: x, labels: labels, rows: $0.train) }
    let importance = try PermutationImportance(
      models: models, folds: folds, x: x, labels: labels, classCount: 2, families: [[0], [1], [2], [3], [0, 1]],
      permutations: PermutationImportance.permutations(rows: n, repeats: 10, seed: 1))
    let drop = importance.entries.map(\.rocAUC.mean)
    print("baseline \(importance.baseline.rocAUC); drops \(drop)")
    XCTAssertGreaterThan(importance.baseline.rocAUC, 0.85)
    XCTAssertLessThan(abs(drop[2]), 0.02, "noise")
    XCTAssertEqual(importance.entries[3].rocAUCDrops, [Double](repeating: 0, count: 10), "constant column")
    XCTAssertGreaterThan(drop[4], 0.3, "the family of both copies")
    XCTAssertGreaterThan(
      drop[4], drop[0] + drop[1],
      "each copy alone hides behind the other: the pair drops more "
        + "than the two alone added up")
    XCTAssertEqual(
      importance.entries[4].rocAUC.std,
      (importance.entries[4].rocAUCDrops.map { ($0 - drop[4]) * ($0 - drop[4]) }.reduce(0, +) / 10)
        .squareRoot(), accuracy: 1e-15)
  }
}

/// scikit-learn on what `compare` wrote into `folder`: Tests/python/test_probe_reference.py's `inspect`.
func inspectReference(_ folder: TemporaryDirectory) throws -> [String: Any] {
  let script = SharedData.projectRoot.appendingPathComponent("Tests/python/test_probe_reference.py")
  let source = try String(contentsOf: script, encoding: .utf8)
  // One BLAS thread: scikit-learn's many small predictions run ten times slower on two here (FINDINGS.md).
  return try reference(
    "import os, sys; os.environ['OPENBLAS_NUM_THREADS'] = '1'; "
      + "sys.argv = ['ref', 'inspect'] + sys.argv[1:]\n" + source, in: folder)
}
