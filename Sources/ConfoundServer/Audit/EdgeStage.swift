import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import Statistics

/// Edge effects: per plate, outer-ring wells against interior wells (two-sided permutation test of the mean) on
/// the nuclei count and on the first channel's foreground intensity, the measures evaporation and edge temperature
/// move. Blur moves them too (a blurred nucleus is dimmer and splits or merges), so each difference is tested again
/// after the per-well focus measure is regressed out, and the verdict says whether it survives: only a difference
/// that survives adjustment for focus is put down to the edge itself.
struct EdgeStage: AuditStage {
  static let name = "edge"
  static let needs: Set<AuditResource> = [.features]
  static let produces: Set<AuditResource> = []
  var permutations = 999

  init() {}

  static func measures(_ audit: Audit, _ table: WellTable) -> [(name: String, words: String)] {
    let names = Set(table.rows.flatMap(\.values.keys))
    var list: [(String, String)] = []
    if let count = DensityStage.measure(table) { list.append((count, "cell density")) }
    let first = audit.screen.channels.first ?? ""
    if names.contains("ImageStats_ForegroundMean_\(first)") {
      list.append(("ImageStats_ForegroundMean_\(first)", "foreground intensity"))
    } else if let intensity = names.filter({ table.role($0) == .intensity && $0.contains("_Intensity_MeanIntensity_") }).sorted().first
      ?? names.filter({ table.role($0) == .intensity && $0.contains("MeanIntensity") }).sorted().first {
      list.append((intensity, "intensity"))
    }
    return list
  }

  func skipReason(_ audit: Audit) -> String? {
    guard let table = try? audit.wells() else { return "the well table cannot be read" }
    return Self.measures(audit, table).isEmpty ? "no nuclei count or intensity measure is stored" : nil
  }

  func run(_ audit: Audit) throws -> StageCounts {
    let table = try audit.wells()
    let focus = SpatialStage.measure(audit, table)
    var tests = 0
    for (index, plate) in audit.screen.plates.enumerated() {
      let rows = table.rows.filter { $0.plate == plate.name }
      for (measure, words) in Self.measures(audit, table) {
        let usable = rows.filter { row in
          (row.values[measure]?.isFinite ?? false) && (focus.map { row.values[$0]?.isFinite ?? false } ?? true)
        }
        guard usable.count >= 8 else { continue }
        let y = usable.map { $0.values[measure]! }
        let isEdge = usable.map { plate.format.edgeDistance($0.position) == 0 }
        guard isEdge.contains(true), isEdge.contains(false) else { continue }
        let seed = UInt64(11 + index)
        let raw = try Self.edgeTest(y, isEdge: isEdge, rows: usable, format: plate.format, permutations: permutations, seed: seed)
        var adjusted: (p: Double, difference: Double)?
        if let focus, focus != measure {
          let residuals = try LinearAdjustment.residuals(y, covariates: [usable.map { $0.values[focus]! }])
          let test = try Self.edgeTest(residuals, isEdge: isEdge, rows: usable, format: plate.format,
                                       permutations: permutations, seed: seed &+ 1)
          adjusted = (test.pValue, test.comparison.difference / max(abs(raw.comparison.referenceMean), 1e-300))
          if !(y.allSatisfy { $0 >= 0 } && raw.comparison.referenceMean > 0) { adjusted!.difference = test.comparison.difference }
        }
        tests += 1
        let labels = isEdge.map { $0 ? 1 : 0 }
        // A ratio needs a positive scale: normalised profiles (z-scores, centred on 0) are compared by difference.
        let relative = y.allSatisfy { $0 >= 0 } && raw.comparison.referenceMean > 0
        let interval = try Inference.bootstrapInterval(units: Array(y.indices), replicates: 2000, seed: seed &+ 2) { r in
          let c = MeanComparison.of(y, labels: labels, rows: r)
          return relative ? c.ratio - 1 : c.difference
        }
        var evidence: JSONObject = ["edgeWells": .int(Int64(isEdge.filter { $0 }.count)),
                                    "interiorWells": .int(Int64(isEdge.filter { !$0 }.count))]
        if let adjusted, let focus {
          evidence["adjustedFor"] = .string(focus)
          evidence["adjustedPValue"] = .double(adjusted.p)
          evidence["adjustedRelativeDifference"] = .double(adjusted.difference)
        }
        let finding = AuditFinding(
          kind: "edge-effect", stage: Self.name, covariate: "edge", measure: .init(name: measure, role: words),
          metric: .init(name: relative ? "relative difference, outer ring vs interior wells" : "difference, outer ring minus interior wells",
                        value: interval.estimate,
                        ciLow: interval.lower, ciHigh: interval.upper),
          baseline: .init(name: "interior wells' mean", value: raw.comparison.referenceMean),
          pValue: raw.pValue, units: .init(name: "wells", count: usable.count), plates: [plate.name],
          evidence: .object(evidence), significant: false, verdict: "")
        audit.add(FindingDraft(finding: finding) { f in
          let direction = f.metric.value < 0 ? "lower" : "higher"
          let show = { (x: Double) in relative ? Say.percent(abs(x)) : Say.fixed(abs(x), 3) }
          let size = show(f.metric.value)
          let numbers = "outer-ring wells are \(size) \(direction) than interior wells "
            + "(\(Say.interval(f.metric, format: relative ? Say.percent : { Say.fixed($0, 3) })), \(usable.count) wells, \(Say.pCorrected(f)))"
          guard f.significant else {
            return "No evidence that \(words) (\(measure)) differs at the edge of plate \(plate.name): \(numbers)."
          }
          let head = "\(words.prefix(1).uppercased() + words.dropFirst()) differs at the edge of plate \(plate.name) (\(measure)): \(numbers)"
          guard let adjusted, let focus else {
            return head + ", the pattern of evaporation or edge temperature: keep samples off the outer ring or compare within it."
          }
          if adjusted.p < AuditCorrection.level {
            return head + "; it survives adjustment for focus (\(focus): \(show(adjusted.difference)) "
              + "\(adjusted.difference < 0 ? "lower" : "higher") after adjustment, p = \(Say.p(adjusted.p))), the pattern of "
              + "evaporation or edge temperature: keep samples off the outer ring or compare within it."
          }
          return head + "; it is explained by focus: after regressing out \(focus) the edge difference is "
            + "\(show(adjusted.difference)) (p = \(Say.p(adjusted.p))). Blur at the edge, not evaporation, makes it."
        })
      }
    }
    return StageCounts(computed: tests)
  }

  /// The permutation edge test (two-sided, on the mean) of `y` over the plate layout.
  static func edgeTest(_ y: [Double], isEdge: [Bool], rows: [WellTable.Row], format: PlateFormat, permutations: Int,
                       seed: UInt64) throws -> (pValue: Double, comparison: MeanComparison) {
    var values = [Double?](repeating: nil, count: format.wellCount)
    for (row, v) in zip(rows, y) { values[format.wellIndex(row.position)] = v }
    let test = try SpatialBias.edgeTest(values: values, rows: format.rows, columns: format.columns,
                                        permutations: permutations, seed: seed)
    let comparison = MeanComparison(reference: zip(y, isEdge).filter { !$0.1 }.map(\.0), other: zip(y, isEdge).filter(\.1).map(\.0))
    return (test.meanPValue, comparison)
  }
}
