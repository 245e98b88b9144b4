import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import Statistics

/// Image quality over the plate layout (the paper's Figure 2): plate maps of the learned defocus score of every
/// channel and of the focus measure tested, and per plate whether that measure depends on the position: the
/// edge-versus-interior test and Moran's I over well adjacency on the per-well means, each with a permutation
/// p-value; the plate's p-value is the smaller of the two times 2 (Bonferroni over the two), then corrected with
/// every other test of the audit.
struct SpatialStage: AuditStage {
  static let name = "spatial"
  static let needs: Set<AuditResource> = [.focus]
  static let produces: Set<AuditResource> = []
  var permutations = 999

  init() {}

  /// The focus measure tested: the request's, else the first of the usual sharpness measures the table holds.
  static func measure(_ audit: Audit, _ table: WellTable) -> String? {
    if let chosen = audit.params.focusMeasure { return chosen }
    let names = Set(table.rows.flatMap(\.values.keys))
    let first = audit.screen.channels.first ?? ""
    let preferred = ["ImageQuality_TenengradNormalized_\(first)", "ImageQuality_FocusScore_\(first)"]
    if let hit = preferred.first(where: names.contains) { return hit }
    return names.filter { table.role($0) == .focus && ($0.contains("FocusScore") || $0.contains("PowerLogLogSlope")) }
      .sorted().first ?? names.filter { table.role($0) == .focus }.sorted().first
  }

  func skipReason(_ audit: Audit) -> String? {
    guard let table = try? audit.wells() else { return "the well table cannot be read" }
    return Self.measure(audit, table) == nil ? "no focus or image-quality measure is stored" : nil
  }

  func run(_ audit: Audit) throws -> StageCounts {
    let table = try audit.wells()
    let measure = Self.measure(audit, table)!
    let perSite = try audit.store.allMeasurements()
    let maps = PlateMapFigures(audit: audit)
    for channel in audit.screen.channels {
      try maps.draw("Defocus_Score_\(channel)", unit: "defocus score, 1 = in focus", stage: Self.name, perSite: perSite)
    }
    try maps.draw(measure, unit: measure.contains("Normalized") ? "per mean^2" : "value", stage: Self.name, perSite: perSite)
    var tests = 0
    for (index, plate) in audit.screen.plates.enumerated() {
      let rows = table.rows.filter { $0.plate == plate.name }
      guard let result = try PlateSpatialTest(rows: rows, format: plate.format, measure: measure,
                                              permutations: permutations, seed: UInt64(index + 1)) else { continue }
      tests += 1
      let batch = rows.first.map { audit.design.batch(of: $0) } ?? ""
      let finding = AuditFinding(
        kind: "spatial", stage: Self.name, covariate: "well position", measure: .init(name: measure, role: "focus"),
        metric: .init(name: "relative difference, edge vs interior wells", value: result.relative.estimate,
                      ciLow: result.relative.lower, ciHigh: result.relative.upper),
        baseline: .init(name: "interior wells' mean", value: result.comparison.referenceMean),
        pValue: result.pValue, units: .init(name: "wells", count: rows.count), plates: [plate.name],
        evidence: ["moransI": .double(result.moran.i), "moransIPValue": .double(result.moran.pValue),
                   "edgeTestPValue": .double(result.edge.meanPValue), "edgeWells": .int(Int64(result.edge.edgeCount)),
                   "interiorWells": .int(Int64(result.edge.interiorCount))],
        significant: false, verdict: "")
      audit.add(FindingDraft(finding: finding) { f in
        let direction = f.metric.value < 0 ? "lower" : "higher"
        let where_ = "plate \(plate.name)" + (batch.isEmpty ? "" : " (batch \(batch))")
        let numbers = "edge wells \(Say.percent(abs(f.metric.value))) \(direction) than interior wells "
          + "(\(Say.interval(f.metric, format: Say.percent))), Moran's I = \(Say.fixed(result.moran.i)), \(Say.pCorrected(f))"
        return f.significant
          ? "Focus depends on position on \(where_): \(measure) is \(numbers). Blur that follows the layout can pass for biology in any well-position-dependent comparison."
          : "No evidence that focus (\(measure)) depends on position on \(where_): \(numbers)."
      })
    }
    return StageCounts(computed: tests)
  }
}

/// The spatial test of one plate on a measure's per-well means.
struct PlateSpatialTest {
  let edge: SpatialBias.EdgeTest
  let moran: SpatialBias.MoransI
  let comparison: MeanComparison
  /// (edge mean - interior mean) / interior mean, with a percentile bootstrap interval over wells.
  let relative: BootstrapInterval
  let pValue: Double

  /// Nil when the plate has fewer than 8 wells with the measure or no edge or interior well.
  init?(rows: [WellTable.Row], format: PlateFormat, measure: String, permutations: Int, seed: UInt64) throws {
    var values = [Double?](repeating: nil, count: format.wellCount)
    for row in rows { if let v = row.values[measure], v.isFinite { values[format.wellIndex(row.position)] = v } }
    guard values.compactMap({ $0 }).count >= 8,
      let edge = try? SpatialBias.edgeTest(values: values, rows: format.rows, columns: format.columns,
                                           permutations: permutations, seed: seed),
      let moran = try? SpatialBias.moransI(values: values, rows: format.rows, columns: format.columns,
                                           permutations: permutations, seed: seed)
    else { return nil }
    let present = values.indices.filter { values[$0] != nil }
    let isEdge = present.map { i in format.edgeDistance(WellPosition(row: i / format.columns, column: i % format.columns)) == 0 }
    let v = present.map { values[$0]! }
    let labels = isEdge.map { $0 ? 1 : 0 }
    guard labels.contains(0), labels.contains(1) else { return nil }
    comparison = MeanComparison(reference: zip(v, isEdge).filter { !$0.1 }.map(\.0), other: zip(v, isEdge).filter(\.1).map(\.0))
    relative = try Inference.bootstrapInterval(units: Array(v.indices), replicates: 2000, seed: seed &+ 100) { rows in
      MeanComparison.of(v, labels: labels, rows: rows).ratio - 1
    }
    self.edge = edge
    self.moran = moran
    pValue = min(1, 2 * min(edge.meanPValue, moran.pValue))
  }
}
