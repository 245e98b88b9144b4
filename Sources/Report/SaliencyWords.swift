import Foundation
import PlateMaps

/// The saliency result in plain words and one table, for the report's Explanations section: how well the model
/// predicts, whether its maps passed the sanity checks (and if not, why, so that no failing map passes for an
/// explanation), and how much of the saliency falls on background against how much of the crops is background.
extension SaliencyExplanation {
  var methodName: String { method == "gradcam" ? "GradCAM" : method }

  /// The paragraphs: the model's held-out ROC AUC, the sanity verdict, the background shares per class.
  public func paragraphs() -> [String] {
    var out: [String] = []
    let aucs = folds.compactMap(\.rocAUC)
    if !aucs.isEmpty {
      var text = "The \(model) (fine-tuned on cell crops inside each grouped fold, on that fold's training units only) "
        + "predicts \(target) with held-out ROC AUC \(Self.list(aucs)) over \(aucs.count) "
        + "fold\(aucs.count == 1 ? "" : "s")"
      if !permutedAUC.isEmpty { text += "; trained on permuted labels, \(Self.list(permutedAUC))" }
      out.append(text + ".")
    }
    let correlations = sanityNumbers()
    if sanity.passed {
      out.append("The \(methodName) maps passed the sanity checks (Adebayo et al. 2018): their rank correlation with "
                   + "the original maps is \(correlations).")
    } else {
      let reasons = sanity.failures.isEmpty ? "" : " " + sanity.failures.joined(separator: " ")
      out.append("The \(methodName) saliency maps failed the sanity checks (Adebayo et al. 2018), so they are not "
                   + "shown as an explanation of the \(model).\(reasons) Their rank correlation with the original "
                   + "maps is \(correlations).")
    }
    for b in background { out.append(sentence(b)) }
    if !sanity.passed && !background.isEmpty {
      out.append("These background shares are of maps that failed the sanity checks: they do not say what the model "
                   + "relies on.")
    }
    return out
  }

  /// "0.12 with the head randomised, 0.05 with the top block randomised and 0.08 for a model trained on permuted
  /// labels (Spearman; threshold 0.5)".
  func sanityNumbers() -> String {
    var parts = sanity.steps.map { s in
      "\(s.spearman.map(formatNumber) ?? "not recorded") with the \(s.randomised) randomised"
    }
    if let p = sanity.permutedLabelsSpearman {
      parts.append("\(formatNumber(p)) for a model trained on permuted labels")
    }
    let joined = parts.count > 1
      ? parts.dropLast().joined(separator: ", ") + " and " + parts.last! : parts.first ?? "not recorded"
    return joined + " (Spearman" + (sanity.threshold.map { "; threshold \(formatNumber($0))" } ?? "") + ")"
  }

  /// "On disease = 1 crops (300 crops of 6 units), 62% of the saliency falls on background, which is 48% of the
  /// area: 14 points more (95% CI 10 to 18)."
  func sentence(_ b: Background) -> String {
    let whose = b.className == "all" ? "Over all crops" : "On \(target) = \(b.className) crops"
    let counts = [b.crops.map { "\($0) crops" }, b.units.map { "\($0) units" }].compactMap { $0 }
    let more = b.excess >= 0 ? "more" : "less"
    var text = whose + (counts.isEmpty ? "" : " (\(counts.joined(separator: " of ")))") + ", "
      + "\(Self.percent(b.massShare))% of the saliency falls on background, which is \(Self.percent(b.areaShare))% of "
      + "the area: \(Self.percent(abs(b.excess))) points \(more)"
    if let lo = b.ciLow, let hi = b.ciHigh { text += " (95% CI \(Self.percent(lo)) to \(Self.percent(hi)))" }
    return text + "."
  }

  /// The sanity checks as a table: one row per randomisation step and one for permuted labels.
  public func tables() -> [Table] {
    let threshold = sanity.threshold.map(formatNumber) ?? "—"
    var rows = sanity.steps.map { s in
      ["\(s.randomised) randomised", s.layers.isEmpty ? "—" : s.layers.joined(separator: ", "),
       s.spearman.map(formatNumber) ?? "—", threshold]
    }
    if let p = sanity.permutedLabelsSpearman {
      rows.append(["trained on permuted labels", "every layer retrained", formatNumber(p), threshold])
    }
    guard !rows.isEmpty else { return [] }
    return [Table(caption: "Sanity checks of the \(methodName) maps (\(sanity.passed ? "passed" : "FAILED")): rank "
                    + "correlation of the maps with the original model's",
                  header: ["check", "layers", "Spearman ρ with the original maps", "threshold"], rows: rows,
                  sortable: false)]
  }

  /// A share in percent: whole numbers from 10 up, one decimal below ("62", "4.8", "-3.0").
  static func percent(_ share: Double) -> String {
    let v = share * 100
    let text = String(format: abs(v) >= 9.95 ? "%.0f" : "%.1f", v)
    return text == "-0.0" ? "0.0" : text
  }

  static func list(_ values: [Double]) -> String { values.map { String(format: "%.2f", $0) }.joined(separator: ", ") }
}

extension ReportSections {
  /// The supervised CNN's saliency in the Explanations section: its words and table always, its overlay figure only
  /// when the maps passed their sanity checks; a file that cannot be read is said, not skipped.
  func saliency(into s: inout Section) throws {
    guard let path = try SaliencyExplanation.path(in: builder) else { return }
    do {
      let saliency = try SaliencyExplanation(json: Data(contentsOf: builder.folder.appendingPathComponent(path)),
                                             file: path)
      s.paragraphs += saliency.paragraphs()
      s.tables += saliency.tables()
      if let figure = try saliency.saliencyOverlays() { s.figures.append(figure) }
    } catch {
      s.paragraphs.append("The supervised CNN's saliency could not be read, so none is shown: \(error)")
    }
  }
}
