import Foundation
import Statistics
import TestSupport
import XCTest

/// Coefficients and probabilities against scikit-learn's LogisticRegression(solver="lbfgs") at the same C.
final class LogisticRegressionTests: XCTestCase {
  /// Generates data with a fixed numpy seed, fits scikit-learn with tight tolerances and writes everything out.
  static let syntheticScript = """
    import json, sys, numpy as np
    from sklearn.linear_model import LogisticRegression
    out, classes, c = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    rng = np.random.default_rng(7)
    n, d = 300, 6
    X = rng.normal(size=(n, d)) * np.array([1, 2, 0.5, 1, 3, 1])
    W = rng.normal(size=(d, classes))
    y = np.argmax(X @ W + rng.gumbel(size=(n, classes)), axis=1) * 2 + 1  # labels 1, 3, 5: not 0-based
    X.tofile(out + "/X.bin"); y.astype(np.int64).tofile(out + "/y.bin")
    m = LogisticRegression(C=c, tol=1e-10, max_iter=10000).fit(X, y)
    print(json.dumps({"coef": m.coef_.tolist(), "intercept": m.intercept_.tolist(),
                      "proba": m.predict_proba(X[:20]).tolist(), "classes": m.classes_.tolist(),
                      "predict": m.predict(X).tolist()}))
    """

  func checkSynthetic(classes: Int, c: Double) throws {
    let folder = try TemporaryDirectory()
    let ref = try reference(Self.syntheticScript.replacingOccurrences(of: "sys.argv[2]", with: "\(classes)")
      .replacingOccurrences(of: "sys.argv[3]", with: "\(c)"), in: folder)
    let x = try FeatureMatrix(rows: 300, columns: 6, values: readDoubles(folder.file("X.bin")))
    let y = try readInts(folder.file("y.bin"))
    let model = try LogisticRegression.fit(features: x, labels: y, c: c, options: tightOptions())
    XCTAssertEqual(model.classes, (ref["classes"] as! [Int]))
    assertClose(model.coefficients.values, doubles(ref["coef"]), relative: 1e-4, "coef (\(classes) classes)")
    assertClose(model.intercepts, doubles(ref["intercept"]), relative: 1e-4, "intercept (\(classes) classes)")
    let p = try model.probabilities(x.selecting(rows: Array(0..<20)))
    assertClose(p.values, doubles(ref["proba"]), relative: 1e-5, floor: 1e-2, "proba (\(classes) classes)")
    XCTAssertEqual(try model.predict(x), ref["predict"] as! [Int])
  }

  func testBinaryMatchesScikitLearn() throws { try checkSynthetic(classes: 2, c: 0.5) }
  func testThreeClassSoftmaxMatchesScikitLearn() throws { try checkSynthetic(classes: 3, c: 2) }

  /// 20,000 rows make four row partitions of the loss, each walked in blocks: the partitioned sums must give
  /// scikit-learn's answer, and the same bits on one thread as on three (partitions are summed in a fixed order).
  func testRowPartitionsMatchScikitLearnOnAnyThreadCount() throws {
    let folder = try TemporaryDirectory()
    let ref = try reference("""
      import json, sys, numpy as np
      from sklearn.linear_model import LogisticRegression
      rng = np.random.default_rng(11)
      X = rng.normal(size=(20000, 8)) * np.linspace(0.5, 2, 8)
      y = np.argmax(X @ rng.normal(size=(8, 4)) + rng.gumbel(size=(20000, 4)), axis=1)
      X.tofile(sys.argv[1] + "/X.bin"); y.astype(np.int64).tofile(sys.argv[1] + "/y.bin")
      m = LogisticRegression(C=0.01, tol=1e-10, max_iter=10000).fit(X, y)
      print(json.dumps({"coef": m.coef_.tolist(), "intercept": m.intercept_.tolist()}))
      """, in: folder)
    let x = try FeatureMatrix(rows: 20000, columns: 8, values: readDoubles(folder.file("X.bin")))
    let y = try readInts(folder.file("y.bin"))
    var options = tightOptions()
    let one = try LogisticRegression.fit(features: x, labels: y, c: 0.01, options: options)
    options.threads = 3
    let three = try LogisticRegression.fit(features: x, labels: y, c: 0.01, options: options)
    XCTAssertEqual(one.coefficients.values, three.coefficients.values, "coefficients differ between 1 and 3 threads")
    XCTAssertEqual(one.intercepts, three.intercepts)
    assertClose(three.coefficients.values, doubles(ref["coef"]), relative: 1e-4, "coef (20,000 rows)")
    assertClose(three.intercepts, doubles(ref["intercept"]), relative: 1e-4, "intercept (20,000 rows)")
  }

