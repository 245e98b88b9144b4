import Foundation

/// How site values are combined into a well profile; pycytominer's `aggregate` uses the median by default.
public enum ProfileAggregation: String, Sendable {
  case median, mean
}

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

  /// Writes one row per well: the `Metadata_` columns shared by all its sites, then each feature aggregated over
  /// the well's sites (NaNs and missing values left out).
  public func exportWellProfiles(to file: URL, aggregation: ProfileAggregation = .median) throws {
    let sites = try siteTable()
    let features = try featureNames()
    var wells: [String: [(id: Int64, covariates: [String: String])]] = [:]
    var order: [(plate: String, well: String)] = []
    for site in sites {
      let key = site.key.plate + "\u{0}" + site.key.well
      if wells[key] == nil { order.append((site.key.plate, site.key.well)) }
      wells[key, default: []].append((site.id, site.covariates))
    }
    // A covariate is a well's when every site of the well agrees on it.
    var covariateNames = Set<String>()
    for site in sites { covariateNames.formUnion(site.covariates.keys) }
    let covariates = covariateNames.sorted()
    var lines = [csvLine(["Metadata_Plate", "Metadata_Well"] + covariates.map(metadataName) + features)]
    for (plate, well) in order {
      let members = wells[plate + "\u{0}" + well]!
      let values = try members.map { try measurements(siteID: $0.id) }
      let shared = covariates.map { name in
        let distinct = Set(members.map { $0.covariates[name] ?? "" })
        return distinct.count == 1 ? distinct.first! : ""
      }
      let aggregated = features.map { name -> String in
        let column = values.compactMap { $0[name] }.filter { !$0.isNaN }
        return column.isEmpty ? "" : format(aggregate(column, aggregation))
      }
      lines.append(csvLine([plate, well] + shared + aggregated))
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

func aggregate(_ values: [Double], _ how: ProfileAggregation) -> Double {
  switch how {
  case .mean: return values.reduce(0, +) / Double(values.count)
  case .median:
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  }
}

/// One CSV line, quoting fields that hold a comma, quote or line break (RFC 4180).
func csvLine(_ fields: [String]) -> String {
  fields.map { field in
    field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
      ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
  }.joined(separator: ",")
}
