import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import Statistics

/// The target probe (the paper's Figures 4 and 5): the target predicted from each feature set of the ladder side
/// by side -- density alone, focus alone, well position alone, hand features, CNN embeddings (pretrained, and the
/// random-weights baseline) -- with folds that hold out healthy/disease pairs of units (or whole units), ROC AUC per
/// fold with each fold's composition, the AUC's own bootstrap interval over units, and a label permutation test
/// that exchanges the target between whole units. Then the confound alert: a nuisance-only set that predicts the
/// target significantly, within `margin` of the best set.
struct TargetStage: AuditStage {
  static let name = "target"
  static let needs: Set<AuditResource> = [.features]
  static let produces: Set<AuditResource> = []
  static let margin = 0.05

  init() {}

  func skipReason(_ audit: Audit) -> String? {
    guard let target = audit.design.target else { return "no target was given or found" }
    guard case .binary = audit.design.targetKind else {
      return "the target \(target) is \(audit.design.targetKind?.description ?? "constant"); the target probe needs two "
        + "levels (its design associations are in the design stage)"
    }
    return audit.plugin(of: .probe) == nil ? "no probe plugin is loaded" : nil
  }

  func run(_ audit: Audit) throws -> StageCounts {
    let table = try audit.wells()
    let target = audit.design.target!
    guard case .binary(let levels) = audit.design.targetKind! else { return StageCounts() }
    let disease = levels.contains("disease") ? "disease" : levels[1]
    let wells = table.rows.filter { !audit.design.isControl($0.covariates) && $0.covariates[target].map(levels.contains) == true }
    let formats = Dictionary(audit.screen.plates.map { ($0.name, $0.format) }, uniquingKeysWith: { a, _ in a })
    let plates = Array(Set(wells.map(\.plate))).sorted()
    var scored: [(set: FeatureSet, result: ProbeCall.Result, index: Int)] = []
    let ladder = FeatureSet.ladder(table, rows: wells, formats: formats)
    let density = ladder.first { $0.role == "density" }
    for set in ladder {
      try audit.context.checkCancellation()
      let (kept, columns, values) = try set.matrix(wells, table: table, components: audit.components)
      let rows = kept.map { wells[$0] }
      let labels = rows.map { $0.covariates[target]! }
      guard Set(labels).count == 2, rows.count >= 8, !columns.isEmpty else { continue }
      let units = rows.map { audit.design.unit(of: $0) }
      var call = ProbeCall(target: target, columns: columns, rows: values, labels: labels, groups: units, units: units,
                           cv: "paired", metric: "roc_auc", disease: disease)
      if Set(units).count < 4 { call.cv = "stratified-group-kfold" }
      let result = try call.run(audit)
      // A nuisance set other than density (focus, position) is probed again with density regressed out of each
      // column: focus measures count edges, and denser sites have more of them.
      var adjusted: ProbeCall.Result?
      if set.nuisance, let density, density.name != set.name {
        let (densityKept, _, densityValues) = try density.matrix(rows, table: table, components: audit.components)
        if densityKept.count == rows.count {
          var residual = values
          let covariates = (0..<(densityValues.first?.count ?? 0)).map { j in densityValues.map { $0[j] } }
          for j in 0..<columns.count {
            let r = try LinearAdjustment.residuals(values.map { $0[j] }, covariates: covariates)
            for i in residual.indices { residual[i][j] = r[i] }
          }
          var again = call
          again.rows = residual
          adjusted = try again.run(audit)
        }
      }
      var evidence = Self.foldEvidence(result, rows: rows, audit: audit)
      if let adjusted, case .object(var o) = evidence {
        o["adjustedForDensity"] = ["rocAUC": .double(adjusted.score), "pValue": adjusted.pValue.map(JSONValue.double) ?? .null,
                                   "ciLow": adjusted.low.map(JSONValue.double) ?? .null, "ciHigh": adjusted.high.map(JSONValue.double) ?? .null]
        evidence = .object(o)
      }
      let finding = AuditFinding(
        kind: "target-probe", stage: Self.name, covariate: target, measure: .init(name: set.name, role: set.role),
        metric: result.findingMetric, baseline: result.findingBaseline, pValue: result.pValue,
        units: .init(name: audit.design.unit ?? "wells", count: Set(units).count), plates: plates,
        evidence: evidence, significant: false, verdict: "")
      let index = audit.drafts.count
      audit.add(FindingDraft(finding: finding, eligible: result.score > 0.5) { f in
        let head = "\(target) from \(set.name): \(result.numbers), over folds holding out "
          + (call.cv == "paired" ? "\(levels.joined(separator: "/")) pairs of \(audit.design.unit ?? "units")" : "whole units")
        let survives = adjusted.map { a -> String in
          let kept = (a.pValue ?? 1) < AuditCorrection.level && a.score > 0.5
          return " With density regressed out of its columns: ROC AUC \(Say.fixed(a.score)), p = \(Say.p(a.pValue)): "
            + (kept ? "it survives, so it is not density alone." : "it does not survive: \(set.role) predicts \(target) through density.")
        } ?? ""
        if f.significant { return head + "; \(target) is predictable (\(Say.pCorrected(f)))." + survives }
        if !result.canReachLevel {
          return head + "; cannot tell: with \(f.units.count) units the smallest attainable p is \(Say.fixed(result.smallestP ?? 1, 3))."
        }
        return head + "; no evidence that \(target) is predictable from it (\(Say.pCorrected(f)))."
      })
      scored.append((set, result, index))
    }
    let margin = Self.margin
    audit.afterCorrection { findings in
      let significant = scored.filter { findings[$0.index].significant && $0.result.score.isFinite }
      guard let best = scored.filter({ $0.result.score.isFinite }).max(by: { $0.result.score < $1.result.score }),
        let nuisance = significant.filter({ $0.set.nuisance }).max(by: { $0.result.score < $1.result.score }),
        nuisance.result.score >= best.result.score - margin
      else { return }
      let source = findings[nuisance.index]
      var alert = source
      alert.kind = "confound-alert"
      alert.baseline = .init(name: "ROC AUC of the best feature set (\(best.set.name))", value: best.result.score)
      alert.significant = true
      alert.verdict = "Confound alert: \(nuisance.set.name) predicts \(target) with ROC AUC \(Say.fixed(nuisance.result.score)) "
        + "(\(Say.interval(source.metric))), within \(Say.fixed(margin)) of the best feature set (\(best.set.name), "
        + "\(Say.fixed(best.result.score))). A model of \(target) can score this well on \(nuisance.set.role) alone, without "
        + "any biology: check what it uses before trusting it."
      findings.append(alert)
    }
    return StageCounts(computed: scored.count)
  }

  /// Each fold's held-out units, its ROC AUC, and the values the declared covariates take in it (source lab...).
  static func foldEvidence(_ result: ProbeCall.Result, rows: [WellTable.Row], audit: Audit) -> JSONValue {
    let folds: [JSONValue] = result.folds.map { fold in
      var o: JSONObject = [:]
      o["fold"] = fold["fold"] ?? .null
      o["rocAUC"] = fold["metrics"]?["auc"] ?? fold["auc"] ?? .null
      let groups = Set(fold["test_groups"]?.arrayValue?.compactMap(\.stringValue) ?? [])
      o["testUnits"] = .array(groups.sorted().map(JSONValue.string))
      let members = rows.filter { groups.contains(audit.design.unit(of: $0)) }
      var covariates: JSONObject = [:]
      for name in audit.design.covariates {
        covariates[name] = .array(Set(members.compactMap { $0.covariates[name] }).sorted().map(JSONValue.string))
      }
      if !covariates.isEmpty { o["covariates"] = .object(covariates) }
      return .object(o)
    }
    return ["folds": .array(folds), "columnPermutedScore": result.columnPermuted.map(JSONValue.double) ?? .null]
  }
}
