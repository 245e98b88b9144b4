import Foundation

/// A resolved design as the audit prints and stores it: every field's column (or none), where it came from,
/// the target's kind and the notes. Codable, so the run store can keep it as JSON.
public struct DesignSummary: Codable, Sendable, Equatable {
  /// One field of the design: its column (the expression for `control`), and whether it was inferred and how.
  public struct Field: Codable, Sendable, Equatable {
    public let field: String
    public let column: String?
    /// `given`, `inferred from the convention "disease"`, or `none`.
    public let source: String
  }

  public let fields: [Field]
  /// `TargetKind.description`, or nil with no target.
  public let targetKind: String?
  public let notes: [String]
}

extension ResolvedDesign {
  /// What to print and store: one entry per field, in the order target, unit, pair, control, batch, plate,
  /// well, covariates.
  public var summary: DesignSummary {
    let reasons = Dictionary(inferred.map { ($0.field, $0.reason) }, uniquingKeysWith: { a, _ in a })
    let values: [(String, String?)] = [
      ("target", target), ("unit", unit), ("pair", pair), ("control", control?.description), ("batch", batch),
      ("plate", plate), ("well", well), ("covariates", covariates.isEmpty ? nil : covariates.joined(separator: ",")),
    ]
    let fields = values.map { field, column in
      DesignSummary.Field(
        field: field, column: column,
        source: column == nil ? "none" : reasons[field].map { "inferred from \($0)" } ?? "given")
    }
    return DesignSummary(fields: fields, targetKind: targetKind?.description, notes: notes)
  }

  /// The summary as lines for a terminal: `target: disease (inferred from the convention "disease")`.
  public var summaryLines: [String] {
    let s = summary
    return s.fields.map { f in
      guard let column = f.column else { return "\(f.field): none" }
      let kind = f.field == "target" ? s.targetKind.map { ", \($0)" } ?? "" : ""
      return "\(f.field): \(column) (\(f.source)\(kind))"
    } + s.notes.map { "note: \($0)" }
  }
}
