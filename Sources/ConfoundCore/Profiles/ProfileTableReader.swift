import Foundation

/// Reads profiles tables (measurements with no pixels) and tells them from LoadData CSVs by their columns.
///
/// A LoadData CSV has `FileName_`/`PathName_`/`URL_` and `Metadata_` columns and no measurements; a profiles
/// table has measurement columns: a CellProfiler per-site `Image.csv` (`ImageQuality_*`, `Count_*`, also
/// `FileName_*`), pycytominer per-well profiles (`Metadata_*` and `Cells_`/`Nuclei_`/`Cytoplasm_*`), or a
/// CellProfiler / cytominer-database SQLite (`ProfileSQLiteReader`). Plate, well and site columns are found by
/// the conventions in `ProfileColumns`, or named by the caller.
public enum ProfileTableReader {
  static let sqliteExtensions: Set<String> = ["sqlite", "sqlite3", "db"]

  /// Whether `url` is a profiles table rather than a LoadData CSV (or a folder); reads only what it needs.
  public static func isProfilesTable(_ url: URL) throws -> Bool {
    let ext = extensionOf(url)
    if ext == "parquet" { throw parquetError(url) }
    if sqliteExtensions.contains(ext) { return true }
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue else {
      return false
    }
    return ProfileColumns.hasMeasurements(try headerColumns(url))
  }

  /// Reads the table at `url` (CSV, CSV.gz or SQLite by extension); `plateColumn` and `wellColumn` override the
  /// conventions. Errors name the file and, for missing columns, list the columns it has.
  public static func read(_ url: URL, plateColumn: String? = nil, wellColumn: String? = nil) throws -> ProfileTable {
    let ext = extensionOf(url)
    if ext == "parquet" { throw parquetError(url) }
    if sqliteExtensions.contains(ext) {
      return try ProfileSQLiteReader.read(url, plateColumn: plateColumn, wellColumn: wellColumn)
    }
    let table: CSVTable
    do { table = try CSVTable(contentsOf: url) } catch let error as CSVError {
      throw ProfileError(file: url.path, message: error.message)
    }
    let numeric = table.columns.indices.map { c in table.rows.allSatisfy { ProfileColumns.number($0[c]) != nil } }
    let plan = try ProfileColumns.plan(
      table.columns, isNumeric: { numeric[$0] }, file: url.path, plateColumn: plateColumn, wellColumn: wellColumn)
    var rows: [ProfileRow] = []
    rows.reserveCapacity(table.rows.count)
    for (r, fields) in table.rows.enumerated() {
      let line = table.lines[r]
      let site = try plan.site.map { c -> Int in
        guard
          let number = Int(fields[c].trimmingCharacters(in: .whitespaces))
            ?? Double(fields[c]).flatMap(Int.init(exactly:))
        else { throw ProfileError(file: "\(url.path):\(line)", message: "site \"\(fields[c])\" is not a number") }
        return number
      }
      rows.append(
        ProfileRow(
          plate: fields[plan.plate], well: fields[plan.well], site: site,
          metadata: Dictionary(plan.metadata.map { ($0.name, fields[$0.index]) }, uniquingKeysWith: { a, _ in a }),
          values: plan.features.map { ProfileColumns.number(fields[$0.index]) ?? .nan }))
    }
    let isImageTable = table.columns.contains { $0.hasPrefix("ImageQuality_") || $0.hasPrefix("Count_") }
    return ProfileTable(
      level: plan.site != nil ? .site : .well, source: url,
      format: isImageTable && plan.site != nil ? "cellprofiler-image-csv" : "pycytominer",
      metadataColumns: plan.metadata.map(\.name), features: plan.features.map(\.name),
      roles: plan.features.map(\.role), rows: rows)
  }

  static func extensionOf(_ url: URL) -> String {
    let ext = url.pathExtension.lowercased()
    return ext == "gz" ? url.deletingPathExtension().pathExtension.lowercased() : ext
  }

  static func parquetError(_ url: URL) -> ProfileError {
    ProfileError(
      file: url.path,
      message: "Parquet is not supported (no Parquet library is built in); convert it to CSV with pandas:"
        + " python -c \"import pandas as pd; pd.read_parquet('\(url.lastPathComponent)').to_csv('profiles.csv.gz',"
        + " index=False)\" and audit the CSV")
  }

