import TestSupport
import XCTest

@testable import ConfoundCore

/// Folders of CellProfiler CSV outputs, and site tables aggregated to wells.
final class CellProfilerCSVFolderTests: XCTestCase {
  func testCytominerDatabaseCSVsGiveTheWellMeansOfTheirSQLite() throws {
    let root = try sharedData("cellprofiler-outputs/cytominer-database")
    let folder = root.appendingPathComponent("data_b")
    XCTAssertTrue(CellProfilerCSVFolder.isOutputFolder(folder))
    let csv = try CellProfilerCSVFolder.read(folder)
    let sqlite = try ProfileTableReader.read(root.appendingPathComponent("data_b_sqlite/data_b.sqlite"))
    XCTAssertEqual(csv.format, "cellprofiler-csv")
    // The CSVs hold two more wells than the SQLite: E17 (no objects) and J21 (one cell); N23-5 lists no image.
    XCTAssertEqual(csv.rows.map(\.well), ["A01", "B01", "E17", "J21"])
    XCTAssertEqual(sqlite.rows.map(\.well), ["A01", "B01"])
    let e17 = try XCTUnwrap(csv.rows.first { $0.well == "E17" })
    XCTAssertTrue(e17.values[try XCTUnwrap(csv.feature("Cells_AreaShape_Area"))].isNaN)
    XCTAssertTrue(csv.features.contains("Nuclei_AreaShape_Area"))
    var compared = 0
    for row in csv.rows {
      guard let other = sqlite.rows.first(where: { $0.plate == row.plate && $0.well == row.well }) else { continue }
      for (f, name) in csv.features.enumerated() {
        guard let g = sqlite.feature(name) else { continue }
        compared += 1
        let (a, b) = (row.values[f], other.values[g])
        if b.isNaN { XCTAssertTrue(a.isNaN, name) } else { XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, abs(b)), name) }
      }
    }
    XCTAssertGreaterThan(compared, 2 * 1500)
  }

  func testJUMPSiteFoldersPoolAsPython() throws {
    let folder = try sharedData("cellprofiler-outputs/jump-BR00121431")
    let table = try CellProfilerCSVFolder.read(folder)
    XCTAssertEqual(table.rows.map(\.well), ["A01", "A02"])
    XCTAssertFalse(table.metadataColumns.contains("Metadata_Site"))
    let reference: [String: [String: Double]] = try pythonReference(
      """
      import csv, glob, json, math, os, sys
      sums = {}
      def add(well, name, value):
        if value in ('', 'nan'): return
        s = sums.setdefault(well, {}).setdefault(name, [])
        s.append(float(value))
      for group in sorted(glob.glob(os.path.join(sys.argv[1], '*'))):
        image = list(csv.DictReader(open(os.path.join(group, 'Image.csv'))))
        wells = {r['ImageNumber']: r['Metadata_Well'] for r in image}
        for r in image:
          for k, v in r.items():
            if k.startswith(('ImageQuality_FocusScore', 'Count_')): add(r['Metadata_Well'], k, v)
        path = os.path.join(group, 'Nuclei.csv')
        if os.path.exists(path):
          rows = list(csv.DictReader(open(path)))
          for k in list(rows[0])[2::20]:
            for r in rows: add(wells[r['ImageNumber']], 'Nuclei_' + k, r[k])
      print(json.dumps({w: {k: math.fsum(v) / len(v) for k, v in d.items()} for w, d in sums.items()}))
      """, [folder.path])
    var checked = 0
    for row in table.rows {
      for (name, expected) in try XCTUnwrap(reference[row.well]) {
        let f = try XCTUnwrap(table.feature(name), name)
        XCTAssertEqual(row.values[f], expected, accuracy: 1e-9 * max(1, abs(expected)), "\(row.well) \(name)")
        checked += 1
      }
    }
    XCTAssertGreaterThan(checked, 40)
    let loaded = try ScreenSource.load(folder, template: nil, platemap: nil, barcodePlatemap: nil)
    XCTAssertEqual(loaded.profiles?.format, "cellprofiler-csv")
    XCTAssertEqual(loaded.screen.wellCount, 2)
  }

  func testSiteTablesAggregateToWellMeansSkippingNaN() {
    let rows = [
      ProfileRow(
        plate: "P", well: "A01", site: 1, metadata: ["Metadata_x": "a", "Metadata_t": "1"], values: [1, .nan]),
      ProfileRow(plate: "P", well: "A01", site: 2, metadata: ["Metadata_x": "a", "Metadata_t": "2"], values: [3, 5]),
      ProfileRow(
        plate: "P", well: "A02", site: 1, metadata: ["Metadata_x": "b", "Metadata_t": "1"], values: [.nan, .nan]),
    ]
    let sites = ProfileTable(
      level: .site, source: URL(fileURLWithPath: "/x.csv"), format: "cellprofiler-image-csv",
      metadataColumns: ["Metadata_t", "Metadata_x"], features: ["Count_Nuclei", "ImageQuality_FocusScore_DNA"],
      roles: [.density, .focus], rows: rows)
    let wells = sites.aggregatedToWells()
    XCTAssertEqual(wells.level, .well)
    XCTAssertEqual(wells.rows.map(\.well), ["A01", "A02"])
    XCTAssertEqual(wells.rows[0].values, [2, 5])
    XCTAssertTrue(wells.rows[1].values.allSatisfy(\.isNaN))
    XCTAssertEqual(wells.rows[0].metadata, ["Metadata_x": "a"])
    XCTAssertEqual(wells.rows[1].metadata, ["Metadata_x": "b"], "Metadata_t varies within A01: no well keeps it")
    XCTAssertEqual(wells.metadataColumns, ["Metadata_x"])
  }
}

