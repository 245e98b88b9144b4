import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import Report
import Statistics

/// The design audit of the screen itself, from its layout alone (no measurement): is the target balanced over the
/// plates, batches, rows, columns and declared covariates, or does it follow one of them? A target that follows
/// the layout (a dose diluted along the columns) makes every position effect a possible target effect and the
/// reverse, whatever the images show.
struct DesignStage: AuditStage {
  static let name = "design"
  static let needs: Set<AuditResource> = []
  static let produces: Set<AuditResource> = []

  init() {}

  func skipReason(_ audit: Audit) -> String? { audit.design.target == nil ? "no target was given or found" : nil }

  func run(_ audit: Audit) throws -> StageCounts {
    let target = audit.design.target!
    // The design on the plates, as the report's design section shows it.
    if let figure = try ReportBuilder(folder: audit.out).designFigure() { try audit.write(figure, stage: Self.name) }
    var wells: [(target: String, covariates: [String: String])] = []
    for batch in audit.screen.batches {
      for plate in batch.plates {
        for well in plate.wells {
          var c = plate.covariates.merging(well.covariates) { $1 }
          guard let value = c[target], !value.isEmpty, !audit.design.isControl(c) else { continue }
          c["@plate"] = plate.name
          c["@batch"] = audit.design.batchColumn.flatMap { c[$0] } ?? batch.name
          c["@row"] = WellPosition.rowLetters(well.position.row)
          c["@column"] = String(well.position.column + 1)
          wells.append((value, c))
        }
      }
    }
    guard wells.count >= 4 else { return StageCounts() }
    let names = [("@plate", "plate"), ("@batch", "batch"), ("@row", "row"), ("@column", "column")]
      + audit.design.covariates.map { ($0, $0) }
    let association = DesignAudit.Association(target: target)
    var tests = 0
    for (key, name) in names {
      let values = wells.map { $0.covariates[key] ?? "" }
      let levels = Set(values).count
      guard levels >= 2, levels < wells.count else { continue }
      let result = try association.test(target: wells.map(\.target), covariate: values, name: name)
      tests += 1
      let finding = AuditFinding(
        kind: "design", stage: Self.name, covariate: name, measure: .init(name: target, role: "design"),
        metric: .init(name: "Cramer's V", value: result.cramersV), baseline: .init(name: "a balanced design", value: 0),
        pValue: result.pValue, units: .init(name: "sample wells", count: wells.count),
        plates: audit.screen.plates.map(\.name).sorted(), evidence: ["test": .string(result.test), "levels": .array(result.levels.map { .int(Int64($0)) })],
        significant: false, verdict: "")
      audit.add(FindingDraft(finding: finding, eligible: result.cramersV >= 0.3) { f in
        let numbers = "Cramer's V \(Say.fixed(result.cramersV)) over \(wells.count) sample wells, \(result.test) \(Say.pCorrected(f))"
        if f.significant && result.cramersV >= 0.5 {
          return "The design confounds \(target) with \(name): \(target) follows the \(name) (\(numbers)). Any \(name) effect "
            + "(evaporation, focus, plate handling) reads as a \(target) effect and the reverse: the images cannot tell them apart."
        }
        if f.significant { return "The design associates \(target) with \(name) (\(numbers))." }
        return "The design balances \(target) over \(name) (\(numbers))."
      })
    }
    return StageCounts(computed: tests)
  }
}
