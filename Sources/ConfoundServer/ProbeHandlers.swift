import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost
import Statistics

extension HostHandlers {
  /// `probe/table` (a probe plugin on a feature table read here) and `design/audit` (platemap associations).
  static func registerProbe(on server: HostServer, registry: PluginRegistry) {
    server.on(ProbeTableRequest.self) { params, context in
      context.beginProgress("probe \(params.target)")
      let table = try LayoutTable(path: params.table)
      let input = try ProbeTableInput(table: table, params: params)
      let scratch = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("confound-probe-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(at: scratch) }
      let npy = scratch.appendingPathComponent("features.npy")
      try NPYArray(shape: [input.rows.count, input.featureNames.count], values: input.values).write(to: npy)
      let run = PluginsRunRequest.Params(
        plugin: params.plugin, kind: .probe, parameters: params.parameters, context: .object(input.context),
        inputs: [InputRef(name: "features", npy: npy.path)], outputDir: scratch.path)
      let response = try registry.run(
        run, isCancelled: { context.token.isCancelled },
        progress: { fraction, message in context.reportProgress(fraction, message) },
        log: { level, message in context.log(HostLog.Level(rawValue: Int(level)) ?? .info, message) })
      let design = PositionDesign(table: table, rows: input.rows, features: Set(input.featureNames), params: params)
      let associations = try design.associations()
      return ProbeTableRequest.Response(
        plugin: response.plugin, result: response.result, table: input.summary,
        designAssociations: associations, interpretation: design.interpret(response.result, associations))
    }
    server.on(DesignAuditRequest.self) { params, _ in
      try DesignAudit(table: try LayoutTable(path: params.platemap), params: params).run()
    }
  }
}

/// A CSV table with errors phrased for the client, and the row and column derived from a well column.
struct LayoutTable {
  let csv: CSVTable
  /// The column holding well names like "A01" (`Metadata_Well`, `well_position`), if any.
  let wellColumn: Int?

  init(path: String) throws {
    do {
      csv = try CSVTable(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw ResponseError(.badInputFile, "\(error)", data: ["file": .string(path)])
    }
    wellColumn = csv.columns.firstIndex { ["metadata_well", "well_position", "well", "metadata_well_position"]
      .contains($0.lowercased()) }
  }

  /// The values of a column, or of `row` / `column` derived from the well name ("B07" -> "B", "07").
  func values(_ name: String, field: String) throws -> [String] {
    if let c = csv.column(name) { return csv.rows.map { $0[c] } }
    if let w = wellColumn, ["row", "column"].contains(name.lowercased()) {
      return csv.rows.map { well in
        let letters = well[w].prefix { $0.isLetter }
        return name.lowercased() == "row" ? String(letters) : String(well[w].dropFirst(letters.count))
      }
    }
    let close = csv.columns.sorted { editDistance($0.lowercased(), name.lowercased()) < editDistance($1.lowercased(), name.lowercased()) }
    throw ResponseError(
      .invalidParams, "\(field): \(csv.file) has no column \"\(name)\"; close matches: \(close.prefix(5).joined(separator: ", "))",
      data: ["field": .string(field), "column": .string(name), "matches": .array(close.prefix(5).map(JSONValue.string))])
  }
}

/// The rows, feature matrix and context a `probe/table` request selects from its table.
struct ProbeTableInput {
  var rows: [Int]
  var featureNames: [String]
  /// rows x features, row-major.
  var values: [Double]
  var context: JSONObject
  var summary: ProbeTableRequest.TableSummary

