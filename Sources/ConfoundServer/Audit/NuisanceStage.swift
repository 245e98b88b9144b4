import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC

/// Nuisance probes (the paper's Figure 7): can the features tell apart what should not matter?
///
/// - From control wells (identical material everywhere): batch, plate, row and column, from each feature set the
///   store holds (hand features, embeddings), each against its column-permuted and label-permuted baselines with a
///   label-permutation p-value: a batch is held out and permuted as whole plates, a plate or position as wells.
/// - From sample wells: each covariate that is constant within every unit (a source lab, a donor covariate) or
///   declared with `covariates`, holding out and permuting whole units, and the plate, permuted within each unit
///   (every unit is on every plate, so plate and unit are independent).
/// A level with fewer than three units is too few to hold out: the probe is not run and the note says so.
struct NuisanceStage: AuditStage {
  static let name = "nuisance"
  static let needs: Set<AuditResource> = [.features]
  static let produces: Set<AuditResource> = []

  init() {}

  func skipReason(_ audit: Audit) -> String? {
    audit.plugin(of: .probe) == nil ? "no probe plugin is loaded" : nil
  }

  /// One probe to run: a covariate, the wells, their labels and the unit the covariate was assigned to.
  struct Probe {
    let covariate: String
    let wells: String
    let rows: [WellTable.Row]
    let labels: [String]
    let units: [String]
    let unitName: String
    var strata: [String]? = nil
    /// For a position probe of sample wells: what the position follows by design, if anything (read afterwards).
    var design: String? = nil
  }

  /// The strongest design association (Cramer's V >= 0.5, p < 0.05) of a position label with the wells' other
  /// covariates: a treatment laid out along the rows makes row predictable with no technical effect at all.
  static func designReading(_ rows: [WellTable.Row], labels: [String], position: String) throws -> String? {
    var best: (String, Double)?
    // Columns that name the well itself (well_position, Metadata_Well, pert_well) say where, not what.
    for name in Set(rows.flatMap(\.covariates.keys)).sorted() where !name.lowercased().contains("well") {
      let values = rows.map { $0.covariates[name] ?? "" }
      let levels = Set(values).count
      guard levels >= 2, levels < rows.count else { continue }
      let a = try DesignAudit.Association(target: position).test(target: labels, covariate: values, name: name)
      if a.pValue < 0.05, a.cramersV >= 0.5, a.cramersV > (best?.1 ?? 0) { best = (name, a.cramersV) }
    }
    return best.map { "\($0.0) (Cramer's V \(Say.fixed($0.1)))" }
  }

