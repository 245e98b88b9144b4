import Foundation

/// What kind of values a target holds, which decides how the audit probes it (or why it skips it).
public enum TargetKind: Sendable, Equatable, CustomStringConvertible {
  /// Two levels (healthy/disease, 0/1), sorted.
  case binary(levels: [String])
  /// Three or more labels, sorted.
  case categorical(levels: [String])
  /// Three or more distinct numbers (a dose); `levels` is how many distinct values.
  case numeric(levels: Int)

  public var description: String {
    switch self {
    case .binary(let levels): return "binary (\(levels.joined(separator: " / ")))"
    case .categorical(let levels): return "categorical with \(levels.count) levels"
    case .numeric(let levels): return "numeric with \(levels) distinct values"
    }
  }

  /// The kind of a column from its values over wells (empty values are missing); nil when it has fewer than two.
  public static func infer(_ values: [String]) -> TargetKind? {
    let distinct = Set(values.filter { !$0.isEmpty })
    guard distinct.count >= 2 else { return nil }
    if distinct.count == 2 { return .binary(levels: distinct.sorted()) }
    if CovariateKind.infer(distinct) == .numeric { return .numeric(levels: distinct.count) }
    return .categorical(levels: distinct.sorted())
  }
}

/// A design matched to one screen: the actual column names, the parsed control expression, and what was
/// inferred from which convention (to print and to store, so the user sees it).
public struct ResolvedDesign: Sendable {
  public var target: String?
  public var unit: String?
  public var pair: String?
  public var batch: String?
  public var plate: String?
  public var well: String?
  public var control: ControlExpression?
  public var covariates: [String]
  /// Nil when there is no target (or it has fewer than two values, which `validate(wells:)` rejects).
  public var targetKind: TargetKind?
  /// Each field that was not given but inferred: the column (for `control`, the expression) and the convention
  /// it came from.
  public var inferred: [(field: String, column: String, reason: String)]
  /// Other things the user should know (no target given, a convention column skipped and why).
  public var notes: [String]

  public init(
    target: String? = nil, unit: String? = nil, pair: String? = nil, batch: String? = nil, plate: String? = nil,
    well: String? = nil, control: ControlExpression? = nil, covariates: [String] = [], targetKind: TargetKind? = nil,
    inferred: [(field: String, column: String, reason: String)] = [], notes: [String] = []
  ) {
    self.target = target
    self.unit = unit
    self.pair = pair
    self.batch = batch
    self.plate = plate
    self.well = well
    self.control = control
    self.covariates = covariates
    self.targetKind = targetKind
    self.inferred = inferred
    self.notes = notes
  }

  /// The design as a `StudyDesign` naming every resolved column explicitly (what `initFile` writes).
  public var explicit: StudyDesign {
    StudyDesign(
      target: target, unit: unit, pair: pair, batch: batch, plate: plate, well: well, control: control?.description,
      covariates: covariates)
  }

  /// Matches `design` to the screen's `columns` (column -> its values over all wells, one per well).
  ///
  /// Explicit names win; a named column that does not exist is a `DesignError` naming the flag and listing the
  /// columns that do. A field not given is inferred from `DesignConventions`, and every inference is recorded in
  /// `inferred`. No target is allowed: the audit then runs every nuisance and quality analysis.
  public static func resolve(_ design: StudyDesign, columns: [String: [String]]) throws -> ResolvedDesign {
    let available = Array(columns.keys)
    var resolved = ResolvedDesign()
    func explicit(_ name: String?, _ flag: String) throws -> String? {
      guard let name else { return nil }
      guard let found = StudyDesign.column(named: name, in: available) else {
        throw DesignError.missingColumn(name, flag: flag, available: available)
      }
      return found
    }
    func infer(_ field: String, _ candidates: [String], minimumValues: Int = 1) -> String? {
      for candidate in candidates {
        guard let found = StudyDesign.column(named: candidate, in: available) else { continue }
        let distinct = Set(columns[found]!.filter { !$0.isEmpty })
        guard distinct.count >= minimumValues else {
          resolved.notes.append(
            "\(field): column \(found) has \(distinct.count) value\(distinct.count == 1 ? "" : "s")"
              + " (\(distinct.sorted().prefix(3).joined(separator: ", "))), not used as the \(field)"
          )
          continue
        }
        resolved.inferred.append((field, found, "the convention \"\(candidate)\""))
        return found
      }
      return nil
    }
    resolved.target =
      try explicit(design.target, "--target") ?? infer("target", DesignConventions.targets, minimumValues: 2)
    resolved.unit = try explicit(design.unit, "--unit") ?? infer("unit", DesignConventions.units, minimumValues: 2)
    resolved.pair = try explicit(design.pair, "--pair") ?? infer("pair", DesignConventions.pairs, minimumValues: 2)
    resolved.batch = try explicit(design.batch, "--batch") ?? infer("batch", DesignConventions.batches)
    resolved.plate = try explicit(design.plate, "--plate") ?? infer("plate", DesignConventions.plates)
    resolved.well = try explicit(design.well, "--well") ?? infer("well", DesignConventions.wells)
    resolved.covariates = try design.covariates.map { try explicit($0, "--covariates")! }
    if let text = design.control {
      let expression = try ControlExpression(parsing: text)
      guard let column = StudyDesign.column(named: expression.column, in: available) else {
        throw DesignError.missingColumn(expression.column, flag: "--control", available: available)
      }
      resolved.control = expression.renamed(column)
    } else if let (expression, reason) = DesignConventions.control(columns) {
      resolved.control = expression
      resolved.inferred.append(("control", expression.description, reason))
    } else {
      resolved.notes.append(
        "no control column found (control, control_type, pert_type, or compound=DMSO): the audit runs without controls")
    }
    if resolved.batch == nil {
      resolved.notes.append("no batch column (batch, Batch_Number, batch_id): the plates are taken as one batch")
    }
    if let target = resolved.target {
      resolved.targetKind = TargetKind.infer(columns[target]!)
    } else {
      resolved.notes.append("no target given: every nuisance and quality analysis runs")
    }
    return resolved
  }
}
