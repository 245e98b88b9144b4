import XCTest

@testable import ConfoundCore

final class FileNameTemplateTests: XCTestCase {
  let folder = URL(fileURLWithPath: "/screens/PlateX")

  func record(_ name: String) -> ImageRecord? {
    FileNameTemplate.presets.lazy.compactMap { $0.record(fileName: name, folder: self.folder) }.first
  }

  func testPresetsPlacePlateWellSiteAndChannel() throws {
    let cases: [(String, String, String, Int, String)] = [
      ("SQ001_B03_s4_w2.tif", "SQ001", "B03", 4, "w2"),
      ("BBBC006_z_aligned__a01__s1__w1_10.png", "BBBC006_z_aligned", "a01", 1, "w1"),
      ("00_mcf-z-stacks-03212011_a01_s1_w1a571d43d-5554.tif", "00_mcf-z-stacks-03212011", "a01", 1, "w1"),
      ("r03c12f05p01-ch2sk1fk1fl1.tiff", "PlateX", "C12", 5, "ch2"),
      ("AS_09125_050116030001_D03f00d0.tif", "AS_09125_050116030001", "D03", 0, "d0"),
      ("Channel1-17-B-05.tif", "PlateX", "B05", 1, "Channel1"),
      ("Channel 2-12-A-12-03.tif", "PlateX", "A12", 3, "Channel2"),
    ]
    for (name, plate, well, site, channel) in cases {
      let r = try XCTUnwrap(record(name), name)
      XCTAssertEqual([r.plate, r.well, String(r.site), r.channel], [plate, well, String(site), channel], name)
    }
    XCTAssertEqual(record("r03c12f05p07-ch2sk1fk1fl1.tiff")?.metadata, ["plane": "07"])
    XCTAssertNil(record("notes.tif"))
  }

  func testCustomTemplateKeepsExtraFieldsAsCovariates() throws {
    let t = try FileNameTemplate("{plate}-{well}-{site:\\d+}-{channel}-z{z:\\d+}.tif")
    let r = try XCTUnwrap(t.record(fileName: "P7-H11-3-Mito-z02.tif", folder: folder))
    XCTAssertEqual([r.plate, r.well, String(r.site), r.channel], ["P7", "H11", "3", "Mito"])
    XCTAssertEqual(r.metadata, ["z": "02"])
    XCTAssertThrowsError(try FileNameTemplate("{plate}_{site}.tif")) { XCTAssertTrue("\($0)".contains("{well}")) }
    XCTAssertThrowsError(try FileNameTemplate("{well}_{channel.tif")) { XCTAssertTrue("\($0)".contains("no matching")) }
  }
}
