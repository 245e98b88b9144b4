import ConfoundCore
import Foundation
import TestSupport
import XCTest

/// The per-well table: the one definition of a well's value (the mean over its sites where finite), roles from
/// the store's `features` table, covariates the sites share, stored embeddings attached.
final class WellTableTests: XCTestCase {
  func screen() -> Screen {
    var builder = ScreenBuilder(format: .wells96)
    for (well, line) in [("A01", "CL1"), ("A02", "CL2")] {
      for site in 1...3 {
        builder.add(ImageRecord(plate: "P1", well: well, site: site, channel: "DNA", path: "/x",
                                metadata: ["cell_line": line, "site_note": "s\(site)"]))
      }
    }
    return builder.build().screen
  }

  func testWellValueIsTheMeanOverFiniteSitesAndRolesComeFromTheStore() throws {
    let dir = try TemporaryDirectory()
    let store = try RunStore(url: dir.file("run.sqlite"))
    let ids = try store.registerSites(of: screen())
    // A01: counts 10, 20, NaN (the NaN site is left out, so 15, not 10 or NaN); A02: 3, 4, 8 (mean 5, median 4).
    let counts: [String: [Double]] = ["A01": [10, 20, .nan], "A02": [3, 4, 8]]
    for (key, id) in ids {
      try store.complete(stage: "segment", key: "\(id)") { w in
        try w.measure(site: id, "Count_Nuclei", counts[key.well]![key.site - 1])
        if key.site == 1 { try w.measure(site: id, "ImageQuality_FocusScore_DNA", 0.5) }
      }
    }
    try store.recordFeatures(["Count_Nuclei": .density], source: "test")
    let table = try WellTable.build(store: store, batches: ["P1": "B1"])
    XCTAssertEqual(table.rows.map(\.well), ["A01", "A02"])
    XCTAssertEqual(table.rows[0].values["Count_Nuclei"], 15)
    XCTAssertEqual(table.rows[1].values["Count_Nuclei"], 5, "the mean, not the median (4)")
    XCTAssertEqual(table.rows[1].values["ImageQuality_FocusScore_DNA"], 0.5, "one site holds it: that site's value")
    XCTAssertEqual(table.rows[0].covariates["cell_line"], "CL1")
    XCTAssertNil(table.rows[0].covariates["site_note"], "a covariate the sites disagree on is not the well's")
    XCTAssertEqual(table.rows[0].batch, "B1")
    XCTAssertEqual(table.role("Count_Nuclei"), .density)
    XCTAssertEqual(table.role("ImageQuality_FocusScore_DNA"), .focus, "not in the features table: CellProfiler's naming")
    XCTAssertEqual(table.commonColumns(of: table.rows) { $0.isHandFeature }, ["Count_Nuclei"])
    // The export writes the same numbers.
    let csv = dir.file("wells.csv")
    try store.exportWellProfiles(to: csv)
    let text = try String(contentsOf: csv, encoding: .utf8)
    XCTAssertTrue(text.contains("P1,A01,CL1,15.0,0.5"), text)
    XCTAssertTrue(text.contains("P1,A02,CL2,5.0,0.5"), text)
  }

  func testEmbeddingsAttachToTheirWellsAndWellsWithoutOneKeepNone() throws {
    let dir = try TemporaryDirectory()
    let store = try RunStore(url: dir.file("run.sqlite"))
    let ids = try store.registerSites(of: screen())
    try store.complete(stage: "segment", key: "all") { w in
      for id in ids.values { try w.measure(site: id, "Count_Nuclei", 1) }
      try store.saveArray([1, 2, 3], shape: [1, 3], name: "emb_well_P1_A02", in: w)
    }
    var table = try WellTable.build(store: store)
    try table.attachEmbeddings(store: store, featureSet: "embeddings") { "emb_well_\($0)_\($1)" }
    XCTAssertNil(table.rows[0].embeddings["embeddings"])
    XCTAssertEqual(table.rows[1].embeddings["embeddings"], [1, 2, 3])
  }
}
