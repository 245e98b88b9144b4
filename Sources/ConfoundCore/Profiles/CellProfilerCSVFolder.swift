import Foundation

/// A folder of CellProfiler ExportToSpreadsheet outputs: `Image.csv` and per-object CSVs (`Cells.csv`,
/// `Nuclei.csv`, ...) keyed by `ImageNumber`, either in the folder itself or in one subfolder per group of sites
/// (the layout cytominer-database ingests, and JUMP's per-site folders). Read into one row per well.
///
/// Object columns are named with the object first, as cytominer-database names them (`AreaShape_Area` in
/// `Nuclei.csv` is `Nuclei_AreaShape_Area`). The aggregation is the SQLite reader's: an object feature's well
/// value is the mean over every object of the well, its sites pooled; an image feature's, the mean over sites.
public enum CellProfilerCSVFolder {
  /// Whether `folder` holds an `Image.csv`, directly or one folder down, with measurements in it or object CSVs
  /// beside it.
  public static func isOutputFolder(_ folder: URL) -> Bool {
    guard let first = groups(in: folder).first else { return false }
    if !objectTables(in: first).isEmpty { return true }
    let header = try? ProfileTableReader.headerColumns(first.appendingPathComponent("Image.csv"))
    return header.map(ProfileColumns.hasMeasurements) ?? false
  }

  public static func read(_ folder: URL, plateColumn: String? = nil, wellColumn: String? = nil) throws -> ProfileTable {
    let groups = groups(in: folder)
    guard !groups.isEmpty else {
      throw ProfileError(file: folder.path, message: "no Image.csv here or in its subfolders")
    }
    var features: [String] = []
    var roles: [FeatureRole] = []
    var featureIndex: [String: Int] = [:]
    var wells: [(plate: String, well: String, metadata: [String: String], sums: [Int: Double], counts: [Int: Int])] = []
    var wellIndex: [String: Int] = [:]
    var metadataColumns: [String] = []
    func index(of name: String, role: FeatureRole) -> Int {
      if let i = featureIndex[name] { return i }
      features.append(name)
      roles.append(role)
      featureIndex[name] = features.count - 1
      return features.count - 1
    }
    func add(_ value: Double, feature: Int, well: Int) {
      guard !value.isNaN else { return }
      wells[well].sums[feature, default: 0] += value
      wells[well].counts[feature, default: 0] += 1
    }
    for group in groups {
      let imageURL = group.appendingPathComponent("Image.csv")
      let image = try table(imageURL)
      let numeric = image.columns.indices.map { c in image.rows.allSatisfy { ProfileColumns.number($0[c]) != nil } }
      let plan = try ProfileColumns.plan(
        image.columns, isNumeric: { numeric[$0] }, file: imageURL.path, plateColumn: plateColumn,
        wellColumn: wellColumn)
      guard let imageNumber = image.columns.firstIndex(of: "ImageNumber") else {
        throw ProfileError(file: imageURL.path, message: "no ImageNumber column to join the object tables by")
      }
      for name in plan.metadata.map(\.name) where !metadataColumns.contains(name) { metadataColumns.append(name) }
      let imageFeatures = plan.features.map { index(of: $0.name, role: $0.role) }
      var wellOfImage: [String: Int] = [:]
      for row in image.rows {
        let key = "\(row[plan.plate])\u{1F}\(row[plan.well])"
        let metadata = Dictionary(plan.metadata.map { ($0.name, row[$0.index]) }, uniquingKeysWith: { a, _ in a })
        let w: Int
        if let existing = wellIndex[key] {
          w = existing
          // Only metadata constant over the well's sites describes the well.
          wells[w].metadata = wells[w].metadata.filter { metadata[$0.key] == $0.value }
        } else {
          wells.append((row[plan.plate], row[plan.well], metadata, [:], [:]))
          w = wells.count - 1
          wellIndex[key] = w
        }
        wellOfImage[row[imageNumber]] = w
        for (k, feature) in plan.features.enumerated() {
          add(ProfileColumns.number(row[feature.index]) ?? .nan, feature: imageFeatures[k], well: w)
        }
      }
      for objectURL in objectTables(in: group) {
        // CellProfiler writes an empty file for an object no site had.
        guard (try? objectURL.resourceValues(forKeys: [.fileSizeKey]).fileSize) != 0 else { continue }
        let objects = try table(objectURL)
        guard let number = objects.columns.firstIndex(of: "ImageNumber") else { continue }
        let object = objectURL.deletingPathExtension().lastPathComponent
        let measured = objects.columns.indices.compactMap { c -> (column: Int, feature: Int)? in
          let name = "\(object)_\(objects.columns[c])"
          guard let role = FeatureRole.infer(cellProfilerName: name),
            objects.rows.allSatisfy({ ProfileColumns.number($0[c]) != nil })
          else { return nil }
          return (c, index(of: name, role: role))
        }
        for row in objects.rows {
          guard let w = wellOfImage[row[number]] else { continue }  // an object of an image Image.csv lacks
          for m in measured { add(ProfileColumns.number(row[m.column]) ?? .nan, feature: m.feature, well: w) }
        }
      }
    }
    let rows = wells.map { well in
      ProfileRow(
        plate: well.plate, well: well.well, site: nil, metadata: well.metadata,
        values: features.indices.map { f in well.counts[f].map { well.sums[f]! / Double($0) } ?? .nan })
    }
    let (kept, wellRows) = ProfileRow.keepingWellMetadata(rows, columns: metadataColumns)
    return ProfileTable(
      level: .well, source: folder, format: "cellprofiler-csv", metadataColumns: kept, features: features,
      roles: roles, rows: wellRows)
  }

  /// The folder itself when it holds `Image.csv`, else its subfolders that do, sorted by name.
  static func groups(in folder: URL) -> [URL] {
    let manager = FileManager.default
    if manager.fileExists(atPath: folder.appendingPathComponent("Image.csv").path) { return [folder] }
    let names = ((try? manager.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    return names.map { folder.appendingPathComponent($0) }.filter {
      manager.fileExists(atPath: $0.appendingPathComponent("Image.csv").path)
    }
  }

  /// The per-object CSVs of a group: every `.csv` but `Image.csv` and `Experiment.csv`, sorted by name.
  static func objectTables(in group: URL) -> [URL] {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: group.path)) ?? []).sorted()
    return names.filter { $0.lowercased().hasSuffix(".csv") && !["Image.csv", "Experiment.csv"].contains($0) }
      .map { group.appendingPathComponent($0) }
  }

  static func table(_ url: URL) throws -> CSVTable {
    do { return try CSVTable(contentsOf: url) } catch let error as CSVError {
      throw ProfileError(file: url.path, message: error.message)
    }
  }
}
