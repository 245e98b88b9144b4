import TestSupport
import XCTest

@testable import ConfoundCore

/// Profiles tables read from the real files in ../shared/data, checked against Python's own reading of them
/// (csv, gzip and sqlite3 from the standard library: the same values, the same per-well means).
final class ProfileTableTests: XCTestCase {
  func testLINCSPlateProfilesMatchPythonsReading() throws {
    let url = try sharedData("lincs-SQ00015054-profiles").appendingPathComponent(
      "SQ00015054_normalized_feature_select.csv.gz")
    XCTAssertTrue(try ProfileTableReader.isProfilesTable(url))
    let table = try ProfileTableReader.read(url)
    XCTAssertEqual(table.format, "pycytominer")
    XCTAssertEqual(table.level, .well)
    XCTAssertEqual(table.rows.count, 384)
    XCTAssertEqual(table.features.count, 454)
    XCTAssertEqual(table.metadataColumns.count, 24, "26 Metadata_ columns less plate and well")
    XCTAssertFalse(table.roles.contains(.other), "every LINCS feature is a known CellProfiler module")
    let reference: [String: Any] = try pythonReference(
      """
      import csv, gzip, json, math, sys
      rows = list(csv.reader(gzip.open(sys.argv[1], 'rt')))
      header, body = rows[0], rows[1:]
      features = [i for i, c in enumerate(header) if not c.startswith('Metadata_')]
      well = header.index('Metadata_Well')
      print(json.dumps({
        'features': [header[i] for i in features],
        'sums': [math.fsum(float(r[i]) for r in body) for i in features],
        'P24': next([float(r[i]) for i in features] for r in body if r[well] == 'P24'),
      }))
      """, [url.path])
    XCTAssertEqual(table.features, reference["features"] as? [String])
    let sums = try XCTUnwrap(reference["sums"] as? [Double])
    for (f, expected) in sums.enumerated() {
      let ours = table.rows.reduce(0) { $0 + $1.values[f] }
      XCTAssertEqual(ours, expected, accuracy: 1e-9 * max(1, abs(expected)), table.features[f])
    }
    let p24 = try XCTUnwrap(table.rows.first { $0.well == "P24" })
    XCTAssertEqual(p24.values, reference["P24"] as? [Double])
    XCTAssertEqual(p24.plate, "SQ00015054")
    XCTAssertEqual(p24.metadata["Metadata_pert_type"], "trt")

    let screen = table.screen()
    XCTAssertEqual(screen.plates.map(\.name), ["SQ00015054"])
    XCTAssertEqual(screen.plates[0].format, .wells384)
    XCTAssertEqual(screen.wellCount, 384)
    XCTAssertEqual(screen.siteCount, 384)
    XCTAssertEqual(screen.batches.map(\.name), ["4"], "Metadata_Batch_Number is the batch")
    XCTAssertEqual(screen.plates[0].covariates["Metadata_Batch_Date"], "2016-05-17")
    XCTAssertEqual(screen.plates[0].well(try WellPosition(parsing: "A01"))?.covariates["Metadata_pert_type"], "control")
    let design = try ResolvedDesign.resolve(StudyDesign(), columns: screen.designColumns)
    XCTAssertEqual(design.control?.description, "Metadata_pert_type=control")
    let controls = screen.wellCovariates.filter(design.control!.matches).count
    XCTAssertEqual(controls, table.rows.filter { $0.metadata["Metadata_broad_sample"] == "DMSO" }.count)
    XCTAssertGreaterThan(controls, 0)
  }