  /// The header row only (the whole file is decompressed for .gz, but only the first line is parsed).
  static func headerColumns(_ url: URL) throws -> [String] {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw ProfileError(file: url.path, message: "cannot read the file (\(error.localizedDescription))")
    }
    let bytes = data.starts(with: [0x1f, 0x8b]) ? try Gunzip.decompress([UInt8](data), file: url.path) : [UInt8](data)
    let end = bytes.firstIndex { $0 == 0x0A || $0 == 0x0D } ?? bytes.endIndex
    return try CSVTable(text: String(decoding: bytes[..<end], as: UTF8.self), file: url.path).columns
  }
}

/// How the columns of a profiles table divide into placement (plate, well, site), metadata and features.
enum ProfileColumns {
  struct Plan {
    var plate: Int
    var well: Int
    var site: Int?
    var metadata: [(index: Int, name: String)]
    var features: [(index: Int, name: String, role: FeatureRole)]
  }

  static let plates = ["Metadata_Plate", "Image_Metadata_Plate", "Metadata_Assay_Plate_Barcode"]
  static let wells = ["Metadata_Well", "Image_Metadata_Well", "Metadata_well_position"]
  static let sites = ["Metadata_Site", "Image_Metadata_Site"]
  /// Values that mean "no value" in the tables CellProfiler, pandas and R write.
  static let missing: Set<String> = ["", "nan", "NaN", "NA", "N/A", "null", "NULL", "None", "inf", "-inf"]

  /// The number in a field, NaN for a missing value, nil for text.
  static func number(_ field: String) -> Double? {
    if let d = Double(field) { return d }
    let trimmed = field.trimmingCharacters(in: .whitespaces)
    if missing.contains(trimmed) { return .nan }
    return Double(trimmed)
  }

  /// Whether some column is a CellProfiler measurement (a known module, or an object's feature), which a LoadData
  /// CSV never has.
  static func hasMeasurements(_ columns: [String]) -> Bool {
    columns.contains { name in
      guard let role = FeatureRole.infer(cellProfilerName: name) else { return false }
      return role != .other || ["Cells_", "Nuclei_", "Cytoplasm_"].contains { name.hasPrefix($0) }
    }
  }

  /// `Image_Metadata_X` -> `Metadata_X`: the same column whichever exporter wrote it.
  static func metadataName(_ column: String) -> String {
    column.hasPrefix("Image_Metadata_") ? String(column.dropFirst("Image_".count)) : column
  }

  static func plan(
    _ columns: [String], isNumeric: (Int) -> Bool, file: String, plateColumn: String?, wellColumn: String?
  ) throws -> Plan {
    func find(_ given: String?, _ conventions: [String], what: String, flag: String) throws -> Int? {
      let names = given.map { [$0] } ?? conventions
      for name in names {
        if let found = StudyDesign.column(named: name, in: columns) { return columns.firstIndex(of: found) }
      }
      guard given == nil else { throw missingColumn(given!, what: what, flag: flag, columns: columns, file: file) }
      return nil
    }
    guard let plate = try find(plateColumn, plates, what: "plate", flag: "--plate") else {
      throw missingColumn(nil, what: "plate", flag: "--plate", columns: columns, file: file)
    }
    guard let well = try find(wellColumn, wells, what: "well", flag: "--well") else {
      throw missingColumn(nil, what: "well", flag: "--well", columns: columns, file: file)
    }
    let site = try find(nil, sites, what: "site", flag: "")
    var plan = Plan(plate: plate, well: well, site: site, metadata: [], features: [])
    for (i, name) in columns.enumerated() where i != plate && i != well && i != site {
      let isMetadata = name.hasPrefix("Metadata_") || name.hasPrefix("Image_Metadata_")
      let role = isMetadata ? nil : FeatureRole.infer(cellProfilerName: name)
      if let role, isNumeric(i) {
        plan.features.append((i, name, role))
      } else if isMetadata || role != nil {
        plan.metadata.append((i, metadataName(name)))
      }
    }
    return plan
  }

  static func missingColumn(_ given: String?, what: String, flag: String, columns: [String], file: String)
    -> ProfileError
  {
    let candidates = columns.filter { FeatureRole.infer(cellProfilerName: $0) == nil || $0.contains("Metadata") }
    let listed = candidates.prefix(60).joined(separator: ", ") + (candidates.count > 60 ? ", ..." : "")
    let message =
      given.map { "no column \"\($0)\" for the \(what)" }
      ?? "no \(what) column (looked for \((what == "plate" ? plates : wells).joined(separator: ", ")))"
    return ProfileError(
      file: file,
      message: "\(message); its non-measurement columns are: \(listed). Name the \(what) column with \(flag)")
  }
}