  init(table: LayoutTable, params: ProbeTableRequest.Params) throws {
    let csv = table.csv
    rows = Array(csv.rows.indices)
    if let control = params.control {
      let parts = control.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2 else {
        throw ResponseError(.invalidParams, "control: expected COLUMN=VALUE, got \"\(control)\"", data: ["field": "control"])
      }
      let column = try table.values(parts[0], field: "control")
      rows = rows.filter { column[$0] == parts[1] }
      guard !rows.isEmpty else {
        throw ResponseError(.invalidParams, "control: no row of \(csv.file) has \(parts[0]) = \"\(parts[1])\"", data: ["field": "control"])
      }
    }
    let candidates = try Self.featureColumns(csv, selector: params.features)
    var kept: [Int] = []
    var dropped: [String] = []
    for c in candidates {
      if rows.allSatisfy({ Double(csv.rows[$0][c]).map(\.isFinite) ?? false }) { kept.append(c) } else { dropped.append(csv.columns[c]) }
    }
    guard !kept.isEmpty else {
      throw ResponseError(.invalidParams, "features: no numeric feature column without missing values in \(csv.file)", data: ["field": "features"])
    }
    featureNames = kept.map { csv.columns[$0] }
    values = rows.flatMap { r in kept.map { Double(csv.rows[r][$0])! } }
    let selected = rows
    func pick(_ name: String?, _ field: String) throws -> [String]? {
      try name.map { n in let v = try table.values(n, field: field); return selected.map { v[$0] } }
    }
    let own = selected.map { String($0) }
    context = [
      "target": .string(params.target),
      "labels": .array(try pick(params.target, "target")!.map(JSONValue.string)),
      "groups": .array((try pick(params.groups, "groups") ?? own).map(JSONValue.string)),
      "feature_names": .array(featureNames.map(JSONValue.string)),
    ]
    if let units = try pick(params.units, "units") { context["units"] = .array(units.map(JSONValue.string)) }
    if let strata = try pick(params.strata, "strata") { context["strata"] = .array(strata.map(JSONValue.string)) }
    summary = .init(rows: csv.rows.count, rowsUsed: rows.count, featuresUsed: kept.count, featuresDropped: dropped.count,
                    droppedNames: dropped)
  }

  /// Columns named by a prefix or comma list, or every column not starting `Metadata_` (numeric ones survive later).
  static func featureColumns(_ csv: CSVTable, selector: String?) throws -> [Int] {
    guard let selector, !selector.isEmpty else {
      return csv.columns.indices.filter { !csv.columns[$0].hasPrefix("Metadata_") }
    }
    if selector.contains(",") {
      return try selector.split(separator: ",").map { name in
        guard let c = csv.column(String(name)) else {
          throw ResponseError(.invalidParams, "features: \(csv.file) has no column \"\(name)\"", data: ["field": "features"])
        }
        return c
      }
    }
    let matching = csv.columns.indices.filter { csv.columns[$0].hasPrefix(selector) || csv.columns[$0] == selector }
    guard !matching.isEmpty else {
      throw ResponseError(.invalidParams, "features: no column of \(csv.file) starts with \"\(selector)\"", data: ["field": "features"])
    }
    return matching
  }
}

/// `design/audit`: the target against each covariate of a layout, from the layout alone.
struct DesignAudit {
  let table: LayoutTable
  let params: DesignAuditRequest.Params

  func run() throws -> DesignAuditRequest.Response {
    let target = try table.values(params.target, field: "target")
    let targetColumn = table.csv.column(params.target)
    var names = params.covariates
      ?? table.csv.columns.indices.filter { $0 != targetColumn && $0 != table.wellColumn }.map { table.csv.columns[$0] }
    if params.covariates == nil, table.wellColumn != nil {
      names += ["row", "column"].filter { $0 != params.target.lowercased() }
    }
    var associations: [DesignAuditRequest.Association] = []
    for name in names {
      let covariate = try table.values(name, field: "covariates")
      let levels = Set(covariate).count
      // A constant column, or an identifier with a value per row, says nothing about the design.
      guard levels >= 2, params.covariates != nil || levels < covariate.count else { continue }
      associations.append(try associate(target: target, covariate: covariate, name: name))
    }
    associations.sort { $0.cramersV > $1.cramersV }
    return .init(target: params.target, rows: target.count, associations: associations)
  }

  func associate(target: [String], covariate: [String], name: String) throws -> DesignAuditRequest.Association {
    try Association(target: params.target).test(target: target, covariate: covariate, name: name)
  }

  /// The association test of a target with one covariate (chi-square, Fisher's exact test for 2 x 2), for a
  /// platemap file or the audit's own wells.
  struct Association {
    let target: String

