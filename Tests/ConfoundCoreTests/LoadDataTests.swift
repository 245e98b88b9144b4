import TestSupport
import XCTest

@testable import ConfoundCore

final class LoadDataTests: XCTestCase {
  func testRowsBecomeSitesWithRelativePathsAndMetadataCovariates() throws {
    let dir = try TemporaryDirectory()
    let csv = """
      FileName_DNA,PathName_DNA,FileName_ER,PathName_ER,Metadata_Plate,Metadata_Well,Metadata_Site,Metadata_Batch,Metadata_Dose
      a.tif,img,b.tif,/abs/er,P1,A01,1,B1,0.5
      c.tif,img,d.tif,/abs/er,P1,A01,2,B1,0.5
      e.tif,,f.tif,/abs/er,P1,B03,1,B1,1
      g.tif,img,h.tif,/abs/er,P1,Z99,1,B1,1
      """
    try Data(csv.utf8).write(to: dir.file("load_data.csv"))
    let (screen, problems) = try LoadDataReader.read(dir.file("load_data.csv"))
    XCTAssertEqual(screen.channels, ["DNA", "ER"])
    XCTAssertEqual(screen.batches.map(\.name), ["B1"])
    let plate = screen.plates[0]
    XCTAssertEqual(plate.name, "P1")
    XCTAssertEqual(plate.covariates, ["Batch": "B1"])
    XCTAssertEqual(plate.wells.map(\.name), ["A01", "B03"])
    XCTAssertEqual(plate.wells[0].covariates, ["Dose": "0.5"])
    XCTAssertEqual(plate.wells[0].sites.map(\.number), [1, 2])
    let base = dir.url.standardizedFileURL.path
    XCTAssertEqual(plate.wells[0].sites[1].images["DNA"]?.path, base + "/img/c.tif")
    XCTAssertEqual(plate.wells[1].sites[0].images["DNA"]?.path, base + "/e.tif")
    XCTAssertEqual(plate.wells[0].sites[0].images["ER"]?.path, "/abs/er/b.tif")
    XCTAssertEqual(plate.wells[0].sites[1].images["DNA"]?.origin?.line, 3)
    XCTAssertEqual(problems.map(\.kind), [.badWellName])
    XCTAssertTrue(problems.allSatisfy { $0.location?.line == 5 && $0.well == "Z99" })
  }
}
