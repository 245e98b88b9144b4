import Statistics
import XCTest

/// The numerics the audit's stages use, against closed forms: multiple-testing corrections (R's p.adjust values),
/// group comparisons, linear adjustment, and PCA scores from the Gram matrix.
final class AuditNumericsTests: XCTestCase {
  func testBenjaminiHochbergAndHolmMatchRsPAdjust() {
    let p = [0.01, 0.04, 0.03, 0.005, 0.5]
    // p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.5), "BH") and "holm" in R.
    let bh = MultipleTesting.benjaminiHochberg(p)
    let expectedBH = [0.025, 0.05, 0.05, 0.025, 0.5]
    for (a, b) in zip(bh, expectedBH) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    let holm = MultipleTesting.holm(p)
    let expectedHolm = [0.04, 0.09, 0.09, 0.025, 0.5]
    for (a, b) in zip(holm, expectedHolm) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    XCTAssertEqual(MultipleTesting.benjaminiHochberg([]), [])
    XCTAssertEqual(MultipleTesting.benjaminiHochberg([0.9]), [0.9])
  }

  func testMeanComparisonDifferenceRatioAndWelchInterval() {
    let c = MeanComparison(reference: [1, 2, 3], other: [4, 6])
    XCTAssertEqual(c.difference, 3)
    XCTAssertEqual(c.ratio, 2.5)
    // Welch: var(ref) = 1, var(other) = 2: se = sqrt(1/3 + 2/2).
    XCTAssertEqual(c.standardError, (1.0 / 3 + 1).squareRoot(), accuracy: 1e-12)
    let (low, high) = c.differenceInterval()
    XCTAssertEqual(low, 3 - 1.959963984540054 * c.standardError, accuracy: 1e-12)
    XCTAssertEqual(high, 3 + 1.959963984540054 * c.standardError, accuracy: 1e-12)
    let resampled = MeanComparison.of([1, 2, 3, 4, 6], labels: [0, 0, 0, 1, 1], rows: [0, 0, 4])
    XCTAssertEqual(resampled.difference, 5)
    XCTAssertEqual(resampled.ratio, 6)
    XCTAssertTrue(MeanComparison.of([1, 2], labels: [0, 1], rows: [0, 0]).difference.isNaN, "one group missing")
  }

  func testResidualsAreOrthogonalToTheCovariatesAndExactForALinearY() throws {
    let x = [0.0, 1, 2, 3, 4, 5]
    let noise = [0.3, -0.1, 0.2, -0.4, 0.1, -0.1]
    let y = zip(x, noise).map { 2 + 3 * $0 + $1 }
    let r = try LinearAdjustment.residuals(y, covariates: [x])
    XCTAssertEqual(r.reduce(0, +), 0, accuracy: 1e-12, "orthogonal to the intercept")
    XCTAssertEqual(zip(r, x).reduce(0) { $0 + $1.0 * $1.1 }, 0, accuracy: 1e-12, "orthogonal to x")
    let exact = try LinearAdjustment.residuals(x.map { 1 - 2 * $0 }, covariates: [x, x.map { 2 * $0 }])
    XCTAssertTrue(exact.allSatisfy { abs($0) < 1e-12 }, "a collinear covariate is dropped, the fit stays exact")
    XCTAssertThrowsError(try LinearAdjustment.residuals([1, 2], covariates: [[1, 2]]))
  }

  func testGramPCAScoresReproduceTheCentredDistances() throws {
    // Rows in 5 dimensions that lie in a plane: 2 components hold all the variance, so distances are kept.
    let rows: [[Float]] = (0..<6).map { i in
      let a = Float(i), b = Float(i * i % 5)
      return [a, b, a + b, 2 * a - b, 0.5 * b]
    }
    let scores = try PrincipalComponents.scores(ofRows: rows, count: 2)
    XCTAssertEqual(scores.count, 6)
    func distance(_ u: [Float], _ v: [Float]) -> Double {
      zip(u, v).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
    }
    for i in 0..<6 {
      for j in 0..<i {
        XCTAssertEqual(distance(scores[i], scores[j]), distance(rows[i], rows[j]), accuracy: 1e-4)
      }
    }
  }
}