  func run(_ audit: Audit) throws -> StageCounts {
    let table = try audit.wells()
    let formats = Dictionary(audit.screen.plates.map { ($0.name, $0.format) }, uniquingKeysWith: { a, _ in a })
    var probes: [Probe] = []
    let controls = table.rows.filter { audit.design.isControl($0.covariates) }
    if !controls.isEmpty {
      let batches = controls.map { audit.design.batch(of: $0) }
      probes.append(Probe(covariate: "batch", wells: "control wells", rows: controls, labels: batches,
                          units: controls.map(\.plate), unitName: "plates"))
      probes.append(Probe(covariate: "plate", wells: "control wells", rows: controls, labels: controls.map(\.plate),
                          units: controls.map(\.key), unitName: "wells"))
      probes.append(Probe(covariate: "row", wells: "control wells", rows: controls,
                          labels: controls.map { WellPosition.rowLetters($0.position.row) }, units: controls.map(\.key),
                          unitName: "wells", strata: controls.map(\.plate)))
      probes.append(Probe(covariate: "column", wells: "control wells", rows: controls,
                          labels: controls.map { String($0.position.column + 1) }, units: controls.map(\.key),
                          unitName: "wells", strata: controls.map(\.plate)))
    }
    let samples = table.rows.filter { !audit.design.isControl($0.covariates) }
    if let unit = audit.design.unit {
      let inUnit = samples.filter { $0.covariates[unit] != nil }
      let units = inUnit.map { $0.covariates[unit]! }
      var excluded: Set<String> = [unit]
      for name in [audit.design.target, audit.design.pair, audit.design.batchColumn].compactMap({ $0 }) { excluded.insert(name) }
      let names = Set(inUnit.flatMap(\.covariates.keys)).subtracting(excluded)
      for name in names.sorted() where inUnit.allSatisfy({ $0.covariates[name] != nil }) {
        let labels = inUnit.map { $0.covariates[name]! }
        var valueOfUnit: [String: String] = [:]
        let constant = zip(units, labels).allSatisfy { u, v in
          if let seen = valueOfUnit[u] { return seen == v }
          valueOfUnit[u] = v
          return true
        }
        let declared = audit.design.covariates.contains(name)
        // Undeclared, only a grouping of the units with a few levels (a source lab, a sex), not an annotation of
        // each unit (a compound's target or mechanism).
        let levels = Set(labels).count
        guard declared || (constant && levels <= 4), levels >= 2, levels < valueOfUnit.count else { continue }
        probes.append(Probe(covariate: name, wells: "sample wells", rows: inUnit, labels: labels, units: units,
                            unitName: "\(unit) values"))
      }
      let platesOfUnit = Dictionary(grouping: inUnit, by: { $0.covariates[unit]! }).mapValues { Set($0.map(\.plate)) }
      if Set(inUnit.map(\.plate)).count >= 2, platesOfUnit.values.allSatisfy({ $0.count >= 2 }) {
        probes.append(Probe(covariate: "plate", wells: "sample wells within \(unit)", rows: inUnit, labels: inUnit.map(\.plate),
                            units: inUnit.map(\.key), unitName: "wells", strata: units))
      }
    }
    // Row and column from sample wells, read as design-driven when the treatment or another covariate follows them.
    if samples.count >= 12 {
      for (name, label) in [("row", { (r: WellTable.Row) in WellPosition.rowLetters(r.position.row) }),
                            ("column", { (r: WellTable.Row) in String(r.position.column + 1) })] {
        let labels = samples.map(label)
        probes.append(Probe(covariate: name, wells: "sample wells", rows: samples, labels: labels, units: samples.map(\.key),
                            unitName: "wells", strata: samples.map(\.plate),
                            design: try Self.designReading(samples, labels: labels, position: name)))
      }
    }
    var count = 0
    for probe in probes {
      let perLevel = Dictionary(grouping: zip(probe.labels, probe.units), by: \.0).mapValues { Set($0.map(\.1)).count }
      guard perLevel.count >= 2 else {
        if probe.wells == "control wells" {
          audit.note("\(probe.covariate) from control wells: not probed, every one of them has the same \(probe.covariate) "
                     + "(\(perLevel.keys.first.map { $0.isEmpty ? "none given" : $0 } ?? "none")).")
        }
        continue
      }
      let thin = perLevel.filter { $0.value < 3 }.sorted { $0.key < $1.key }
      guard thin.isEmpty else {
        let shown = thin.prefix(4).map { "\($0.key.isEmpty ? "(empty)" : $0.key): \($0.value)" }.joined(separator: ", ")
        audit.note("\(probe.covariate) from \(probe.wells): not probed, \(thin.count) of its \(perLevel.count) values have fewer "
                   + "than 3 \(probe.unitName) to hold out (\(shown)\(thin.count > 4 ? ", ..." : "")).")
        continue
      }
      for set in FeatureSet.ladder(table, rows: probe.rows, formats: formats) where !set.nuisance {
        try audit.context.checkCancellation()
        let (kept, columns, values) = try set.matrix(probe.rows, table: table, components: audit.components)
        guard kept.count >= 6, !columns.isEmpty, Set(kept.map { probe.labels[$0] }).count >= 2 else { continue }
        let call = ProbeCall(target: probe.covariate, columns: columns, rows: values, labels: kept.map { probe.labels[$0] },
                             groups: kept.map { probe.units[$0] }, units: kept.map { probe.units[$0] },
                             strata: probe.strata.map { s in kept.map { s[$0] } }, cv: "stratified-group-kfold")
        let result = try call.run(audit)
        let chance = 1 / Double(Set(call.labels).count)
        var evidence: JSONObject = ["chance": .double(chance), "columnPermutedScore": result.columnPermuted.map(JSONValue.double) ?? .null,
                                    "folds": .array(result.folds)]
        if probe.wells == "sample wells", ["row", "column"].contains(probe.covariate) {
          evidence["reading"] = .string(probe.design == nil ? "technical" : "design-driven")
          if let design = probe.design { evidence["followsByDesign"] = .string(design) }
        }
        let finding = AuditFinding(
          kind: "nuisance", stage: Self.name, covariate: probe.covariate,
          measure: .init(name: "\(set.name) of \(probe.wells)", role: set.role), metric: result.findingMetric,
          baseline: result.findingBaseline, pValue: result.pValue,
          units: .init(name: probe.unitName, count: Set(call.units).count),
          plates: Array(Set(kept.map { probe.rows[$0].plate })).sorted(), evidence: .object(evidence),
          significant: false, verdict: "")
        count += 1
        audit.add(FindingDraft(finding: finding, eligible: result.score > chance) { f in
          let head = "\(probe.covariate) from the \(set.name) of \(kept.count) \(probe.wells), holding out whole \(probe.unitName) "
            + "(\(f.units.count)): \(result.numbers)"
          if f.significant, let design = probe.design {
            return head + ", \(Say.pCorrected(f)). Design-driven: \(probe.covariate) follows \(design) by the layout, so the "
              + "features may tell the treatment, not the position; only control wells can show a technical \(probe.covariate) effect."
          }
          if f.significant {
            return head + ", \(Say.pCorrected(f)). \(probe.wells.prefix(1).uppercased() + probe.wells.dropFirst()) differ by "
              + "\(probe.covariate), which a model of anything correlated with it can learn."
          }
          if !result.canReachLevel { return head + "; cannot tell with this few \(probe.unitName)." }
          return head + "; no evidence that \(probe.covariate) is predictable (\(Say.pCorrected(f)))."
        })
      }
    }
    return StageCounts(computed: count)
  }
}