    func test(target: [String], covariate: [String], name: String) throws -> DesignAuditRequest.Association {
      let rowLevels = Array(Set(target)).sorted()
      let columnLevels = Array(Set(covariate)).sorted()
      let r = Dictionary(uniqueKeysWithValues: rowLevels.enumerated().map { ($1, $0) })
      let c = Dictionary(uniqueKeysWithValues: columnLevels.enumerated().map { ($1, $0) })
      var counts = [[Int]](repeating: [Int](repeating: 0, count: columnLevels.count), count: rowLevels.count)
      for (t, v) in zip(target, covariate) { counts[r[t]!][c[v]!] += 1 }
      let chi = try ChiSquareTest(table: counts)
      let fisher = counts.count == 2 && columnLevels.count == 2 ? try FisherExactTest(table: counts) : nil
      let p = fisher?.pValue ?? chi.pValue
      let numbers = "Cramer's V \(String(format: "%.2f", chi.cramersV)), \(p < 0.001 ? "p < 0.001" : String(format: "p = %.3f", p))"
      let verdict: String
      if p < 0.05 && chi.cramersV >= 0.5 {
        verdict = "\(self.target) is confounded with \(name): \(numbers)"
      } else if p < 0.05 {
        verdict = "\(self.target) is associated with \(name): \(numbers)"
      } else {
        verdict = "no evidence that \(self.target) depends on \(name): \(numbers)"
      }
      return .init(covariate: name, cramersV: chi.cramersV, pValue: p, test: fisher == nil ? "chi-square" : "fisher",
                   levels: [rowLevels.count, columnLevels.count], verdict: verdict)
    }
  }
}

/// Design-driven or technical? A well position (row, column) predicted across treated wells may only mean that
/// treatment follows the layout (on LINCS SQ00015054 compound tracks row and dose tracks column). The target is
/// associated with every other non-feature column of the rows used; a strong association means the prediction
/// cannot be told from a design effect, and only control wells (`control`) can show a technical one.
struct PositionDesign {
  let table: LayoutTable
  let rows: [Int]
  let features: Set<String>
  let params: ProbeTableRequest.Params

  /// Position-like targets only: row and column, derived or named so.
  var applies: Bool {
    let name = params.target.lowercased()
    return ["row", "column", "col"].contains { name == $0 || name.hasSuffix("_" + $0) }
  }

  /// Strong associations (p < 0.05, Cramer's V >= 0.5) of the target with the other columns, strongest first.
  func associations() throws -> [DesignAuditRequest.Association]? {
    guard applies else { return nil }
    let target = try table.values(params.target, field: "target")
    let audit = DesignAudit(table: table, params: .init(platemap: params.table, target: params.target))
    var found: [DesignAuditRequest.Association] = []
    for (c, name) in table.csv.columns.enumerated()
    where !features.contains(name) && c != table.wellColumn && name != params.target && name != params.units {
      let covariate = rows.map { table.csv.rows[$0][c] }
      let levels = Set(covariate).count
      guard levels >= 2, levels < rows.count else { continue }
      let a = try audit.associate(target: rows.map { target[$0] }, covariate: covariate, name: name)
      if a.pValue < 0.05 && a.cramersV >= 0.5 { found.append(a) }
    }
    return found.sorted { $0.cramersV > $1.cramersV }
  }

  /// One sentence saying which, or nil when the target was not predictable or is not a position.
  func interpret(_ result: JSONValue, _ associations: [DesignAuditRequest.Association]?) -> String? {
    guard let associations, result["verdict"]?.stringValue?.hasPrefix("\(params.target) is predictable") == true else {
      return nil
    }
    if associations.isEmpty {
      return "technical: in these rows no other column follows \(params.target), so its predictability is a position "
        + "effect of the screen (plate handling, imaging), not of the design"
    }
    let named = associations.prefix(3).map { "\($0.covariate) (Cramer's V \(String(format: "%.2f", $0.cramersV)))" }
    return "design-driven: in these rows \(named.joined(separator: ", ")) follow \(params.target), so the features "
      + "may predict \(params.target) through the treatments; probe control wells only (--control) to test for a "
      + "technical position effect"
  }
}

/// Levenshtein distance, for suggesting the column a user meant.
func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a)
  let b = Array(b)
  var previous = Array(0...b.count)
  for i in 1...max(a.count, 1) where !a.isEmpty {
    var current = [i] + [Int](repeating: 0, count: b.count)
    for j in 1...max(b.count, 1) where !b.isEmpty {
      current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.count]
}
