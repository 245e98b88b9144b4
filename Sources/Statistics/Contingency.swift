import Foundation
/// Pearson's chi-square test of independence on a table of counts, with Cramér's V as the effect size.
public struct ChiSquareTest: Sendable {
  public let statistic: Double
  public let degreesOfFreedom: Int
  public let pValue: Double
  /// sqrt(chi2 / (n (min(rows, columns) - 1))) from the uncorrected statistic, as scipy's
  /// `contingency.association(method="cramer")`: 0 for independence, 1 when one variable determines the other.
  public let cramersV: Double
  /// Expected counts under independence, `row total * column total / n`.
  public let expected: [[Double]]

  /// Tests `table` (rows x columns of counts). `yatesCorrection` moves each observed count 0.5 towards its
  /// expectation when there is one degree of freedom, as `scipy.stats.chi2_contingency`'s default does.
  public init(table: [[Int]], yatesCorrection: Bool = false) throws {
    let r = table.count
    let c = table.first?.count ?? 0
    guard r >= 2, c >= 2, table.allSatisfy({ $0.count == c }), table.joined().allSatisfy({ $0 >= 0 }) else {
      throw StatisticsError.shape("ChiSquareTest: need a rectangular table of counts, at least 2 x 2")
    }
    let rowSum = table.map { Double($0.reduce(0, +)) }
    let columnSum = (0..<c).map { j in Double(table.reduce(0) { $0 + $1[j] }) }
    guard !rowSum.contains(0), !columnSum.contains(0) else {
      throw StatisticsError.invalidArgument(
        "ChiSquareTest: a row or column has no counts; drop categories that never occur before testing")
    }
    let n = rowSum.reduce(0, +)
    expected = rowSum.map { ri in columnSum.map { ri * $0 / n } }
    degreesOfFreedom = (r - 1) * (c - 1)
    var plain = 0.0
    var corrected = 0.0
    for i in 0..<r {
      for j in 0..<c {
        let diff = Double(table[i][j]) - expected[i][j]
        plain += diff * diff / expected[i][j]
        let shrunk = max(abs(diff) - 0.5, 0)
        corrected += shrunk * shrunk / expected[i][j]
      }
    }
    statistic = yatesCorrection && degreesOfFreedom == 1 ? corrected : plain
    pValue = SpecialFunctions.chiSquareSurvival(statistic, degreesOfFreedom: degreesOfFreedom)
    cramersV = (plain / (n * Double(min(r, c) - 1))).squareRoot()
  }
}

/// Fisher's exact test of a 2 x 2 table, two-sided as scipy's `fisher_exact`: the probability, under the
/// hypergeometric law of tables with the observed margins, of a table no more probable than the observed one.
public struct FisherExactTest: Sendable {
  /// The sample odds ratio (a d) / (b c); infinity when b c = 0, NaN for a degenerate margin.
  public let oddsRatio: Double
  public let pValue: Double

  /// `table` is `[[a, b], [c, d]]`.
  public init(table: [[Int]]) throws {
    guard table.count == 2, table.allSatisfy({ $0.count == 2 }), table.joined().allSatisfy({ $0 >= 0 }) else {
      throw StatisticsError.shape("FisherExactTest: need a 2 x 2 table of non-negative counts")
    }
    let (a, b, c, d) = (table[0][0], table[0][1], table[1][0], table[1][1])
    let column0 = a + c
    let column1 = b + d
    let row0 = a + b
    guard column0 > 0, column1 > 0, row0 > 0, c + d > 0 else {
      oddsRatio = .nan
      pValue = 1
      return
    }
    oddsRatio = b > 0 && c > 0 ? Double(a * d) / Double(b * c) : .infinity
    let total = column0 + column1
    let logDenominator = SpecialFunctions.logChoose(total, row0)
    func pmf(_ x: Int) -> Double {
      exp(SpecialFunctions.logChoose(column0, x) + SpecialFunctions.logChoose(column1, row0 - x) - logDenominator)
    }
    let observed = pmf(a)
    // Relative slack so that tables as probable as the observed one count despite rounding in the pmf.
    let threshold = observed * (1 + 1e-7)
    var p = 0.0
    for x in max(0, row0 - column1)...min(row0, column0) {
      let px = pmf(x)
      if px <= threshold { p += px }
    }
    pValue = min(1, p)
  }
}
