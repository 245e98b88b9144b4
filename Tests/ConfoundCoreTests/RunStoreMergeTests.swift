import ConfoundImaging
import TestSupport
import XCTest

@testable import ConfoundCore

/// `RunStore.merge`: the stores of two shards of a screen merge into the store one run of the whole screen writes,
/// value for value and bit for bit; stores that are not shards of one audit are refused with the reason.
final class RunStoreMergeTests: XCTestCase {
  /// Two plates, three wells each, two sites per well, a platemap covariate.
  func screen(plates: [String]) -> Screen {
    var builder = ScreenBuilder(format: .wells96)
    for plate in plates {
      for (well, dose) in [("A01", "0"), ("A02", "1.5"), ("B01", "3")] {
        for site in 1...2 {
          builder.add(ImageRecord(plate: plate, well: well, site: site, channel: "DNA",
                                  path: "/x/\(plate)-\(well)-\(site).tif", metadata: ["dose": dose]))
        }
      }
    }
    return builder.build().screen
  }

  /// Values that a lossy copy (text, float32, rounding) would change: thirds, 0.1 + 0.2, a subnormal, huge.
  func value(_ key: SiteKey, _ index: Int) -> Double {
    let letters: UInt32 = (key.plate + key.well).unicodeScalars.map(\.value).reduce(0, +)
    let seed = Double(Int(letters) * 10 + key.site)
    let values: [Double] = [seed / 3, 0.1 + 0.2 + seed, 4.9e-324 * seed, 1.7976931348623157e308 / seed]
    return values[index % 4]
  }

