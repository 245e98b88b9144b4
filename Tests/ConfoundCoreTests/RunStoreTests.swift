import TestSupport
import XCTest

@testable import ConfoundCore

final class RunStoreTests: XCTestCase {
  func smallScreen() -> Screen {
    var builder = ScreenBuilder(format: .wells96)
    for (well, dose) in [("A01", "0"), ("A02", "1.5"), ("B01", "3")] {
      for site in 1...2 {
        builder.add(
          ImageRecord(plate: "P1", well: well, site: site, channel: "DNA", path: "/x", metadata: ["dose": dose]))
      }
    }
    return builder.build().screen
  }

  /// A store SQLite calls corrupt or "not a database" is named as damaged, with what to do, at open or wherever
  /// the damage is met later.
  func testADamagedStoreSaysSoAndWhatToDo() throws {
    let dir = try TemporaryDirectory()
    let garbage = dir.file("garbage.sqlite")
    try Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }).write(to: garbage)
    XCTAssertThrowsError(try RunStore(url: garbage)) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("the store is damaged (SQLite: file is not a database)"), text)
      XCTAssertTrue(text.contains("--out DIR") && text.contains("delete \(garbage.path)"), text)
    }
    // A real store whose pages after the first were overwritten: it opens, and the first read meets the damage.
    let url = dir.file("run.sqlite")
    do {
      let store = try RunStore(url: url)
      for key in 0..<400 { try store.complete(stage: "focus", key: "site-\(key)-" + String(repeating: "x", count: 40)) { _ in } }
    }
    var bytes = [UInt8](try Data(contentsOf: url))
    XCTAssertGreaterThan(bytes.count, 3 * 4096)
    for i in 4096..<bytes.count { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
    try Data(bytes).write(to: url)
    for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: url.path + suffix) }
    XCTAssertThrowsError(try {
      let store = try RunStore(url: url)
      _ = try store.isDone(stage: "focus", key: "site-1-" + String(repeating: "x", count: 40))
    }()) { error in
      XCTAssertTrue("\(error)".contains("the store is damaged (SQLite: "), "\(error)")
    }
  }

  func testAUnitThatThrowsLeavesNothingAndCompletedUnitsSurviveReopening() throws {
    let dir = try TemporaryDirectory()
    let url = dir.file("run.sqlite")
    do {
      let store = try RunStore(url: url)
      try store.recordRun(parametersJSON: #"{"seed":1}"#)
      let ids = try store.registerSites(of: smallScreen())
      let a01 = try XCTUnwrap(ids[SiteKey(plate: "P1", well: "A01", site: 1)])
      try store.complete(stage: "focus", key: "P1/A01/1") { w in try w.measure(site: a01, "Focus", 2.5) }
      struct Interrupted: Error {}
      XCTAssertThrowsError(
        try store.complete(stage: "focus", key: "P1/A01/2") { w in
          try w.measure(site: ids[SiteKey(plate: "P1", well: "A01", site: 2)]!, "Focus", 9)
          throw Interrupted()
        })
    }
    let store = try RunStore(url: url)
    XCTAssertTrue(try store.isDone(stage: "focus", key: "P1/A01/1"))
    XCTAssertFalse(try store.isDone(stage: "focus", key: "P1/A01/2"))
    let ids = try store.siteIDs()
    XCTAssertEqual(ids.count, 6)
    XCTAssertEqual(try store.measurements(siteID: ids[SiteKey(plate: "P1", well: "A01", site: 1)]!), ["Focus": 2.5])
    XCTAssertEqual(try store.measurements(siteID: ids[SiteKey(plate: "P1", well: "A01", site: 2)]!), [:])
    XCTAssertEqual(try store.runParametersJSON(), #"{"seed":1}"#)
    let finding = StoredFinding(
      stage: "spatial", kind: "spatial", covariate: "edge distance", measure: "ImageQuality_FocusScore_DNA", role: "focus",
      metric: "relative difference", value: -0.4, ciLow: -0.5, ciHigh: -0.3, baseline: 1.2, pValue: 1e-6, pAdjusted: 4e-6,
      units: "wells", unitCount: 96, significant: true, verdict: "confounded", plates: ["P1"], record: #"{"kind":"spatial"}"#)
    XCTAssertEqual(try store.replaceFindings([finding, finding]), [1, 2])
    XCTAssertEqual(try store.replaceFindings([finding]), [1], "a new list replaces the old one")
    XCTAssertEqual(try store.findingRecords(), [#"{"kind":"spatial"}"#])
    // A corrupt image's unit is recorded as failed with its reason: not done, not retried silently.
    try store.fail(stage: "focus", key: "P1/B01/1", message: "B01.tif: truncated")
    XCTAssertFalse(try store.isDone(stage: "focus", key: "P1/B01/1"))
    XCTAssertEqual(try store.failures(stage: "focus"), ["P1/B01/1": "B01.tif: truncated"])
    XCTAssertEqual(try store.doneKeys(stage: "focus"), ["P1/A01/1"])
  }

  func testInputHashesMatchPythonHashlib() throws {
    XCTAssertEqual(
      SHA256.hex(of: Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(SHA256.hex(of: [UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    let dir = try TemporaryDirectory()
    // Longer than one 1 MiB read chunk, and not a multiple of the 64-byte block.
    let bytes = (0..<(1 << 20) + 77).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
    let file = dir.file("blob.bin")
    try Data(bytes).write(to: file)
    let expected = try pythonReference(
      "import hashlib,json,sys; print(json.dumps([hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest()]))",
      [file.path], as: [String].self)[0]
    let store = try RunStore(url: dir.file("run.sqlite"))
    XCTAssertEqual(try store.recordInput(file), expected)
    XCTAssertEqual(try store.inputs()[file.path], expected)
  }

  func testProfilesExportWithMetadataColumnsAndMeanPerWell() throws {
    let dir = try TemporaryDirectory()
    let store = try RunStore(url: dir.file("run.sqlite"))
    let ids = try store.registerSites(of: smallScreen())
    for (key, id) in ids {
      try store.complete(stage: "features", key: "\(id)") { w in
        try w.measure(site: id, "Intensity_MeanIntensity_DNA", Double(key.site) * 10 + Double(key.well.count))
        if key.well != "B01" { try w.measure(site: id, "Count_Nuclei", Double(key.site * 7)) }
      }
    }
    let sites = dir.file("sites.csv")
    let wells = dir.file("wells.csv")
    try store.exportSiteProfiles(to: sites)
    try store.exportWellProfiles(to: wells)
    let reference = try pythonReference(
      """
      import csv, json, sys, numpy as np
      sites = list(csv.DictReader(open(sys.argv[1])))
      wells = list(csv.DictReader(open(sys.argv[2])))
      out = {"site_columns": list(sites[0].keys()), "well_columns": list(wells[0].keys()), "wells": {}}
      for w in wells:
          rows = [s for s in sites if s["Metadata_Well"] == w["Metadata_Well"]]
          out["wells"][w["Metadata_Well"]] = {
            "expected": [float(np.mean([float(r[f]) for r in rows if r[f] != ""])) if any(r[f] != "" for r in rows)
                         else None for f in ("Count_Nuclei", "Intensity_MeanIntensity_DNA")],
            "written": [float(w[f]) if w[f] != "" else None for f in ("Count_Nuclei", "Intensity_MeanIntensity_DNA")],
            "dose": w["Metadata_dose"]}
      print(json.dumps(out))
      """, [sites.path, wells.path], as: [String: Any].self)
    XCTAssertEqual(
      reference["site_columns"] as? [String],
      [
        "Metadata_Plate", "Metadata_Well", "Metadata_Site", "Metadata_dose", "Count_Nuclei",
        "Intensity_MeanIntensity_DNA",
      ])
    XCTAssertEqual(
      reference["well_columns"] as? [String],
      ["Metadata_Plate", "Metadata_Well", "Metadata_dose", "Count_Nuclei", "Intensity_MeanIntensity_DNA"])
    let perWell = try XCTUnwrap(reference["wells"] as? [String: [String: Any]])
    XCTAssertEqual(Set(perWell.keys), ["A01", "A02", "B01"])
    for (well, entry) in perWell {
      XCTAssertEqual(entry["expected"] as? [Double?], entry["written"] as? [Double?], well)
    }
    XCTAssertEqual(perWell["A02"]?["dose"] as? String, "1.5")
    // A01's sites hold 13 and 23.
    XCTAssertEqual((perWell["A01"]?["written"] as? [Double?])?[1], 18)
  }

  func testArraysAreNpyFilesBesideTheStoreThatNumpyReads() throws {
    let dir = try TemporaryDirectory()
    let store = try RunStore(url: dir.file("run.sqlite"))
    let values = (0..<12).map { Float($0) * 0.5 - 2 }
    try store.complete(stage: "embed", key: "all") { w in
      try store.saveArray(values, shape: [3, 4], name: "embeddings", in: w)
    }
    XCTAssertEqual(try store.loadArray(name: "embeddings")?.floats(), values)
    let reference = try pythonReference(
      "import json,sys,sqlite3,numpy as np,os; db=sqlite3.connect(sys.argv[1]);"
        + "p,shape,dt=db.execute('select path,shape,dtype from arrays').fetchone();"
        + "a=np.load(os.path.join(os.path.dirname(sys.argv[1]),p));"
        + "print(json.dumps({'values':a.ravel().tolist(),'shape':list(a.shape),'dtype':a.dtype.str,"
        + "'recorded':json.loads(shape)}))",
      [dir.file("run.sqlite").path], as: [String: Any].self)
    XCTAssertEqual(reference["values"] as? [Double], values.map(Double.init))
    XCTAssertEqual(reference["shape"] as? [Int], [3, 4])
    XCTAssertEqual(reference["recorded"] as? [Int], [3, 4])
    XCTAssertEqual(reference["dtype"] as? String, "<f4")
  }
}
