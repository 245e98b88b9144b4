import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC

/// The study design one audit uses: the lab's columns for the target, its unit of replication, pairs, controls,
/// batches and further nuisance covariates, declared (flags, design file) or inferred from conventions, and checked
/// against the screen before any stage runs.
struct AuditDesign {
  let resolved: ResolvedDesign

  var target: String? { resolved.target }
  var unit: String? { resolved.unit }
  var pair: String? { resolved.pair }
  var batchColumn: String? { resolved.batch }
  var covariates: [String] { resolved.covariates }
  var targetKind: TargetKind? { resolved.targetKind }

  /// The one rule for a control well: the design's control expression (none: no well is a control).
  func isControl(_ covariates: [String: String]) -> Bool { resolved.control?.matches(covariates) ?? false }

  /// A well's batch: the design's batch column when the well has it, else the screen's batch of its plate.
  func batch(of row: WellTable.Row) -> String { batchColumn.flatMap { row.covariates[$0] } ?? row.batch }

  /// The unit of replication a well belongs to (the cell line), or the well itself when no unit is known.
  func unit(of row: WellTable.Row) -> String { unit.flatMap { row.covariates[$0] } ?? row.key }

  /// Each member of the design, with how it was chosen.
  var members: [AuditRequest.DesignMember] {
    let inferred = Dictionary(resolved.inferred.map { ($0.field, $0.reason) }, uniquingKeysWith: { a, _ in a })
    var list: [AuditRequest.DesignMember] = []
    func add(_ member: String, _ value: String?) {
      guard let value else { return }
      list.append(.init(member: member, value: value,
                        source: inferred[member].map { "inferred from \($0)" } ?? "declared"))
    }
    add("target", target)
    add("unit", unit)
    add("pair", pair)
    add("control", resolved.control?.description)
    add("batch", batchColumn)
    for covariate in covariates { add("covariate", covariate) }
    return list
  }

  /// The design in sentences, for the summary: what the audit took each column to be.
  var sentences: [String] {
    let parts = members.map { "\($0.member) \($0.value) (\($0.source))" }
    var lines = parts.isEmpty ? [] : ["Design: " + parts.joined(separator: "; ") + "."]
    if let kind = targetKind, let target { lines.append("Target \(target) is \(kind).") }
    lines += resolved.notes.map { "Design note: \($0)." }
    return lines
  }

  /// The design from `params.designFile` overlaid with `params.design`, resolved against the screen's columns and
  /// validated against its wells; every problem is an invalid-params error naming the flag and what to do.
  static func resolve(_ params: AuditRequest.Params, screen: Screen, context: RequestContext) throws -> AuditDesign {
    do {
      var study = try params.designFile.map { try StudyDesign.load(URL(fileURLWithPath: $0)) } ?? StudyDesign()
      if let d = params.design {
        study.target = d.target ?? study.target
        study.unit = d.unit ?? study.unit
        study.pair = d.pair ?? study.pair
        study.control = d.control ?? study.control
        study.batch = d.batch ?? study.batch
        if let covariates = d.covariates { study.covariates = covariates }
      }
      let resolved = try ResolvedDesign.resolve(study, columns: screen.designColumns)
      try resolved.validate(wells: screen.wellCovariates)
      for (field, column, reason) in resolved.inferred { context.log(.info, "design: \(field) = \(column) (\(reason))") }
      return AuditDesign(resolved: resolved)
    } catch let error as DesignError {
      throw ResponseError(.invalidParams, error.description, data: ["field": .string(error.field)])
    }
  }
}