  /// What the audit's per-site stages write for each site of `plates`, in a store of its own at `dir`.
  func writeStore(at dir: URL, screen full: Screen, plates: Set<String>, parameters: String = #"{"seed":1,"out":"x"}"#)
    throws
  {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let store = try RunStore(url: dir.appendingPathComponent("run.sqlite"))
    try store.recordRun(parametersJSON: parameters)
    try store.recordPlugin(id: "confound.focus", version: "0.1.0", abi: 1)
    let part = screen(plates: full.plates.map(\.name).filter(plates.contains))
    let ids = try store.registerSites(of: part)
    for (key, id) in ids.sorted(by: { $0.value < $1.value }) {
      let unit = "\(key.plate)/\(key.well)/\(key.site)"
      if key.well == "B01" && key.site == 2 {
        try store.fail(stage: "segment", key: unit, message: "\(unit): truncated TIFF")
        continue
      }
      try store.complete(stage: "focus", key: unit) { w in
        for i in 0..<4 { try w.measure(site: id, "Measure_\(i)", value(key, i)) }
        try w.measure(site: id, "Missing", .nan)
      }
      try store.complete(stage: "segment", key: unit) { w in
        for object in 1...3 { try w.measure(site: id, object: object, "AreaShape_Area", value(key, object) * 7) }
        let name = "crops_\(key.plate)_\(key.well)_s\(key.site)"
        try store.saveArray([Float(value(key, 0)), 1, 2], shape: [1, 3], name: name, in: w)
      }
    }
  }

  /// Every table of a store keyed by site (plate, well, site) instead of its id, values as their bit patterns.
  func contents(_ url: URL) throws -> [String: [String]] {
    let db = try SQLiteDatabase(path: url.appendingPathComponent("run.sqlite").path)
    func rows(_ sql: String) throws -> [String] {
      try db.query(sql).map { row in
        row.map { v -> String in
          switch v {
          case .real(let d): return "r\(d.bitPattern)"
          case .integer(let i): return "i\(i)"
          case .text(let t): return t
          case .null: return "null"
          }
        }.joined(separator: "|")
      }.sorted()
    }
    let site = "s.plate || '/' || s.well || '/' || s.site"
    var tables = [
      "sites": try rows("SELECT plate, well, site, covariates FROM sites"),
      "units": try rows("SELECT stage, key, status, message FROM units"),
      "measurements": try rows("SELECT \(site), name, value FROM measurements m JOIN sites s ON s.id = m.site_id"),
      "objects": try rows("SELECT \(site), object, name, value FROM objects o JOIN sites s ON s.id = o.site_id"),
      "arrays": try rows("SELECT name, path, shape, dtype FROM arrays"),
      "plugins": try rows("SELECT id, version, abi FROM plugins"),
    ]
    tables["array files"] = try db.query("SELECT path FROM arrays").map {
      try Data(contentsOf: url.appendingPathComponent($0[0].text!)).base64EncodedString()
    }.sorted()
    return tables
  }

  func testShardsMergeIntoTheStoreOfOneRun() throws {
    let dir = try TemporaryDirectory()
    let full = screen(plates: ["P1", "P2"])
    try writeStore(at: dir.file("one"), screen: full, plates: ["P1", "P2"])
    // Run-local parameters differ between the shards (and keys come in another order): still one audit.
    try writeStore(at: dir.file("shards/1"), screen: full, plates: ["P2"],
                   parameters: #"{"out":"a","seed":1,"shard":"1/2"}"#)
    try writeStore(at: dir.file("shards/2"), screen: full, plates: ["P1"],
                   parameters: #"{"seed":1,"out":"b","shard":"2/2"}"#)
    let summary = try RunStore.merge([dir.file("shards/1"), dir.file("shards/2/run.sqlite")], into: dir.file("merged"))
    XCTAssertEqual(summary.sites, 12)
    XCTAssertEqual(summary.measurements, 10 * 5)
    XCTAssertEqual(summary.objects, 10 * 3)
    XCTAssertEqual(summary.arrays, 10)
    // Sites of the shard listed first get the first ids, whatever their names.
    let merged = try RunStore(url: dir.file("merged/run.sqlite"))
    XCTAssertEqual(try merged.siteIDs()[SiteKey(plate: "P2", well: "A01", site: 1)], 1)
    let one = try contents(dir.file("one"))
    let shards = try contents(dir.file("merged"))
    for table in one.keys.sorted() { XCTAssertEqual(shards[table], one[table], table) }
    XCTAssertEqual(try merged.failures(stage: "segment").count, 2)
    let oneStore = try RunStore(url: dir.file("one/run.sqlite"))
    let crops = "crops_P1_A02_s2"
    XCTAssertEqual(try merged.loadArray(name: crops)?.data, try oneStore.loadArray(name: crops)?.data)
    let parameters = try XCTUnwrap(merged.runParametersJSON())
    XCTAssertFalse(parameters.contains(#""shard""#), parameters)
    XCTAssertTrue(parameters.contains(#""seed":1"#), parameters)
    // The merged store exists once; a second merge into it is refused.
    XCTAssertThrowsError(try RunStore.merge([dir.file("shards/1")], into: dir.file("merged"))) {
      XCTAssertTrue("\($0)".contains("already exists"), "\($0)")
    }
  }

  func testAUnitDoneInAnyShardIsDoneInTheMerge() throws {
    let dir = try TemporaryDirectory()
    let full = screen(plates: ["P1"])
    try writeStore(at: dir.file("a"), screen: full, plates: ["P1"])
    // A resumed copy: the site that failed before is done now.
    try FileManager.default.createDirectory(at: dir.file("b"), withIntermediateDirectories: true)
    let later = try RunStore(url: dir.file("b/run.sqlite"))
    try later.recordRun(parametersJSON: #"{"seed":1}"#)
    let ids = try later.registerSites(of: full)
    try later.complete(stage: "segment", key: "P1/B01/2") { w in
      try w.measure(site: ids[SiteKey(plate: "P1", well: "B01", site: 2)]!, "Count_Nuclei", 5)
    }
    _ = try RunStore.merge([dir.file("a"), dir.file("b")], into: dir.file("m"))
    let merged = try RunStore(url: dir.file("m/run.sqlite"))
    XCTAssertEqual(try merged.failures(stage: "segment"), [:])
    XCTAssertTrue(try merged.isDone(stage: "segment", key: "P1/B01/2"))
    let id = try XCTUnwrap(merged.siteIDs()[SiteKey(plate: "P1", well: "B01", site: 2)])
    XCTAssertEqual(try merged.measurements(siteID: id), ["Count_Nuclei": 5])
  }

  func testStoresOfOtherParametersOrScreensAreRefused() throws {
    let dir = try TemporaryDirectory()
    let full = screen(plates: ["P1", "P2"])
    try writeStore(at: dir.file("p1"), screen: full, plates: ["P1"])
    try writeStore(at: dir.file("p2-seed2"), screen: full, plates: ["P2"], parameters: #"{"seed":2}"#)
    XCTAssertThrowsError(try RunStore.merge([dir.file("p1"), dir.file("p2-seed2")], into: dir.file("m1"))) {
      let message = "\($0)"
      XCTAssertTrue(message.contains("p2-seed2") && message.contains("seed 1 vs 2"), message)
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("m1/run.sqlite").path))

    // The same plate with another platemap: another screen.
    try writeStore(at: dir.file("p1-other"), screen: full, plates: ["P1"])
    let other = try SQLiteDatabase(path: dir.file("p1-other/run.sqlite").path)
    try other.execute(#"UPDATE sites SET covariates = '{"dose":"9"}' WHERE well = 'A01' AND site = 1"#)
    XCTAssertThrowsError(try RunStore.merge([dir.file("p1"), dir.file("p1-other")], into: dir.file("m2"))) {
      XCTAssertTrue("\($0)".contains("site P1/A01/1 has other covariates"), "\($0)")
    }

    // A store that already ran the analyses (a whole-screen unit) would make the merged store skip them.
    let analysed = try RunStore(url: dir.file("p1-other/run.sqlite"))
    try other.execute(#"UPDATE sites SET covariates = '{"dose":"0"}' WHERE well = 'A01' AND site = 1"#)
    try analysed.complete(stage: "projection", key: "wells-pca") { _ in }
    XCTAssertThrowsError(try RunStore.merge([dir.file("p1-other")], into: dir.file("m3"))) {
      XCTAssertTrue("\($0)".contains("whole-screen results (stage projection)"), "\($0)")
    }
    XCTAssertThrowsError(try RunStore.merge([dir.file("nowhere")], into: dir.file("m4"))) {
      XCTAssertTrue("\($0)".contains("nowhere/run.sqlite: no run store here"), "\($0)")
    }
  }
}