  /// Fitting and scaling a fold's rows in place of a copy of them: same bits, duplicates and order kept, memory
  /// reused across folds, and the closed form on a tiny column (rows 0 and 3 of 1, 2, 3, 7: mean 4, population sd 3).
  func testStandardizerOnRowsEqualsSelectingThemFirst() throws {
    let x = try FeatureMatrix(rows: 4, columns: 2, values: [1, 5, 2, 5, 3, 5, 7, 5])
    let rows = [3, 0]
    let scaler = try Standardizer(fitting: x, rows: rows)
    XCTAssertEqual(scaler.means, [4, 5])
    XCTAssertEqual(scaler.scales, [3, 1], "a constant column gets scale 1")
    XCTAssertEqual(try scaler.transform(x, rows: rows).values, [1, 0, -1, 0])
    var generator = SeededGenerator(seed: 5)
    let big = try FeatureMatrix(rows: 50, columns: 7, values: (0..<350).map { _ in
      Double.random(in: -3...1000, using: &generator) })
    let picked = [49, 3, 3, 17, 0, 22]
    let selected = big.selecting(rows: picked)
    let direct = try Standardizer(fitting: big, rows: picked)
    XCTAssertEqual(direct, try Standardizer(fitting: selected))
    XCTAssertEqual(try direct.transform(big, rows: [8, 49, 8]).values,
                   try direct.transform(big.selecting(rows: [8, 49, 8])).values)
    XCTAssertEqual(try Standardizer(fitting: big, rows: nil), try Standardizer(fitting: big))
    // Fold after fold in one array: same values, and a smaller fold lands in the first fold's memory once the
    // first fold's matrix is let go.
    var storage: [Double] = []
    XCTAssertTrue(try direct.transform(big, rows: picked, reusing: &storage).values
                  == direct.transform(selected).values)
    let address = storage.withUnsafeBufferPointer { $0.baseAddress }
    XCTAssertTrue(try direct.transform(big, rows: [1, 2], reusing: &storage).values
                  == direct.transform(big.selecting(rows: [1, 2])).values)
    XCTAssertEqual(storage.withUnsafeBufferPointer { $0.baseAddress }, address)
  }

  /// As C -> 0 the binary solution tends to C * sum_i (y_i - mean y) x_i (one Newton step from w = 0 with the
  /// intercept at its optimum), a closed form independent of the optimiser. The tolerance is 1%: at this C the
  /// Hessian's condition number is ~1e4, so the objective's rounding (not the method) limits the coefficients.
  func testVanishingCApproachesFirstOrderSolution() throws {
    let folder = try TemporaryDirectory()
    _ = try reference(Self.syntheticScript.replacingOccurrences(of: "sys.argv[2]", with: "2")
      .replacingOccurrences(of: "sys.argv[3]", with: "1"), in: folder)
    let x = try FeatureMatrix(rows: 300, columns: 6, values: readDoubles(folder.file("X.bin")))
    let labels = try readInts(folder.file("y.bin"))
    let y = labels.map { $0 == labels.max()! ? 1.0 : 0.0 }
    let mean = y.reduce(0, +) / 300
    let c = 1e-6
    let expected = (0..<6).map { j in c * (0..<300).reduce(0.0) { $0 + (y[$1] - mean) * x[$1, j] } }
    let model = try LogisticRegression.fit(features: x, labels: labels, c: c, options: tightOptions())
    assertClose(model.coefficients.values, expected, relative: 1e-2, floor: 1e-9, "first-order coefficients")
  }

  /// The real LINCS plate: predict the plate row letter (A-P, 16 classes, 24 wells each) from standardised profiles.
  func testLINCSPlateRowMatchesScikitLearn() throws {
    let folder = try TemporaryDirectory()
    let ref = try reference(lincsPrelude() + """
      from sklearn.linear_model import LogisticRegression
      from sklearn.preprocessing import StandardScaler
      X = features(60)
      y = np.array([ord(w[0]) - ord("A") for w in column("Metadata_Well")])
      X.tofile(sys.argv[1] + "/X.bin"); y.astype(np.int64).tofile(sys.argv[1] + "/y.bin")
      Z = StandardScaler().fit(X[::2]).transform(X)
      m = LogisticRegression(C=0.05, tol=1e-10, max_iter=10000).fit(Z[::2], y[::2])
      print(json.dumps({"coef": m.coef_.tolist(), "intercept": m.intercept_.tolist(),
                        "proba": m.predict_proba(Z[1::2]).tolist(), "d": X.shape[1]}))
      """, in: folder)
    let d = ref["d"] as! Int
    let x = try FeatureMatrix(rows: 384, columns: d, values: readDoubles(folder.file("X.bin")))
    let y = try readInts(folder.file("y.bin"))
    let train = Array(stride(from: 0, to: 384, by: 2))
    let test = Array(stride(from: 1, to: 384, by: 2))
    let scaler = try Standardizer(fitting: x.selecting(rows: train))
    let model = try LogisticRegression.fit(features: try scaler.transform(x.selecting(rows: train)),
                                           labels: train.map { y[$0] }, c: 0.05, options: tightOptions())
    XCTAssertEqual(model.classes.count, 16)
    assertClose(model.coefficients.values, doubles(ref["coef"]), relative: 1e-4, "LINCS coef")
    assertClose(model.intercepts, doubles(ref["intercept"]), relative: 1e-4, "LINCS intercept")
    let p = try model.probabilities(try scaler.transform(x.selecting(rows: test)))
    assertClose(p.values, doubles(ref["proba"]), relative: 1e-4, floor: 1e-2, "LINCS proba")
  }
}