  func testJUMPPerSiteImageCSV() throws {
    let url = try sharedData("cellprofiler-outputs/jump-BR00121431/BR00121431-A01-1").appendingPathComponent(
      "Image.csv")
    XCTAssertTrue(try ProfileTableReader.isProfilesTable(url), "FileName_ columns, but measurements too")
    let table = try ProfileTableReader.read(url)
    XCTAssertEqual(table.format, "cellprofiler-image-csv")
    XCTAssertEqual(table.level, .site)
    XCTAssertEqual(table.rows.count, 1)
    let row = table.rows[0]
    XCTAssertEqual(row.plate, "BR00121431")
    XCTAssertEqual(row.well, "A01")
    XCTAssertEqual(row.site, 1)
    // Numbers pass as repr() text: Foundation's JSON parser on Linux rounds some 17-digit numbers off by an ulp.
    let reference: [String: String] = try pythonReference(
      """
      import csv, json, sys
      r = list(csv.DictReader(open(sys.argv[1])))[0]
      print(json.dumps({k: repr(float(v)) for k, v in r.items()
        if k.startswith(('ImageQuality_', 'Count_', 'Texture_', 'Granularity_')) and v not in ('', 'nan')}))
      """, [url.path])
    XCTAssertGreaterThan(reference.count, 1500)
    for (name, expected) in reference {
      let f = try XCTUnwrap(table.feature(name), name)
      XCTAssertEqual(row.values[f], Double(expected), name)
    }
    let role = { (name: String) in table.feature(name).map { table.roles[$0] } }
    XCTAssertEqual(role("Count_Nuclei"), .density)
    XCTAssertEqual(role(try XCTUnwrap(table.features.first { $0.hasPrefix("ImageQuality_FocusScore") })), .focus)
    XCTAssertFalse(table.features.contains { $0.hasPrefix("ExecutionTime_") || $0.hasPrefix("FileName_") })
    XCTAssertTrue(table.metadataColumns.contains("Metadata_PositionX"))
    let screen = table.screen()
    XCTAssertEqual(screen.sites.map { "\($0.plate.name) \($0.well.name) \($0.site.number)" }, ["BR00121431 A01 1"])
  }

  /// Every 20th measurement of every object table, and every image measurement, per well, as Python's sqlite3
  /// computes it: the mean over the well's objects (or sites), NULL and text skipped.
  static let sqliteReference = """
    import json, math, sqlite3, sys
    c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
    tables = [t for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    image = next(t for t in tables if t.lower() in ('image', 'per_image'))
    cols = lambda t: [r[1] for r in c.execute('PRAGMA table_info("%s")' % t)]
    icols = cols(image)
    keys = [k for k in ('TableNumber', 'ImageNumber') if k in icols]
    plate = next(x for x in icols if x.endswith('Metadata_Plate'))
    well = next(x for x in icols if x.endswith('Metadata_Well'))
    out = {}
    def mean(values):
      values = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
      return math.fsum(values) / len(values) if values else None
    def add(table, columns, sql):
      groups = {}
      for row in c.execute(sql):
        groups.setdefault(row[0] + '/' + row[1], []).append(row[2:])
      for w, rows in groups.items():
        for j, name in enumerate(columns):
          out.setdefault(w, {})[name] = mean([r[j] for r in rows])
    measures = [x for x in icols if x.startswith('Image_') and ('_Count_' in x or 'ImageQuality' in x)]
    if measures:
      quoted = ', '.join('"%s"' % m for m in measures)
      add(image, measures, 'SELECT "%s", "%s", %s FROM "%s"' % (plate, well, quoted, image))
    for t in tables:
      oc = cols(t)
      shared = [k for k in keys if k in oc]
      if t == image or not shared: continue
      picked = [x for x in oc if '_' in x and x not in keys and not x.endswith('Number_Object_Number')][::20]
      join = ' AND '.join('o."%s" = i."%s"' % (k, k) for k in shared)
      add(t, picked, 'SELECT i."%s", i."%s", %s FROM "%s" o JOIN "%s" i ON %s'
        % (plate, well, ', '.join('o."%s"' % p for p in picked), t, image, join))
    print(json.dumps(out))
    """

