import Foundation

extension StudyDesign {
  /// A commented TOML design for a screen with these `columns` (column -> its values over wells), for the user
  /// to edit: what the conventions inferred written out (with the convention named), fields not inferred
  /// commented out with the columns that could fill them, and every column listed with a few of its values.
  /// Loading it back (`load(_:)`) resolves to the same design as resolving an empty one.
  public static func initFile(columns: [String: [String]], source: String) -> String {
    let resolved = (try? ResolvedDesign.resolve(StudyDesign(), columns: columns)) ?? ResolvedDesign()
    let reasons = Dictionary(resolved.inferred.map { ($0.field, $0.reason) }, uniquingKeysWith: { a, _ in a })
    let distinct = columns.mapValues { Set($0.filter { !$0.isEmpty }) }
    let names = columns.keys.sorted()
    // Columns that could be a target, unit or pair: more than one value, and not one value per well.
    let labels = names.filter {
      distinct[$0]!.count >= 2 && distinct[$0]!.count < max(3, columns[$0]!.count) && $0 != resolved.plate
        && $0 != resolved.well
    }
    var out = [
      "# Study design for \(source), written by `confound design init`.",
      "# Edit it, then: confound audit SCREEN --design THIS_FILE",
      "# Each value names a column of the screen (with or without the Metadata_ prefix, in any case).",
      "# A field left commented out is inferred from the usual column names, or left out.",
      "",
      "[design]",
    ]
    func field(_ key: String, _ column: String?, _ about: String, alternatives: [String]) {
      out += ["", "# \(about)"]
      if let column {
        if let reason = reasons[key] { out.append("# (inferred from \(reason))") }
        out.append("\(key) = \(quoted(column))")
      } else {
        out.append("# \(key) = \"COLUMN\"")
      }
      let others = alternatives.filter { $0 != column }
      if !others.isEmpty { out.append("# other columns that could be it: \(others.prefix(8).joined(separator: ", "))") }
    }
    field(
      "target", resolved.target, "The target: the biology the screen is about (disease, genotype, treatment, dose).",
      alternatives: labels)
    field(
      "unit", resolved.unit, "The unit of replication the target belongs to (cell line, donor, compound).",
      alternatives: labels)
    field(
      "pair", resolved.pair, "Pairs (healthy/disease, isogenic): each value of this column names one pair.",
      alternatives: [])
    field(
      "control", resolved.control?.description,
      "The control wells: COLUMN=VALUE, COLUMN!=VALUE, COLUMN in A,B, or a bare COLUMN whose value is 1/true/yes.",
      alternatives: [])
    field("batch", resolved.batch, "Batches: plates imaged together.", alternatives: [])
    field("plate", resolved.plate, "The plate (barcode) column, when the screen is a table.", alternatives: [])
    field("well", resolved.well, "The well column, when the screen is a table.", alternatives: [])
    let used = Set(
      [resolved.target, resolved.unit, resolved.pair, resolved.batch, resolved.control?.column].compactMap { $0 })
    out += [
      "", "# More nuisance columns to probe (source lab, passage, operator), as [\"a\", \"b\"].", "covariates = []",
    ]
    let nuisance = labels.filter { !used.contains($0) }
    if !nuisance.isEmpty { out.append("# candidates: \(nuisance.prefix(12).joined(separator: ", "))") }
    out += ["", "# The columns of \(source), with a few of their values:"]
    for name in names {
      let values = distinct[name]!.sorted().map { $0.replacingOccurrences(of: "\n", with: " ") }
      let sample = values.prefix(4).joined(separator: ", ") + (values.count > 4 ? ", ..." : "")
      out.append("#   \(name) (\(values.count) value\(values.count == 1 ? "" : "s")): \(sample)")
    }
    return out.joined(separator: "\n") + "\n"
  }

  private static func quoted(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }
}
