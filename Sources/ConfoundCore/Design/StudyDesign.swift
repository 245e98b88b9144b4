import Foundation

/// A study's design as the lab declares it: which columns hold the target (the biology), the unit of
/// replication the target belongs to, pairs, controls, batches and the extra nuisance covariates to probe.
///
/// Every field is a column name as the user wrote it (matched to the screen's columns by
/// `StudyDesign.column(named:in:)`); nil means "infer it from the conventions labs use" (see `ResolvedDesign`).
/// Comes from the audit's flags (`--target`, `--unit`, `--pair`, `--control`, `--batch`, `--covariates`) or from
/// a design file (`StudyDesign.load(_:)`).
public struct StudyDesign: Codable, Sendable, Equatable {
  public var target: String?
  public var unit: String?
  public var pair: String?
  public var batch: String?
  public var plate: String?
  public var well: String?
  /// The control expression's text (`Metadata_control_type=negcon`, `compound in DMSO,water`, `control`).
  public var control: String?
  public var covariates: [String]

  public init(
    target: String? = nil, unit: String? = nil, pair: String? = nil, batch: String? = nil, plate: String? = nil,
    well: String? = nil, control: String? = nil, covariates: [String] = []
  ) {
    self.target = target
    self.unit = unit
    self.pair = pair
    self.batch = batch
    self.plate = plate
    self.well = well
    self.control = control
    self.covariates = covariates
  }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case target, unit, pair, batch, plate, well, control, covariates
  }

  /// Every key may be missing; `covariates` defaults to none.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    target = try c.decodeIfPresent(String.self, forKey: .target)
    unit = try c.decodeIfPresent(String.self, forKey: .unit)
    pair = try c.decodeIfPresent(String.self, forKey: .pair)
    batch = try c.decodeIfPresent(String.self, forKey: .batch)
    plate = try c.decodeIfPresent(String.self, forKey: .plate)
    well = try c.decodeIfPresent(String.self, forKey: .well)
    control = try c.decodeIfPresent(String.self, forKey: .control)
    covariates = try c.decodeIfPresent([String].self, forKey: .covariates) ?? []
  }

  /// This design with every field `flags` sets put over it: a design file's fields, overridden by the flags
  /// given beside `--design` (non-nil fields, and covariates when there are any).
  public func overridden(by flags: StudyDesign) -> StudyDesign {
    StudyDesign(
      target: flags.target ?? target, unit: flags.unit ?? unit, pair: flags.pair ?? pair, batch: flags.batch ?? batch,
      plate: flags.plate ?? plate, well: flags.well ?? well, control: flags.control ?? control,
      covariates: flags.covariates.isEmpty ? covariates : flags.covariates)
  }

  /// The flag that sets each field, for messages.
  static let flags: [String: String] = [
    "target": "--target", "unit": "--unit", "pair": "--pair", "batch": "--batch", "plate": "--plate",
    "well": "--well", "control": "--control", "covariates": "--covariates",
  ]

  /// The screen's column that `name` means: the exact name, else the name with or without the `Metadata_`
  /// prefix (`disease` finds `Metadata_disease`, `Metadata_Plate` finds `Plate`), else either of those ignoring
  /// case. Nil when none exists. The first rule that finds a column wins, so an exact name is never shadowed.
  public static func column(named name: String, in available: [String]) -> String? {
    let prefix = "Metadata_"
    let other = name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : prefix + name
    if available.contains(name) { return name }
    if available.contains(other) { return other }
    let lowered = [name.lowercased(), other.lowercased()]
    for candidate in lowered {
      if let found = available.first(where: { $0.lowercased() == candidate }) { return found }
    }
    return nil
  }
}

/// A design that cannot be used: the field (the flag, or the design file and line), what is wrong, and what to do.
public struct DesignError: Error, CustomStringConvertible, Sendable, Equatable {
  /// The flag (`--target`, `--control`, ...) or `FILE:LINE` of a design file.
  public let field: String
  public let message: String
  /// What to do about it.
  public let fix: String

  public init(field: String, message: String, fix: String) {
    self.field = field
    self.message = message
    self.fix = fix
  }

  public var description: String { "\(field): \(message). \(fix)" }

  /// A named column that is not in the screen, listing the columns that are.
  static func missingColumn(_ name: String, flag: String, available: [String]) -> DesignError {
    DesignError(
      field: flag, message: "no column \"\(name)\" in the screen",
      fix: "Name one of the columns it has: \(available.sorted().joined(separator: ", "))")
  }
}
