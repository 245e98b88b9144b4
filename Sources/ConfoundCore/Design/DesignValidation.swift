import Foundation

extension ResolvedDesign {
  /// Checks the design against the screen's wells (each well's covariates, plate's and well's merged), throwing
  /// the first of: a control expression that matches no well, a target with fewer than two values, a unit that
  /// carries more than one target value, a pair that does not hold exactly two target values. Empty values are
  /// missing and never count as a value.
  public func validate(wells: [[String: String]]) throws {
    if let control, !wells.contains(where: control.matches) {
      let values = Set(wells.compactMap { $0[control.column] }).sorted()
      throw DesignError(
        field: "--control", message: "\"\(control)\" matches none of the \(wells.count) wells",
        fix: "Column \(control.column) holds: \(Self.list(values)). Write an expression that selects the control wells")
    }
    guard let target else {
      if let pair {
        throw DesignError(
          field: "--pair", message: "pairs (\(pair)) need a target to pair on", fix: "Name the target with --target")
      }
      return
    }
    let targetValues = Set(wells.compactMap { $0[target] }.filter { !$0.isEmpty })
    guard targetValues.count >= 2 else {
      throw DesignError(
        field: "--target",
        message:
          "column \(target) has "
          + (targetValues.count == 1 ? "one value (\(targetValues.first!))" : "no values")
          + " over the \(wells.count) wells",
        fix: "A target needs at least two values: name another column, or leave the target out to run only the"
          + " nuisance and quality analyses")
    }
    if let unit {
      let byUnit = Self.targetValues(grouping: unit, target: target, wells: wells)
      let mixed = byUnit.filter { $0.value.count > 1 }.sorted { $0.key < $1.key }
      if !mixed.isEmpty {
        let examples = mixed.prefix(3).map { "\($0.key) has \($0.value.sorted().joined(separator: " and "))" }
        throw DesignError(
          field: "--unit",
          message:
            "\(mixed.count) value\(mixed.count == 1 ? "" : "s") of \(unit) carry more than one \(target)"
            + " (\(examples.joined(separator: "; ")))",
          fix: "A unit must carry one target value (a cell line cannot be both healthy and disease): name the column"
            + " of the unit of replication with --unit")
      }
    }
    if let pair {
      let byPair = Self.targetValues(grouping: pair, target: target, wells: wells)
      let odd = byPair.filter { $0.value.count != 2 }.sorted { $0.key < $1.key }
      if !odd.isEmpty {
        let examples = odd.prefix(3).map { "\($0.key) has \(Self.list($0.value.sorted()))" }
        throw DesignError(
          field: "--pair",
          message:
            "\(odd.count) pair\(odd.count == 1 ? "" : "s") of \(pair) do not hold exactly two values of \(target)"
            + " (\(examples.joined(separator: "; ")))",
          fix:
            "Each pair must hold two target values (one healthy and one disease line): name the pairing column"
            + " with --pair"
        )
      }
    }
  }

  /// Checks that the unit and the target are constant within each well (keyed by well, its sites' covariates):
  /// a site-level covariate cannot be a unit or a target, since a well's cells all share one sample.
  public func validate(sitesByWell: [String: [[String: String]]]) throws {
    for (field, flag) in [(unit, "--unit"), (target, "--target")] {
      guard let field else { continue }
      for (well, sites) in sitesByWell.sorted(by: { $0.key < $1.key }) {
        let values = Set(sites.compactMap { $0[field] }.filter { !$0.isEmpty })
        if values.count > 1 {
          throw DesignError(
            field: flag, message: "column \(field) varies within well \(well) (\(Self.list(values.sorted())))",
            fix: "Name a column that is constant within each well (one sample per well)")
        }
      }
    }
  }

  static func targetValues(grouping column: String, target: String, wells: [[String: String]]) -> [String: Set<String>]
  {
    var groups: [String: Set<String>] = [:]
    for well in wells {
      guard let key = well[column], !key.isEmpty, let value = well[target], !value.isEmpty else { continue }
      groups[key, default: []].insert(value)
    }
    return groups
  }

  static func list(_ values: [String]) -> String {
    values.isEmpty
      ? "nothing"
      : values.prefix(12).joined(separator: ", ") + (values.count > 12 ? ", ... (\(values.count) values)" : "")
  }
}
