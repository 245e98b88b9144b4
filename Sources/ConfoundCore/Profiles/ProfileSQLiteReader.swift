import Foundation

/// Reads a CellProfiler ExportToDatabase SQLite (`Per_Image`, `Per_Cells`, ...) or a cytominer-database one
/// (`Image`, `Cells`, `Nuclei`, `Cytoplasm`, keyed by `TableNumber`) into one row per well.
///
/// The aggregation, the one definition used wherever a well's value is made from objects: a well's value of an
/// object feature is the MEAN over every object of the well, its sites pooled (so a site with more cells weighs
/// more, as pycytominer's `aggregate(strata=[plate, well], operation="mean")` does); a well's value of an image
/// feature (`Count_*`, `ImageQuality_*`) is the mean over its sites. NULL and text values are missing and
/// skipped; a well with no value is NaN. Objects are joined to their site by every key column the object table
/// shares with the image table (`TableNumber`, `ImageNumber`).
enum ProfileSQLiteReader {
  static let keyColumns = ["TableNumber", "ImageNumber"]
  /// Features per query: the sum and count of each stay under SQLite's 2,000-column limit.
  static let chunk = 400

  static func read(_ url: URL, plateColumn: String?, wellColumn: String?) throws -> ProfileTable {
    guard FileManager.default.isReadableFile(atPath: url.path) else {
      throw ProfileError(file: url.path, message: "no such file (or it cannot be read)")
    }
    let db: SQLiteDatabase
    do { db = try SQLiteDatabase(path: url.path, readOnly: true) } catch {
      throw ProfileError(file: url.path, message: "cannot open it as SQLite (\(error))")
    }
    do { return try read(db, url: url, plateColumn: plateColumn, wellColumn: wellColumn) } catch let error as StoreError
    {
      throw ProfileError(file: url.path, message: error.message)
    }
  }

  static func read(_ db: SQLiteDatabase, url: URL, plateColumn: String?, wellColumn: String?) throws -> ProfileTable {
    let tables = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap(
      \.first?.text)
    guard
      let image = ["Per_Image", "Image"].lazy.compactMap({ n in tables.first { $0.lowercased() == n.lowercased() } })
        .first
    else {
      throw ProfileError(
        file: url.path,
        message:
          "no Per_Image or Image table, so not a CellProfiler or cytominer-database file"
          + " (tables: \(tables.joined(separator: ", ")))"
      )
    }
    let imageColumns = try columns(of: image, in: db)
    let keys = keyColumns.filter { k in imageColumns.contains { $0.name == k } }
    guard !keys.isEmpty else {
      throw ProfileError(file: url.path, message: "table \(image) has no ImageNumber or TableNumber")
    }
    let names = imageColumns.map(\.name)
    let plan = try ProfileColumns.plan(
      names, isNumeric: { numeric(imageColumns[$0].type) }, file: "\(url.path) (table \(image))",
      plateColumn: plateColumn, wellColumn: wellColumn)
    // Sites, grouped into wells in first-seen order.
    var wellOf: [String: Int] = [:]
    var wells: [(plate: String, well: String, metadata: [String: String]?, sums: [Double], counts: [Int])] = []
    var wellIndex: [String: Int] = [:]
    let keyIndices = keys.map { k in names.firstIndex(of: k)! }
    for row in try db.query("SELECT * FROM \(quote(image))") {
      let plate = text(row[plan.plate])
      let well = text(row[plan.well])
      let id = "\(plate)\u{1F}\(well)"
      let w =
        wellIndex[id]
        ?? {
          wells.append(
            (
              plate, well, nil, Array(repeating: 0, count: plan.features.count),
              Array(repeating: 0, count: plan.features.count)
            ))
          wellIndex[id] = wells.count - 1
          return wells.count - 1
        }()
      wellOf[keyIndices.map { text(row[$0]) }.joined(separator: "\u{1F}")] = w
      let metadata = Dictionary(plan.metadata.map { ($0.name, text(row[$0.index])) }, uniquingKeysWith: { a, _ in a })
      // Only metadata constant over the well's sites describes the well.
      wells[w].metadata = wells[w].metadata.map { $0.filter { metadata[$0.key] == $0.value } } ?? metadata
      for (f, feature) in plan.features.enumerated() {
        guard let v = row[feature.index].real, !v.isNaN else { continue }
        wells[w].sums[f] += v
        wells[w].counts[f] += 1
      }
    }
    var features = plan.features.map(\.name)
    var roles = plan.features.map(\.role)
    var values = wells.map { well in zip(well.sums, well.counts).map { $1 > 0 ? $0 / Double($1) : .nan } }
    for table in tables where table != image {
      let objectColumns = try columns(of: table, in: db)
      let joinKeys = keys.filter { k in objectColumns.contains { $0.name == k } }
      guard !joinKeys.isEmpty else { continue }
      let measured = objectColumns.compactMap { column -> (String, FeatureRole)? in
        guard !keyColumns.contains(column.name), numeric(column.type), !column.name.hasPrefix("Metadata_"),
          let role = FeatureRole.infer(cellProfilerName: column.name)
        else { return nil }
        return (column.name, role)
      }
      guard !measured.isEmpty else { continue }
      let taken = Set(features)
      for (name, role) in measured {
        features.append(taken.contains(name) ? "\(table)_\(name)" : name)
        roles.append(role)
      }
      let pooled = try poolByWell(
        table, measured.map(\.0), joinKeys: joinKeys, wellOf: wellOf, wells: wells.count, db: db)
      for w in values.indices { values[w] += pooled[w] }
    }
    let rows = wells.enumerated().map { w, well in
      ProfileRow(plate: well.plate, well: well.well, site: nil, metadata: well.metadata ?? [:], values: values[w])
    }
    let (kept, wellRows) = ProfileRow.keepingWellMetadata(rows, columns: plan.metadata.map(\.name))
    return ProfileTable(
      level: .well, source: url, format: keys.contains("TableNumber") ? "cytominer-sqlite" : "cellprofiler-sqlite",
      metadataColumns: kept, features: features, roles: roles, rows: wellRows)
  }

