import Foundation
import Statistics
import TestSupport
import XCTest

/// PCA against scikit-learn's PCA(svd_solver="full") on the LINCS plate's profiles.
final class PrincipalComponentsTests: XCTestCase {
  func testMatchesScikitLearnOnLINCSProfiles() throws {
    let folder = try TemporaryDirectory()
    let ref = try reference(lincsPrelude() + """
      from sklearn.decomposition import PCA
      X = features()
      X.tofile(sys.argv[1] + "/X.bin")
      p = PCA(n_components=10, svd_solver="full").fit(X)
      p.components_.tofile(sys.argv[1] + "/components.bin"); p.transform(X[:5]).tofile(sys.argv[1] + "/scores.bin")
      print(json.dumps({"d": X.shape[1], "var": p.explained_variance_.tolist(),
                        "ratio": p.explained_variance_ratio_.tolist()}))
      """, in: folder)
    let d = ref["d"] as! Int
    let x = try FeatureMatrix(rows: 384, columns: d, values: readDoubles(folder.file("X.bin")))
    let pca = try PrincipalComponents(fitting: x, components: 10)
    assertClose(pca.explainedVariance, doubles(ref["var"]), relative: 1e-10, "explained variance")
    assertClose(pca.explainedVarianceRatio, doubles(ref["ratio"]), relative: 1e-10, "explained variance ratio")
    // Signs are fixed by the same rule in both, so components and scores agree entry by entry.
    assertClose(pca.components.values, try readDoubles(folder.file("components.bin")), relative: 1e-7, floor: 1e-3,
                "components")
    assertClose(try pca.transform(x.selecting(rows: Array(0..<5))).values, try readDoubles(folder.file("scores.bin")),
                relative: 1e-7, floor: 1e-2, "scores")
  }

  /// Closed form: points on the line y = 2x (third coordinate constant) have one component, (1, 2, 0) / sqrt 5.
  func testPointsOnALineHaveOneComponent() throws {
    let t: [Double] = [-2, -1, 0, 1, 2, 5]
    let x = try FeatureMatrix(rows: 6, columns: 3, values: t.flatMap { [$0, 2 * $0, 7] })
    let pca = try PrincipalComponents(fitting: x)
    let mean = t.reduce(0, +) / 6
    let variance = 5 * t.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 5
    XCTAssertEqual(pca.explainedVariance[0], variance, accuracy: 1e-12 * variance)
    XCTAssertEqual(pca.explainedVarianceRatio[0], 1, accuracy: 1e-12)
    assertClose(Array(pca.components.values[0..<3]), [1 / 5.0.squareRoot(), 2 / 5.0.squareRoot(), 0], relative: 1e-12,
                "first component")
  }
}
