import ConfoundCore
import ConfoundProtocol
import Foundation
import Statistics

/// Whether cell density (`Count_Nuclei`) differs by the target covariate (a well covariate, from the platemap
/// joined when the screen was loaded): the paper's ALS confounder, where disease lines grew denser and a
/// classifier could learn density instead of disease.
///
/// The unit of replication is the well (its sites are not independent): each well's mean count, control wells
/// left out. Two-sided permutation test of the difference in mean count, labels exchanged between whole wells
/// within each plate (the platemap balances lines per plate); effect = mean count of the other level / mean count
/// of the reference level (`healthy` when present), with a percentile bootstrap interval over wells.
struct DensityAnalysis {
  let store: RunStore
  let screen: Screen
  let siteIDs: [SiteKey: Int64]
  var covariate = "disease"
  var reference = "healthy"
  var measure = "Count_Nuclei"
  var permutations = 999

  /// One well: its plate, the target level and the mean per-site count.
  struct WellCount {
    let plate: String
    let well: String
    let level: String
    let count: Double
  }

  func findings() throws -> [AuditFinding] {
    let wells = try wellCounts()
    let levels = Set(wells.map(\.level)).sorted()
    guard levels.count == 2, wells.count >= 4 else { return [] }
    let base = levels.contains(reference) ? reference : levels[0]
    let other = levels.first { $0 != base }!
    let labels = wells.map { $0.level == base ? 0 : 1 }
    guard labels.contains(0), labels.contains(1) else { return [] }
    let counts = wells.map(\.count)
    let design = try PermutationDesign(units: Array(wells.indices), labels: labels, strata: wells.map(\.plate))
    let test = Inference.permutationTest(design: design, permutations: permutations, seed: 1) { rowLabels in
      abs(Self.meanRatio(counts, rowLabels, rows: Array(counts.indices)).difference)
    }
    guard test.pValue < 0.05 else { return [] }
    let ratio = Self.meanRatio(counts, labels, rows: Array(counts.indices)).ratio
    let interval = try Inference.bootstrapInterval(units: Array(wells.indices), replicates: 2000, seed: 2) { rows in
      Self.meanRatio(counts, labels, rows: rows).ratio
    }
    let plates = Array(Set(wells.map(\.plate))).sorted()
    let direction = ratio >= 1 ? "more" : "fewer"
    let verdict = "Cell density depends on \(covariate): \(other) wells have \(percent(abs(ratio - 1))) \(direction) "
      + "nuclei per site than \(base) wells (ratio \(fixed(ratio)), 95% CI \(fixed(interval.lower)) to "
      + "\(fixed(interval.upper)), \(wells.count) wells, permutation p = \(pText(test.pValue))). A model of "
      + "\(covariate) can learn density instead of biology: compare at matched density or regress \(measure) out."
    return [AuditFinding(kind: "density", covariate: covariate, measure: measure, effect: ratio,
                         ciLow: interval.lower, ciHigh: interval.upper, pValue: test.pValue, verdict: verdict,
                         plates: plates)]
  }

  /// Per-well mean of `measure` over its sites with a finite value, for wells with a target level and not
  /// marked as controls.
  func wellCounts() throws -> [WellCount] {
    var result: [WellCount] = []
    for plate in screen.plates {
      for well in plate.wells {
        guard let level = well.covariates[covariate] ?? plate.covariates[covariate], !level.isEmpty,
          !["1", "true", "yes"].contains((well.covariates["control"] ?? "").lowercased())
        else { continue }
        let values = try well.sites.compactMap { site -> Double? in
          guard let id = siteIDs[SiteKey(plate: plate.name, well: well.name, site: site.number)] else { return nil }
          return try store.measurements(siteID: id)[measure].flatMap { $0.isFinite ? $0 : nil }
        }
        guard !values.isEmpty else { continue }
        result.append(WellCount(plate: plate.name, well: well.name, level: level,
                                count: values.reduce(0, +) / Double(values.count)))
      }
    }
    return result
  }

  /// Mean of level 1 minus mean of level 0, and their ratio, over `rows` (a row may repeat); NaN when a level
  /// has no row or the reference mean is 0.
  static func meanRatio(_ values: [Double], _ labels: [Int], rows: [Int]) -> (difference: Double, ratio: Double) {
    var sum = [0.0, 0.0], n = [0.0, 0.0]
    for r in rows {
      sum[labels[r]] += values[r]
      n[labels[r]] += 1
    }
    guard n[0] > 0, n[1] > 0 else { return (.nan, .nan) }
    let (m0, m1) = (sum[0] / n[0], sum[1] / n[1])
    return (m1 - m0, m0 > 0 ? m1 / m0 : .nan)
  }

  private func percent(_ x: Double) -> String { String(format: "%.0f%%", 100 * x) }
  private func fixed(_ x: Double) -> String { String(format: "%.2f", x) }
  private func pText(_ p: Double) -> String { p < 0.001 ? "< 0.001" : String(format: "%.3f", p) }
}
