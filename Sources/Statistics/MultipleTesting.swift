/// Corrections of a family of p-values for the number of tests.
public enum MultipleTesting {
  /// Benjamini-Hochberg adjusted p-values (R's `p.adjust(method = "BH")`, statsmodels' `fdr_bh`): sorted
  /// ascending, p_(i) * m / i, made monotone from the largest down, capped at 1. Rejecting where the adjusted
  /// value is below q controls the false discovery rate at q for independent or positively dependent tests; when
  /// every null hypothesis is true it controls the chance of any rejection at q too.
  public static func benjaminiHochberg(_ p: [Double]) -> [Double] {
    let m = p.count
    guard m > 0 else { return [] }
    let order = p.indices.sorted { p[$0] < p[$1] }
    var adjusted = [Double](repeating: 1, count: m)
    var running = 1.0
    for rank in stride(from: m, through: 1, by: -1) {
      let index = order[rank - 1]
      running = min(running, p[index] * Double(m) / Double(rank))
      adjusted[index] = min(1, running)
    }
    return adjusted
  }

  /// Holm's step-down adjusted p-values (`p.adjust(method = "holm")`): sorted ascending, (m - i + 1) p_(i), made
  /// monotone from the smallest up, capped at 1. Controls the family-wise error rate under any dependence.
  public static func holm(_ p: [Double]) -> [Double] {
    let m = p.count
    let order = p.indices.sorted { p[$0] < p[$1] }
    var adjusted = [Double](repeating: 1, count: m)
    var running = 0.0
    for (i, index) in order.enumerated() {
      running = max(running, min(1, Double(m - i) * p[index]))
      adjusted[index] = running
    }
    return adjusted
  }
}
