import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import Statistics

/// The findings of the supervised stage, from the explainer's result: the CNN's rung of the target ladder (kind
/// `target-probe`, feature set "supervised CNN"), its saliency on background (kind `saliency`) and the sanity
/// checks of its maps (kind `sanity-check`).
struct SupervisedFindings {
  let audit: Audit
  let result: JSONValue
  let target: String
  let levels: [String]
  let crops: SupervisedCrops

  static let permutations = 999

  func add() throws {
    let folds = result["folds"]?.arrayValue ?? []
    let aucs = folds.compactMap { $0["roc_auc"]?.doubleValue }
    guard !aucs.isEmpty else {
      audit.note("Supervised CNN: no fold held out wells of both classes, so it has no ROC AUC.")
      return
    }
    let mean = aucs.reduce(0, +) / Double(aucs.count)
    // The mean per-fold ROC AUC with its percentile interval over folds.
    let interval = try Inference.bootstrapInterval(units: Array(aucs.indices), seed: 11) { picked in
      picked.reduce(0) { $0 + aucs[$1] } / Double(picked.count)
    }
    let (low, high) = (interval.lower, interval.upper)
    let null = (result["permuted_labels"]?["roc_auc"]?.arrayValue ?? []).compactMap(\.doubleValue)
    let nullMean = null.isEmpty ? nil : null.reduce(0, +) / Double(null.count)
    let nullSD = nullMean.map { m in (null.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(1, null.count - 1))).squareRoot() }
    let p = permutationP(observed: mean, folds: folds)
    let units = Set(crops.wells.map { audit.design.unit(of: $0) })
    let plates = Array(Set(crops.wells.map(\.plate))).sorted()
    let positive = result["positive"]?.stringValue ?? levels[1]
    // No timing here: a finding is the same whichever machine computed it (the stage's time is in the stages table).
    let cost = "\(crops.shape[0]) crops, top layer and head fine-tuned for \(result["epochs"]?.intValue ?? 0) epochs on at most "
      + "\(result["max_train_crops"]?.intValue ?? 0) crops per fold"
    var evidence: JSONObject = [
      "folds": .array(folds.map { f in
        ["fold": f["fold"] ?? .null, "rocAUC": f["roc_auc"] ?? .null, "testUnits": f["test_units"] ?? .array([])]
      }),
      "permutedLabelAUC": .array(null.map(JSONValue.double)), "crops": .int(Int64(crops.shape[0])),
      "pValueMethod": "labels exchanged between units against the held-out well scores (the models are not retrained per permutation)",
    ]
    evidence["trainedLayers"] = result["trained_layers"]
    let finding = AuditFinding(
      kind: "target-probe", stage: SupervisedStage.name, covariate: target,
      measure: .init(name: "supervised CNN", role: "embedding"),
      metric: .init(name: "ROC AUC", value: mean, ciLow: low, ciHigh: high),
      baseline: nullMean.map { .init(name: "the same fine-tuning on labels permuted between units", value: $0, spread: nullSD) },
      pValue: p, units: .init(name: audit.design.unit ?? "wells", count: units.count), plates: plates,
      evidence: .object(evidence), significant: false, verdict: "")
    audit.add(FindingDraft(finding: finding, eligible: mean > 0.5) { f in
      let head = "\(target) from the supervised CNN (\(cost)): mean per-fold ROC AUC \(Say.fixed(mean)) "
        + "(95% CI \(Say.fixed(low)) to \(Say.fixed(high)) over folds)"
        + (nullMean.map { " against \(Say.fixed($0)) when trained on labels permuted between units" } ?? "")
      return head + (f.significant ? "; \(target) is predictable from the crops (\(Say.pCorrected(f)))."
        : "; no evidence that it predicts \(target) (\(Say.pCorrected(f))).")
    })
    addSaliency(positive: positive, units: units.count, plates: plates)
  }

  /// The share of unit-exchange permutations of the well labels whose mean per-fold ROC AUC of the held-out well
  /// scores reaches the observed one.
  func permutationP(observed: Double, folds: [JSONValue]) -> Double? {
    guard case .object(let scores)? = result["well_scores"] else { return nil }
    let byWell = Dictionary(crops.wells.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    let unitOf = byWell.mapValues { audit.design.unit(of: $0) }
    let units = Array(Set(unitOf.values)).sorted()
    let labelOf = Dictionary(byWell.values.map { (audit.design.unit(of: $0), $0.covariates[target]!) }, uniquingKeysWith: { a, _ in a })
    let positive = result["positive"]?.stringValue ?? levels[1]
    let foldWells = folds.map { f -> [String] in
      let held = Set(f["test_units"]?.arrayValue?.compactMap(\.stringValue) ?? [])
      return byWell.keys.filter { held.contains(unitOf[$0]!) }.sorted()
    }
    let score = Dictionary(scores.map { ($0.key, $0.value.doubleValue ?? .nan) }, uniquingKeysWith: { a, _ in a })
    func meanAUC(_ label: [String: String]) -> Double {
      let values = foldWells.compactMap { wells -> Double? in
        let kept = wells.filter { score[$0]?.isFinite == true }
        let truth = kept.map { label[unitOf[$0]!] == positive }
        guard Set(truth).count == 2 else { return nil }
        return try? Metrics.rocAUC(positive: truth, scores: kept.map { score[$0]! })
      }
      return values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }
    var generator = SeededGenerator(seed: 12)
    var reached = 0
    for _ in 0..<Self.permutations {
      let shuffled = units.map { labelOf[$0]! }.shuffled(using: &generator)
      if meanAUC(Dictionary(uniqueKeysWithValues: zip(units, shuffled))) >= observed - 1e-12 { reached += 1 }
    }
    return Double(reached + 1) / Double(Self.permutations + 1)
  }
}
