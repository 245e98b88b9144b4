import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC

extension SupervisedFindings {
  /// The saliency finding (does the CNN look at background more than background's share of the crop?) and the
  /// sanity-check finding (do its maps depend on the model at all?). The saliency finding counts only when the maps
  /// pass the sanity checks, the CNN itself predicts the target, and the excess is at least `minimumExcess` with an
  /// interval above 0.
  static let minimumExcess = 0.05

  func addSaliency(positive: String, units: Int, plates: [String]) {
    let sanity = result["sanity"]
    let passed = sanity?["passed"]?.boolValue ?? false
    let failures = (sanity?["failures"]?.arrayValue ?? []).compactMap(\.stringValue)
    let steps = (sanity?["steps"]?.arrayValue ?? []).map { s in
      "\(s["randomised"]?.stringValue ?? "?") randomised: \(Say.fixed(s["spearman"]?.doubleValue ?? .nan))"
    }
    let permuted = sanity?["permuted_labels_spearman"]?.doubleValue ?? .nan
    let check = AuditFinding(
      kind: "sanity-check", stage: SupervisedStage.name, covariate: target,
      measure: .init(name: "supervised CNN GradCAM", role: "embedding"),
      metric: .init(name: "Spearman correlation with the trained model's maps, model trained on permuted labels", value: permuted),
      baseline: .init(name: "threshold the randomised maps' correlation must fall below", value: sanity?["threshold"]?.doubleValue ?? 0.5),
      units: .init(name: "crops", count: Int(sanity?["crops"]?.intValue ?? 0)), plates: plates, evidence: sanity,
      significant: false, verdict: "")
    audit.add(FindingDraft(finding: check, isTest: false) { _ in
      passed
        ? "The supervised CNN's GradCAM maps pass the sanity checks: their rank correlation with the trained model's maps "
          + "falls to \(steps.joined(separator: ", ")) and \(Say.fixed(permuted)) for a model trained on permuted labels."
        : "The supervised CNN's GradCAM maps fail the sanity checks, so they are not shown as an explanation: "
          + failures.joined(separator: "; ") + "."
    })
    guard let all = result["background"]?.arrayValue?.first(where: { $0["class"]?.stringValue == "all" }),
      let excess = all["excess"]?.doubleValue, let mass = all["mass_share"]?.doubleValue,
      let area = all["area_share"]?.doubleValue
    else {
      audit.note("Supervised CNN: no segmentation masks matched the crops, so saliency on background was not measured.")
      return
    }
    let low = all["ci_low"]?.doubleValue, high = all["ci_high"]?.doubleValue
    let perClass = (result["background"]?.arrayValue ?? []).filter { $0["class"]?.stringValue != "all" }
    let finding = AuditFinding(
      kind: "saliency", stage: SupervisedStage.name, covariate: target,
      measure: .init(name: "supervised CNN GradCAM", role: "density"),
      metric: .init(name: "share of saliency on background minus share of area that is background", value: excess,
                    ciLow: low, ciHigh: high),
      baseline: .init(name: "share of the crops' area that is background", value: area),
      units: .init(name: audit.design.unit ?? "units", count: Int(all["units"]?.intValue ?? Int64(units))), plates: plates,
      evidence: ["classes": .array(perClass), "all": all, "sanityPassed": .bool(passed)],
      significant: false, verdict: "")
    let index = audit.drafts.count
    audit.add(FindingDraft(finding: finding, isTest: false) { f in
      var text = "The supervised CNN of \(target) puts \(Say.percent(mass)) of its GradCAM saliency on background, which is "
        + "\(Say.percent(area)) of the crops' area: \(Say.fixed(excess * 100)) points "
        + (excess >= 0 ? "more" : "less") + " (95% CI \(Say.fixed((low ?? .nan) * 100)) to \(Say.fixed((high ?? .nan) * 100)), "
        + "bootstrap over \(f.units.name))"
      for c in perClass {
        text += "; on \(c["class"]?.stringValue ?? "?") crops \(Say.percent(c["mass_share"]?.doubleValue ?? .nan)) against "
          + Say.percent(c["area_share"]?.doubleValue ?? .nan)
      }
      if !passed { return text + ". The maps fail the sanity checks, so this says nothing about the model." }
      return text + "."
    })
    audit.afterCorrection { findings in
      let model = findings.first { $0.kind == "target-probe" && $0.measure.name == "supervised CNN" }
      findings[index].significant = passed && (model?.significant ?? false) && excess >= Self.minimumExcess && (low ?? -1) > 0
      if findings[index].significant {
        findings[index].verdict += " The model looks at the empty space between cells more than the cells' layout "
          + "explains: what it learned is likely density, not the cells."
      }
    }
  }
}
