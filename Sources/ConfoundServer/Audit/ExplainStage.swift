import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PlateMaps
import Report

/// What the target model relies on (the paper's step 7, for models on features): the hand-features model of the
/// target probe, explained by the explainer plugin with permutation importance per feature family (density,
/// focus, intensity, texture, shape, ...: a family's columns permuted together, since correlated columns hide each
/// other one at a time) and partial dependence of the target on the most important features. An `explanation`
/// finding names the family the model leans on most, and counts when the model itself predicts the target
/// significantly (the target probe of the same feature set).
struct ExplainStage: AuditStage {
  static let name = "explain"
  static let needs: Set<AuditResource> = [.features]
  static let produces: Set<AuditResource> = []
  static let repeats = 5

  init() {}

  func skipReason(_ audit: Audit) -> String? {
    guard audit.design.target != nil else { return "no target was given or found" }
    guard case .binary = audit.design.targetKind else { return "the target has not two levels" }
    return audit.plugin(of: .explainer) == nil ? "no explainer plugin is loaded" : nil
  }

  func run(_ audit: Audit) throws -> StageCounts {
    let table = try audit.wells()
    let target = audit.design.target!
    guard case .binary(let levels) = audit.design.targetKind! else { return StageCounts() }
    let wells = table.rows.filter { !audit.design.isControl($0.covariates) && $0.covariates[target].map(levels.contains) == true }
    let columns = table.commonColumns(of: wells) { $0.isHandFeature }
    let rows = wells.filter { w in columns.allSatisfy { w.values[$0]?.isFinite ?? false } }
    guard columns.count >= 2, rows.count >= 8 else { return StageCounts() }
    let path = audit.out.appendingPathComponent("explain-\(UUID().uuidString).npy")
    try NPYArray(shape: [rows.count, columns.count], values: rows.flatMap { r in columns.map { r.values[$0]! } }).write(to: path)
    defer { try? FileManager.default.removeItem(at: path) }
    let strings = { (values: [String]) in JSONValue.array(values.map(JSONValue.string)) }
    let request = PluginsRunRequest.Params(
      kind: .explainer,
      parameters: ["method": "probe", "kind": "both", "top": 3, "n_repeats": .int(Int64(Self.repeats)), "seed": 1, "folds": 4],
      context: ["labels": strings(rows.map { $0.covariates[target]! }), "groups": strings(rows.map { audit.design.unit(of: $0) }),
                "feature_names": strings(columns), "families": strings(columns.map { table.role($0).rawValue }),
                "target": .string(target)],
      inputs: [InputRef(name: "features", npy: path.path)])
    let result = try audit.runPlugin(request).result
    let file = audit.out.appendingPathComponent("plots/explanation-hand-features.json")
    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(JSONWriter.string(result).utf8).write(to: file)
    try audit.artifact(file, kind: "table", stage: Self.name,
                       description: "permutation importance and partial dependence of the \(target) model on hand features")
    // The figures of the explanation, drawn as the report draws them, from the file just written.
    let figures = try ExplanationFigures(json: Data(contentsOf: file), file: file.path)
    for figure in [figures.importance(palette: CategoryPalette()), try figures.partialDependence()].compactMap({ $0 }) {
      try audit.write(figure, stage: Self.name)
    }
    let importance = result["permutation_importance"]?.arrayValue ?? []
    guard let top = importance.filter({ $0["family"] != nil }).max(by: { ($0["mean"]?.doubleValue ?? 0) < ($1["mean"]?.doubleValue ?? 0) }),
      let family = top["family"]?.stringValue, let drop = top["mean"]?.doubleValue
    else { return StageCounts(computed: 1) }
    let sd = top["std"]?.doubleValue ?? 0
    let half = 1.96 * sd / Double(Self.repeats).squareRoot()
    let baseline = result["baseline"]?["roc_auc"]?.doubleValue ?? .nan
    let found = (result["partial_dependence"]?.arrayValue ?? []).first { curve in
      let name = curve["feature"]?.stringValue ?? ""
      return top["features"]?.arrayValue?.contains(.string(name)) ?? false
    } ?? result["partial_dependence"]?.arrayValue?.first
    // The finding keeps the average curve; the individual curves stay in the explanation's file.
    let curve = found.map { c -> JSONValue in
      guard case .object(var o) = c else { return c }
      o["individual"] = nil
      return .object(o)
    }
    let finding = AuditFinding(
      kind: "explanation", stage: Self.name, covariate: target, measure: .init(name: "hand features", role: family),
      metric: .init(name: "drop in held-out ROC AUC when the \(family) family is permuted", value: drop,
                    ciLow: drop - half, ciHigh: drop + half),
      baseline: .init(name: "held-out ROC AUC of the hand-features model", value: baseline),
      units: .init(name: audit.design.unit ?? "wells", count: Set(rows.map { audit.design.unit(of: $0) }).count),
      plates: Array(Set(rows.map(\.plate))).sorted(),
      evidence: ["families": .array(importance.filter { $0["family"] != nil }), "partialDependence": curve ?? .null,
                 "repeats": .int(Int64(Self.repeats))],
      significant: false, verdict: "")
    audit.add(FindingDraft(finding: finding, isTest: false) { f in
      var text = "The \(target) model on hand features relies most on \(family): permuting the \(family) features drops its "
        + "held-out ROC AUC from \(Say.fixed(baseline)) to \(Say.fixed(baseline - drop)) (a drop of \(Say.fixed(drop)), "
        + "\(Say.interval(f.metric)) over \(Self.repeats) permutations)"
      if let curve, let feature = curve["feature"]?.stringValue, let grid = curve["grid"]?.arrayValue?.compactMap(\.doubleValue),
        let average = curve["average"]?.arrayValue?.compactMap(\.doubleValue), let first = grid.first, let last = grid.last,
        let p0 = average.first, let p1 = average.last
      {
        text += "; the probability of \(curve["class"]?.stringValue ?? levels[1]) goes from \(Say.fixed(p0)) to \(Say.fixed(p1)) "
          + "as \(feature) goes from \(Say.fixed(first)) to \(Say.fixed(last))"
      }
      return text + "."
    })
    audit.afterCorrection { findings in
      guard let i = findings.firstIndex(where: { $0.kind == "explanation" && $0.stage == Self.name }) else { return }
      let model = findings.first { $0.kind == "target-probe" && $0.measure.name == "hand features" }
      findings[i].significant = (model?.significant ?? false) && drop >= 0.05
      if !(model?.significant ?? false) {
        findings[i].verdict += " The model itself does not predict \(target) significantly, so this says nothing about the screen."
      }
    }
    return StageCounts(computed: 1)
  }
}
