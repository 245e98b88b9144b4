import Foundation

/// A plate layout: covariates per well, read from a CSV/TSV platemap.
///
/// The well is the column `well_position`, `Well`, `Metadata_Well` (any case), or `Row` + `Column`/`Col`
/// (BBBC013's `1049_Metadata.csv`). Every other column is a well covariate, except the platemap's own name
/// (`plate_map_name`) and CellProfiler's `ImageNumber`. Values are kept as written; kinds are inferred later.
public struct Platemap: Sendable {
  /// One platemap row.
  public struct Entry: Sendable {
    public let covariates: [String: String]
    public let location: SourceLocation
  }

  public let name: String
  public let file: String
  public private(set) var entries: [WellPosition: Entry] = [:]
  /// Rows that could not be placed (bad well names, duplicates).
  public private(set) var problems: [ScreenProblem] = []

  static let skipped: Set<String> = ["plate_map_name", "imagenumber"]

  /// Reads a platemap; `name` defaults to the file name without extension.
  public init(contentsOf url: URL, name: String? = nil) throws {
    try self.init(table: CSVTable(contentsOf: url), name: name ?? url.deletingPathExtension().lastPathComponent)
  }

  public init(table: CSVTable, name: String) throws {
    self.name = name
    file = table.file
    let wellColumn = ["well_position", "well", "metadata_well", "metadata_well_position"].lazy
      .compactMap { table.column($0) }.first
    let rowColumn = table.column("Row") ?? table.column("Metadata_Row")
    let colColumn =
      table.column("Column") ?? table.column("Col") ?? table.column("Metadata_Column")
      ?? table.column("Metadata_Col")
    guard wellColumn != nil || (rowColumn != nil && colColumn != nil) else {
      throw CSVError(
        file: table.file, line: 1, message: "no well column: add well_position (A01 ...) or Row and Column columns")
    }
    var used: Set<Int> = []
    if let wellColumn { used.insert(wellColumn) } else { used.formUnion([rowColumn!, colColumn!]) }
    let covariateColumns = table.columns.indices.filter {
      !used.contains($0) && !Platemap.skipped.contains(table.columns[$0].lowercased())
    }
    for (r, row) in table.rows.enumerated() {
      let location = table.location(ofRow: r)
      let wellName: String
      if let wellColumn {
        wellName = row[wellColumn]
      } else {
        let rowText = row[rowColumn!]
        wellName = (Int(rowText).map { WellPosition.rowLetters($0 - 1) } ?? rowText) + row[colColumn!]
      }
      let position: WellPosition
      do { position = try WellPosition(parsing: wellName) } catch {
        problems.append(.init(.badWellName, at: location, "\(error)"))
        continue
      }
      if let previous = entries[position] {
        problems.append(
          .init(.badRow, at: location, well: position.name, "well also listed at line \(previous.location.line ?? 0)"))
        continue
      }
      let covariates = Dictionary(uniqueKeysWithValues: covariateColumns.map { (table.columns[$0], row[$0]) })
      entries[position] = Entry(covariates: covariates, location: location)
    }
  }
}

/// The Broad layout's `barcode_platemap.csv`: which platemap each plate barcode uses, plus plate covariates
/// (`Batch_Number`, `Batch_Date`, ...). Platemaps are read from `platemap/<Plate_Map_Name>.txt|.csv` beside it.
public struct BarcodePlatemap: Sendable {
  /// Barcode -> platemap name.
  public let platemapNames: [String: String]
  /// Barcode -> plate covariates (every column but the barcode and the platemap name).
  public let plateCovariates: [String: [String: String]]
  public let platemaps: [String: Platemap]

  public init(contentsOf url: URL) throws {
    let table = try CSVTable(contentsOf: url)
    guard let barcode = table.column("Assay_Plate_Barcode") ?? table.column("Metadata_Plate"),
      let mapName = table.column("Plate_Map_Name") ?? table.column("Metadata_Plate_Map_Name")
    else {
      throw CSVError(file: url.path, line: 1, message: "needs Assay_Plate_Barcode and Plate_Map_Name columns")
    }
    var names: [String: String] = [:]
    var covariates: [String: [String: String]] = [:]
    for row in table.rows {
      names[row[barcode]] = row[mapName]
      covariates[row[barcode]] = Dictionary(
        uniqueKeysWithValues: table.columns.indices.filter { $0 != barcode && $0 != mapName }
          .map { (table.columns[$0], row[$0]) })
    }
    let folder = url.deletingLastPathComponent().appendingPathComponent("platemap")
    var maps: [String: Platemap] = [:]
    for name in Set(names.values) {
      let candidates = ["txt", "csv", "tsv"].map { folder.appendingPathComponent("\(name).\($0)") }
      guard let file = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
        throw CSVError(file: url.path, line: nil, message: "platemap \(name) not found as \(folder.path)/\(name).txt")
      }
      maps[name] = try Platemap(contentsOf: file, name: name)
    }
    platemapNames = names
    plateCovariates = covariates
    platemaps = maps
  }
}

extension Screen {
  /// Adds `platemap`'s covariates to the wells of `plates` (all plates when nil) and returns every mismatch:
  /// wells with images but no platemap row, and platemap rows with no images.
  public mutating func join(_ platemap: Platemap, plates names: Set<String>? = nil) -> [ScreenProblem] {
    var problems = platemap.problems
    for b in batches.indices {
      for p in batches[b].plates.indices where names?.contains(batches[b].plates[p].name) ?? true {
        problems += Screen.join(platemap, into: &batches[b].plates[p])
      }
    }
    return problems
  }

  /// Joins a Broad barcode table: each plate gets its platemap's well covariates and its row's plate covariates.
  public mutating func join(_ barcodes: BarcodePlatemap) -> [ScreenProblem] {
    var problems: [ScreenProblem] = []
    for b in batches.indices {
      for p in batches[b].plates.indices {
        let name = batches[b].plates[p].name
        guard let mapName = barcodes.platemapNames[name], let map = barcodes.platemaps[mapName] else {
          problems.append(.init(.wellWithoutPlatemapRow, at: nil, plate: name, "plate is not in the barcode table"))
          continue
        }
        batches[b].plates[p].covariates.merge(barcodes.plateCovariates[name] ?? [:]) { $1 }
        batches[b].plates[p].covariates["plate_map_name"] = mapName
        problems += map.problems + Screen.join(map, into: &batches[b].plates[p])
      }
    }
    return problems
  }

  static func join(_ platemap: Platemap, into plate: inout Plate) -> [ScreenProblem] {
    var problems: [ScreenProblem] = []
    var seen: Set<WellPosition> = []
    // The platemap knows the plate better than the wells that happen to have images.
    let all = plate.wells.map(\.position) + Array(platemap.entries.keys)
    if let fits = PlateFormat.smallest(fitting: all), fits.wellCount > plate.format.wellCount { plate.format = fits }
    for w in plate.wells.indices {
      let position = plate.wells[w].position
      guard let entry = platemap.entries[position] else {
        let origin = plate.wells[w].sites.first?.images.values.first?.origin
        problems.append(
          .init(
            .wellWithoutPlatemapRow, at: origin, plate: plate.name, well: position.name,
            "no row in platemap \(platemap.name) (\(platemap.file))"))
        continue
      }
      seen.insert(position)
      plate.wells[w].covariates.merge(entry.covariates) { $1 }
    }
    for (position, entry) in platemap.entries.sorted(by: { $0.key < $1.key }) where !seen.contains(position) {
      problems.append(
        .init(.platemapRowWithoutImages, at: entry.location, plate: plate.name, well: position.name, "no images"))
    }
    return problems
  }
}