/// The aggregation's definition on a database built here, where pooling objects and averaging site means differ.
final class ProfileSQLiteAggregationTests: XCTestCase {
  func testWellMeanPoolsObjectsOverSitesAndSkipsNullAndText() throws {
    let dir = try TemporaryDirectory()
    let url = dir.url.appendingPathComponent("cp.sqlite")
    let db = try SQLiteDatabase(path: url.path)
    try db.execute(
      """
      CREATE TABLE Per_Image (ImageNumber INTEGER, Image_Metadata_Plate TEXT, Image_Metadata_Well TEXT,
        Image_Metadata_Site INTEGER, Image_Count_Nuclei INTEGER, Image_FileName_DNA TEXT);
      CREATE TABLE Per_Nuclei (ImageNumber INTEGER, Nuclei_Number_Object_Number INTEGER, Nuclei_AreaShape_Area REAL,
        Nuclei_Intensity_MeanIntensity_DNA REAL);
      INSERT INTO Per_Image VALUES (1, 'P1', 'A01', 1, 1, 'a.tif'), (2, 'P1', 'A01', 2, 3, 'b.tif'),
        (3, 'P1', 'B02', 1, 0, 'c.tif');
      INSERT INTO Per_Nuclei VALUES (1, 1, 10, NULL), (2, 1, 0, 0.5), (2, 2, 0, 'nan'), (2, 3, 0, 1.5);
      """)
    let table = try ProfileTableReader.read(url)
    XCTAssertEqual(table.format, "cellprofiler-sqlite")
    XCTAssertEqual(
      table.features, ["Image_Count_Nuclei", "Nuclei_AreaShape_Area", "Nuclei_Intensity_MeanIntensity_DNA"])
    XCTAssertEqual(table.roles, [.density, .shape, .intensity])
    XCTAssertEqual(table.rows.map(\.well), ["A01", "B02"])
    // Area: (10 + 0 + 0 + 0) / 4 objects = 2.5, not the mean of the site means (10 + 0) / 2 = 5.
    // Intensity: NULL and the text 'nan' are missing: (0.5 + 1.5) / 2. Count: mean of the sites (1 + 3) / 2.
    XCTAssertEqual(table.rows[0].values, [2, 2.5, 1])
    XCTAssertEqual(table.rows[1].values[0], 0)
    XCTAssertTrue(table.rows[1].values[1].isNaN && table.rows[1].values[2].isNaN, "B02 has no objects")
    XCTAssertEqual(table.metadataColumns, [], "the site varies within A01; file names are not metadata")
  }
}