  /// Each well's mean of each column over all its objects: per-site sums and counts from SQLite, pooled here.
  static func poolByWell(
    _ table: String, _ columns: [String], joinKeys: [String], wellOf: [String: Int], wells: Int, db: SQLiteDatabase
  ) throws -> [[Double]] {
    var sums = Array(repeating: Array(repeating: 0.0, count: columns.count), count: wells)
    var counts = Array(repeating: Array(repeating: 0, count: columns.count), count: wells)
    let keyList = joinKeys.map(quote).joined(separator: ", ")
    for start in stride(from: 0, to: columns.count, by: chunk) {
      let part = columns[start..<min(columns.count, start + chunk)]
      let expressions = part.map { c -> String in
        let v = "CASE WHEN typeof(\(quote(c))) IN ('integer', 'real') THEN \(quote(c)) END"
        return "TOTAL(\(v)), COUNT(\(v))"
      }
      let sql = "SELECT \(keyList), \(expressions.joined(separator: ", ")) FROM \(quote(table)) GROUP BY \(keyList)"
      for row in try db.query(sql) {
        let key = row.prefix(joinKeys.count).map(text).joined(separator: "\u{1F}")
        guard let w = wellOf[key] else { continue }  // objects of a site the image table does not list
        for k in part.indices {
          let at = joinKeys.count + 2 * (k - start)
          sums[w][k] += row[at].real ?? 0
          counts[w][k] += Int(row[at + 1].integer ?? 0)
        }
      }
    }
    return (0..<wells).map { w in
      (0..<columns.count).map { counts[w][$0] > 0 ? sums[w][$0] / Double(counts[w][$0]) : .nan }
    }
  }

  static func columns(of table: String, in db: SQLiteDatabase) throws -> [(name: String, type: String)] {
    try db.query("PRAGMA table_info(\(quote(table)))").map { ($0[1].text ?? "", $0[2].text ?? "") }
  }

  /// A column holds numbers unless SQLite's declared type says text or date (no type: numbers or anything).
  static func numeric(_ declared: String) -> Bool {
    let t = declared.uppercased()
    return !(t.contains("CHAR") || t.contains("TEXT") || t.contains("CLOB") || t.contains("DATE") || t.contains("TIME"))
  }

  static func text(_ value: SQLiteValue) -> String {
    switch value {
    case .text(let s): return s
    case .integer(let i): return String(i)
    case .real(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    case .null: return ""
    }
  }

  static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
