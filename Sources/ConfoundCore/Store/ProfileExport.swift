import Foundation

extension RunStore {
  /// Writes one row per site: `Metadata_Plate`, `Metadata_Well`, `Metadata_Site`, `Metadata_<covariate>`, then
  /// every measurement name (sorted) as a column; missing values are empty cells (NaN to pandas).
  public func exportSiteProfiles(to file: URL) throws {
    let sites = try siteTable()
    let features = try featureNames()
    var covariateNames = Set<String>()
    for site in sites { covariateNames.formUnion(site.covariates.keys) }
    let covariates = covariateNames.sorted()
    var lines = [
      csvLine(["Metadata_Plate", "Metadata_Well", "Metadata_Site"] + covariates.map(metadataName) + features)
    ]
    for site in sites {
      let values = try measurements(siteID: site.id)
      lines.append(
        csvLine(
          [site.key.plate, site.key.well, String(site.key.site)] + covariates.map { site.covariates[$0] ?? "" }
            + features.map { values[$0].map(format) ?? "" }))
    }
    try write(lines, to: file)
  }

  /// Writes one row per well of the store's `WellTable` (the audit's one definition of a well's value: the mean
  /// over its sites where finite): `Metadata_Plate`, `Metadata_Well`, the covariates all its sites share, then
  /// each feature.
  public func exportWellProfiles(to file: URL) throws {
    let table = try WellTable.build(store: self)
    let features = try featureNames()
    let covariates = Set(table.rows.flatMap(\.covariates.keys)).sorted()
    var lines = [csvLine(["Metadata_Plate", "Metadata_Well"] + covariates.map(metadataName) + features)]
    for row in table.rows {
      lines.append(csvLine([row.plate, row.well] + covariates.map { row.covariates[$0] ?? "" }
                           + features.map { row.values[$0].map(format) ?? "" }))
    }
    try write(lines, to: file)
  }

  func featureNames() throws -> [String] {
    try db.query("SELECT DISTINCT name FROM measurements ORDER BY name").map { $0[0].text! }
  }

  func siteTable() throws -> [(id: Int64, key: SiteKey, covariates: [String: String])] {
    try db.query("SELECT id, plate, well, site, covariates FROM sites ORDER BY plate, well, site").map { r in
      let covariates = (try? JSONDecoder().decode([String: String].self, from: Data(r[4].text!.utf8))) ?? [:]
      return (r[0].integer!, SiteKey(plate: r[1].text!, well: r[2].text!, site: Int(r[3].integer!)), covariates)
    }
  }

  private func write(_ lines: [String], to file: URL) throws {
    do { try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file, options: .atomic) } catch {
      throw StoreError(path: file.path, message: "cannot write the profile CSV (\(error.localizedDescription))")
    }
  }
}

/// `Metadata_<name>`, unless the name already carries the prefix.
func metadataName(_ name: String) -> String { name.hasPrefix("Metadata_") ? name : "Metadata_" + name }

/// Shortest text that reads back as the same Double.
func format(_ value: Double) -> String { value.isNaN ? "" : "\(value)" }

/// One CSV line, quoting fields that hold a comma, quote or line break (RFC 4180).
func csvLine(_ fields: [String]) -> String {
  fields.map { field in
    field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
      ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
  }.joined(separator: ",")
}
