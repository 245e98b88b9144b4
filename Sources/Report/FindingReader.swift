import Foundation
import PlateMaps

/// Reads findings into `Verdict`s from JSON that may be of either schema: today's flat one (`effect`, `ciLow`,
/// `ciHigh`, `pValue`, `verdict`, `plates`) or the honest-findings one (`metric {name, value, ciLow, ciHigh}`,
/// `baseline`, `units {name, count}`, `pValue`, `correction`, `evidence`, `folds`). Every field may be absent or
/// null; a field of an unexpected type is ignored rather than failing the report.
public enum FindingReader {
  /// The findings of a `findings.json` file (an array of objects, or an object with a `findings` array).
  public static func read(_ data: Data, file: String) throws -> [Verdict] {
    let json: Any
    do { json = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
      throw ReportError("\(file): not JSON (\(error.localizedDescription)); rerun the audit or remove the file")
    }
    let list = (json as? [Any]) ?? ((json as? [String: Any])?["findings"] as? [Any])
    guard let list else { throw ReportError("\(file): expected an array of findings or {\"findings\": [...]}") }
    return list.compactMap { ($0 as? [String: Any]).map(verdict) }
  }

  /// One finding object as a verdict.
  public static func verdict(_ o: [String: Any]) -> Verdict {
    let kind = string(o["kind"]) ?? "finding"
    var metric = (o["metric"] as? [String: Any]).map(self.metric)
    var baseline: Verdict.Metric?
    var evidence: [String] = []
    if metric == nil, let effect = number(o["effect"]) {
      let (lo, hi) = (number(o["ciLow"]), number(o["ciHigh"]))
      switch kind {
      // Today's flat schema reuses ciLow/ciHigh: a confound alert's hold the best feature set's AUC, a target
      // probe's the interval of its leakage score (not of the AUC).
      case "confound-alert":
        metric = Verdict.Metric(name: metricName(kind), value: effect)
        baseline = lo.map { Verdict.Metric(name: "best feature set", value: $0) }
      case "target-probe":
        metric = Verdict.Metric(name: metricName(kind), value: effect)
        if let lo, let hi { evidence.append("leakage score 95% CI [\(formatNumber(lo)), \(formatNumber(hi))]") }
      default:
        metric = Verdict.Metric(name: metricName(kind), value: effect, ciLow: lo, ciHigh: hi)
      }
    }
    if baseline != nil {
    } else if let b = o["baseline"] as? [String: Any] { baseline = self.metric(b) } else if let b = number(o["baseline"]) {
      baseline = Verdict.Metric(name: "", value: b)
    }
    var units: Verdict.Units?
    if let u = o["units"] as? [String: Any] {
      units = Verdict.Units(name: string(u["name"]) ?? "units", count: number(u["count"]).map { Int($0) })
    } else if let u = string(o["units"]) {
      units = Verdict.Units(name: u, count: nil)
    }
    var correction = string(o["correction"])
    // The corrected p-value goes with the correction's name, so the raw one is never read as corrected.
    if let q = number(o["pAdjusted"]), let c = correction { correction = "\(formatNumber(q)) after \(c)" }
    if correction == nil, let c = o["correction"] as? [String: Any] {
      correction = [string(c["method"]), number(c["tests"]).map { "over \(Int($0)) tests" }].compactMap { $0 }
        .joined(separator: " ")
    }
    if let e = o["evidence"] as? [Any] {
      evidence += e.compactMap { string($0) ?? compact($0) }
    } else if let e = string(o["evidence"]) {
      evidence.append(e)
    } else if let e = o["evidence"] as? [String: Any] {
      // Scalars and short lists read as text; per-fold lists are drawn as folds, long structures stay in the JSON.
      for key in e.keys.sorted() where key != "folds" {
        guard let text = string(e[key]) ?? compact(e[key]!), text.count <= 160 else { continue }
        evidence.append("\(key): \(text)")
      }
    }
    let evidenceFolds = (o["evidence"] as? [String: Any])?["folds"] as? [Any]
    // Each fold's value of the finding's own metric: a probe's folds carry both ROC AUC and balanced accuracy.
    let metricName = metric?.name.lowercased() ?? ""
    let foldKeys = metricName.contains("balanced") ? ["value", "balanced_accuracy", "balancedAccuracy"]
      : metricName.contains("auc") ? ["value", "rocAUC", "auc"]
      : ["value", "rocAUC", "auc", "score", "balanced_accuracy"]
    let folds = (o["folds"] as? [Any] ?? evidenceFolds ?? []).compactMap { f -> Verdict.Fold? in
      guard let f = f as? [String: Any], let v = foldKeys.lazy.compactMap({ number(f[$0]) }).first else { return nil }
      let units = (f["testUnits"] as? [Any])?.compactMap(string).joined(separator: ", ")
      return Verdict.Fold(value: v, composition: string(f["composition"]) ?? string(f["heldOut"]) ?? units ?? "")
    }
    let plates = (o["plates"] as? [Any] ?? []).compactMap(string)
    return Verdict(kind: kind, text: string(o["verdict"]) ?? string(o["text"]) ?? kind,
                   covariate: string(o["covariate"]), measure: measure(o["measure"]), metric: metric, baseline: baseline,
                   units: units, pValue: number(o["pValue"]) ?? number(o["p_value"]), correction: correction,
                   evidence: evidence, plates: plates, section: string(o["section"]), folds: folds)
  }

  /// What was measured: a name, or (the audit's schema) an object `{name, role}`.
  static func measure(_ v: Any?) -> String? { string(v) ?? string((v as? [String: Any])?["name"]) }

  static func metric(_ o: [String: Any]) -> Verdict.Metric {
    Verdict.Metric(name: string(o["name"]) ?? "", value: number(o["value"]), ciLow: number(o["ciLow"]),
                   ciHigh: number(o["ciHigh"]))
  }

  /// What today's flat `effect` measures, by kind.
  static func metricName(_ kind: String) -> String {
    switch kind {
    case "target-probe", "confound-alert": return "ROC AUC"
    case "nuisance", "nuisance-probe": return "leakage score"
    case "density": return "ratio"
    default: return "effect"
    }
  }

  static func string(_ v: Any?) -> String? {
    if let s = v as? String { return s }
    return nil
  }

  /// A finite number (JSON numbers, or strings such as "0.03"); NaN, null and others are absent.
  static func number(_ v: Any?) -> Double? {
    if let n = v as? NSNumber { return n.doubleValue.isFinite ? n.doubleValue : nil }
    if let s = v as? String, let d = Double(s), d.isFinite { return d }
    return nil
  }

  static func compact(_ v: Any) -> String? {
    // A flat object of scalars reads as words ("rocAUC 0.331, pValue 0.995"), not as JSON.
    if let o = v as? [String: Any], !o.isEmpty {
      let parts = o.keys.sorted().compactMap { key in (string(o[key]) ?? number(o[key]).map(formatNumber)).map { "\(key) \($0)" } }
      if parts.count == o.count { return parts.joined(separator: ", ") }
    }
    guard JSONSerialization.isValidJSONObject(v),
      let data = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys])
    else { return number(v).map { formatNumber($0) } }
    return String(decoding: data, as: UTF8.self)
  }

}

/// A report that cannot be built, with the file or field to fix.
public struct ReportError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