  func checkSQLite(_ path: String, format: String, wells: Int, file: StaticString = #filePath, line: UInt = #line)
    throws
    -> ProfileTable
  {
    let url = try sharedData("cellprofiler-outputs").appendingPathComponent(path)
    XCTAssertTrue(try ProfileTableReader.isProfilesTable(url), file: file, line: line)
    let table = try ProfileTableReader.read(url)
    XCTAssertEqual(table.format, format, file: file, line: line)
    XCTAssertEqual(table.level, .well, file: file, line: line)
    XCTAssertEqual(table.rows.count, wells, file: file, line: line)
    let reference: [String: [String: Double?]] = try pythonReference(Self.sqliteReference, [url.path])
    XCTAssertEqual(reference.count, wells, file: file, line: line)
    var checked = 0
    for (key, means) in reference {
      let row = try XCTUnwrap(table.rows.first { "\($0.plate)/\($0.well)" == key }, key, file: file, line: line)
      for (name, expected) in means {
        guard let f = table.feature(name) else { continue }  // text columns are not features
        checked += 1
        if let expected {
          XCTAssertEqual(
            row.values[f], expected, accuracy: 1e-9 * max(1, abs(expected)), "\(key) \(name)", file: file, line: line)
        } else {
          XCTAssertTrue(row.values[f].isNaN, "\(key) \(name)", file: file, line: line)
        }
      }
    }
    XCTAssertGreaterThan(checked, 20 * wells, file: file, line: line)
    return table
  }

  func testCytominerDatabaseSQLiteMeansPerWellAsPython() throws {
    let health = try checkSQLite(
      "cytominer-database/Cell-Health/test-SQ00014613.sqlite", format: "cytominer-sqlite", wells: 2)
    XCTAssertEqual(Set(health.rows.map(\.well)), ["A01", "O18"])
    XCTAssertEqual(health.feature("Image_Count_Cells").map { health.rows.first { $0.well == "A01" }!.values[$0] }, 196)
    let b = try checkSQLite("cytominer-database/data_b_sqlite/data_b.sqlite", format: "cytominer-sqlite", wells: 2)
    XCTAssertTrue(b.features.contains("Cells_AreaShape_Area"))
    XCTAssertFalse(b.features.contains("ObjectNumber"))
    let nf1 = try checkSQLite(
      "cellprofiler/NF1_SchwannCell_data/all_cellprofiler.sqlite", format: "cellprofiler-sqlite", wells: 8)
    XCTAssertFalse(nf1.features.contains { $0.hasSuffix("Number_Object_Number") || $0.contains("ExecutionTime") })
    XCTAssertFalse(nf1.metadataColumns.contains("Metadata_Site"), "the site varies within a well")
    let screen = nf1.screen()
    XCTAssertEqual(screen.wellCount, 8)
    XCTAssertEqual(screen.siteCount, 8)
  }

  func testLoadDataCSVIsNotAProfilesTableAndParquetSaysHowToConvert() throws {
    let dir = try TemporaryDirectory()
    let loadData = dir.url.appendingPathComponent("load_data.csv")
    try Data("FileName_DNA,PathName_DNA,Metadata_Plate,Metadata_Well,Metadata_Site\na.tif,images,P1,A01,1\n".utf8)
      .write(to: loadData)
    XCTAssertFalse(try ProfileTableReader.isProfilesTable(loadData))
    XCTAssertFalse(try ProfileTableReader.isProfilesTable(dir.url))
    XCTAssertThrowsError(try ProfileTableReader.read(dir.url.appendingPathComponent("p.parquet"))) { error in
      XCTAssertTrue("\(error)".contains("to_csv"), "\(error)")
    }
    let noPlate = dir.url.appendingPathComponent("profiles.csv")
    try Data("Metadata_Well,Metadata_dose,Cells_AreaShape_Area\nA01,1,3.5\n".utf8).write(to: noPlate)
    XCTAssertTrue(try ProfileTableReader.isProfilesTable(noPlate))
    XCTAssertThrowsError(try ProfileTableReader.read(noPlate)) { error in
      let text = "\(error)"
      XCTAssertTrue(text.hasPrefix(noPlate.path) && text.contains("Metadata_dose") && text.contains("--plate"), text)
    }
    let named = try ProfileTableReader.read(noPlate, plateColumn: "dose")
    XCTAssertEqual(named.rows.map(\.plate), ["1"])
    XCTAssertThrowsError(try ProfileTableReader.read(noPlate, plateColumn: "dose", wellColumn: "Position")) { error in
      XCTAssertTrue("\(error)".contains("no column \"Position\""), "\(error)")
    }
  }

  func testFeatureRolesOfExportToDatabaseNames() {
    XCTAssertNil(FeatureRole.infer(cellProfilerName: "Image_Metadata_Plate"))
    XCTAssertNil(FeatureRole.infer(cellProfilerName: "Image_ExecutionTime_01LoadData"))
    XCTAssertNil(FeatureRole.infer(cellProfilerName: "Image_FileName_OrigDNA"))
    XCTAssertNil(FeatureRole.infer(cellProfilerName: "Nuclei_Number_Object_Number"))
    XCTAssertNil(FeatureRole.infer(cellProfilerName: "Cells_Parent_Nuclei"))
    XCTAssertEqual(FeatureRole.infer(cellProfilerName: "Image_Count_Cells"), .density)
    XCTAssertEqual(FeatureRole.infer(cellProfilerName: "Image_ImageQuality_FocusScore_DNA"), .focus)
    XCTAssertEqual(FeatureRole.infer(cellProfilerName: "Nuclei_Texture_Contrast_DNA_3_00_256"), .texture)
    XCTAssertEqual(FeatureRole.infer(cellProfilerName: "PH3_Intensity_MeanIntensity_PH3"), .intensity)
    XCTAssertEqual(FeatureRole.infer(cellProfilerName: "Count_Nuclei"), .density)
    XCTAssertEqual(FeatureRole.infer(cellProfilerName: "Cells_Location_Center_X"), .position)
  }
}
