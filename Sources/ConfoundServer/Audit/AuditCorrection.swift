import ConfoundProtocol
import Foundation
import Statistics

/// A finding before the audit's correction: the finding with its own p-value, whether it is a test that enters the
/// correction, and how to say it once the corrected p-value is known.
struct FindingDraft {
  var finding: AuditFinding
  /// Whether `finding.pValue` enters the correction (a descriptive result or an alert does not).
  var isTest = true
  /// A further condition of significance besides the corrected p-value (an effect that is large enough).
  var eligible = true
  /// The verdict, from the corrected finding (`pAdjusted`, `correction` and `significant` are set).
  var describe: (AuditFinding) -> String
}

/// The false-alarm control of the audit: Benjamini-Hochberg over every test the audit made, at a false discovery
/// rate of 5%. On a screen where nothing is wrong (every null true) that is also the chance of raising any finding
/// at all, which is the promise a clean screen needs; on a screen with real effects it keeps the power that a
/// family-wise correction over dozens of tests would lose.
enum AuditCorrection {
  static let level = 0.05

  static func apply(_ drafts: [FindingDraft], finalizers: [(inout [AuditFinding]) -> Void] = [])
    -> (findings: [AuditFinding], correction: String?)
  {
    let tests = drafts.indices.filter { drafts[$0].isTest && drafts[$0].finding.pValue != nil }
    let adjusted = MultipleTesting.benjaminiHochberg(tests.map { drafts[$0].finding.pValue! })
    let correction = tests.isEmpty ? nil
      : "Benjamini-Hochberg over the \(tests.count) tests of this audit, false discovery rate \(Int(level * 100))%"
    var adjustedOf: [Int: Double] = [:]
    for (i, index) in tests.enumerated() { adjustedOf[index] = adjusted[i] }
    var findings: [AuditFinding] = []
    for (index, draft) in drafts.enumerated() {
      var finding = draft.finding
      if let q = adjustedOf[index] {
        finding.pAdjusted = q
        finding.correction = correction
        finding.significant = draft.eligible && q < level
      }
      finding.verdict = draft.describe(finding)
      findings.append(finding)
    }
    for finalize in finalizers { finalize(&findings) }
    // What threatens the conclusions first: alerts, then significant findings by kind, then the rest in stage order.
    let rank = ["confound-alert": 0, "explanation": 1, "target-probe": 2, "density": 3, "nuisance": 4, "spatial": 5,
                "edge-effect": 6, "design": 7]
    let order = findings.indices.sorted { a, b in
      let ka = (findings[a].significant ? 0 : 1, findings[a].significant ? rank[findings[a].kind] ?? 9 : 0, a)
      let kb = (findings[b].significant ? 0 : 1, findings[b].significant ? rank[findings[b].kind] ?? 9 : 0, b)
      return ka < kb
    }
    return (order.map { findings[$0] }, correction)
  }
}

/// Number formats shared by the verdicts.
enum Say {
  static func fixed(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
  static func percent(_ x: Double) -> String { String(format: "%.0f%%", 100 * x) }
  static func p(_ p: Double?) -> String {
    guard let p else { return "n/a" }
    return p < 0.001 ? "< 0.001" : String(format: "%.3f", p)
  }
  /// ", p = 0.004 (0.012 after correction)" from a corrected finding.
  static func pCorrected(_ f: AuditFinding) -> String {
    guard let raw = f.pValue else { return "" }
    guard let q = f.pAdjusted else { return "p = \(p(raw))" }
    return "p = \(p(raw)), \(p(q)) after correcting for every test of the audit"
  }
  /// "95% CI 0.81 to 0.93" of a metric, or "" when it has no interval.
  static func interval(_ m: AuditFinding.Metric, format: (Double) -> String = { fixed($0) }) -> String {
    guard let low = m.ciLow, let high = m.ciHigh else { return "" }
    return "95% CI \(format(low)) to \(format(high))"
  }
}
