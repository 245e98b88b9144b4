import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import Statistics

/// Whether cell density (nuclei per site) differs by the target: the paper's ALS confounder, where disease lines
/// grew denser and a classifier could learn density instead of disease.
///
/// The target belongs to the unit (the cell line), so the unit is the unit of replication: labels are exchanged
/// between whole units in the two-sided permutation test of the difference in mean count over sample wells, and the
/// bootstrap interval of the ratio (other level / reference level, `healthy` when present) resamples whole units.
/// With too few units to reach the audit's level the finding says "cannot tell".
struct DensityStage: AuditStage {
  static let name = "density"
  static let needs: Set<AuditResource> = [.density]
  static let produces: Set<AuditResource> = []
  var permutations = 999

  init() {}

  static func measure(_ table: WellTable) -> String? {
    let names = Set(table.rows.flatMap(\.values.keys))
    if names.contains("Count_Nuclei") { return "Count_Nuclei" }
    return names.filter { $0.hasPrefix("Count_") && table.role($0) == .density }.sorted().first
  }

  func skipReason(_ audit: Audit) -> String? {
    guard let target = audit.design.target else { return "no target was given or found" }
    guard case .binary = audit.design.targetKind else {
      return "the target \(target) is \(audit.design.targetKind?.description ?? "constant"); the density test compares two levels"
    }
    guard let table = try? audit.wells(), Self.measure(table) != nil else { return "no nuclei count is stored" }
    return nil
  }

  func run(_ audit: Audit) throws -> StageCounts {
    let table = try audit.wells()
    let measure = Self.measure(table)!
    let target = audit.design.target!
    guard case .binary(let levels) = audit.design.targetKind! else { return StageCounts() }
    let reference = levels.contains("healthy") ? "healthy" : levels[0]
    let other = levels.first { $0 != reference }!
    let wells = table.rows.filter { !audit.design.isControl($0.covariates) && $0.covariates[target].map(levels.contains) == true
      && ($0.values[measure]?.isFinite ?? false) }
    let labels = wells.map { $0.covariates[target] == reference ? 0 : 1 }
    guard labels.contains(0), labels.contains(1), wells.count >= 4 else { return StageCounts() }
    let counts = wells.map { $0.values[measure]! }
    let units = wells.map { audit.design.unit(of: $0) }
    let unitName = audit.design.unit.map { "\($0) values" } ?? "wells"
    let design = try PermutationDesign(units: units, labels: labels)
    let test = Inference.permutationTest(design: design, permutations: permutations, seed: 1) { rowLabels in
      abs(MeanComparison.of(counts, labels: rowLabels, rows: Array(counts.indices)).difference)
    }
    let ratio = MeanComparison.of(counts, labels: labels, rows: Array(counts.indices)).ratio
    let interval = try Inference.bootstrapInterval(units: units, replicates: 2000, seed: 2) { rows in
      MeanComparison.of(counts, labels: labels, rows: rows).ratio
    }
    let unitCount = Set(units).count
    let reachable = test.smallestAttainablePValue <= AuditCorrection.level
    let finding = AuditFinding(
      kind: "density", stage: Self.name, covariate: target, measure: .init(name: measure, role: "density"),
      metric: .init(name: "ratio of mean nuclei per site, \(other) / \(reference)", value: ratio,
                    ciLow: interval.lower, ciHigh: interval.upper),
      baseline: .init(name: "no difference", value: 1),
      pValue: test.pValue, units: .init(name: unitName, count: unitCount),
      plates: Array(Set(wells.map(\.plate))).sorted(),
      evidence: ["wells": .int(Int64(wells.count)), "smallestAttainableP": .double(test.smallestAttainablePValue),
                 "exact": .bool(test.exact)],
      significant: false, verdict: "")
    audit.add(FindingDraft(finding: finding) { f in
      let direction = ratio >= 1 ? "more" : "fewer"
      let numbers = "\(other) wells have \(Say.percent(abs(ratio - 1))) \(direction) nuclei per site than \(reference) wells "
        + "(ratio \(Say.fixed(ratio)), \(Say.interval(f.metric)), \(wells.count) wells of \(unitCount) \(unitName), "
        + "labels permuted between whole units, \(Say.pCorrected(f)))"
      if f.significant {
        return "Cell density depends on \(target): \(numbers). A model of \(target) can learn density instead of biology: "
          + "compare at matched density or regress \(measure) out."
      }
      if !reachable {
        return "Cannot tell whether cell density depends on \(target): with \(unitCount) \(unitName) the smallest attainable "
          + "p is \(Say.fixed(test.smallestAttainablePValue, 3)) (\(numbers)). More units are needed."
      }
      return "No evidence that cell density depends on \(target): \(numbers)."
    })
    return StageCounts(computed: 1)
  }
}
