import TestSupport
import XCTest

@testable import ConfoundCore

/// Every reader on the real screens in ../shared/data.
final class RealScreenReaderTests: XCTestCase {
  func testBBBC013LoadsAsOneFull96WellPlateAndJoinsItsMetadata() throws {
    let root = try sharedData("bbbc013-sbs-plate")
    var (screen, problems) = try DirectoryReader.read(root)
    XCTAssertEqual(problems, [])
    XCTAssertEqual(screen.plates.map(\.name), ["bbbc013-sbs-plate"])
    XCTAssertEqual(screen.plates[0].format, .wells96)
    XCTAssertEqual(screen.wellCount, 96)
    XCTAssertEqual(screen.siteCount, 96)
    XCTAssertEqual(Set(screen.channels), ["Channel1", "Channel2"])
    let c07 = try XCTUnwrap(screen.plates[0].well(WellPosition(row: 2, column: 6)))
    XCTAssertEqual(
      URL(fileURLWithPath: c07.sites[0].images["Channel2"]!.path).lastPathComponent, "Channel2-31-C-07.tif")

    let metadata = root.appendingPathComponent("1049_Metadata.csv")
    let joinProblems = screen.join(try Platemap(contentsOf: metadata))
    XCTAssertEqual(joinProblems, [])
    let expected = try pythonReference(
      "import csv,json,sys; print(json.dumps({r['Row']+r['Column']: [r['SBS_Doses'], r['SBS_Controls']]"
        + " for r in csv.DictReader(open(sys.argv[1]))}))", [metadata.path], as: [String: [String]].self)
    XCTAssertEqual(expected.count, 96)
    for well in screen.plates[0].wells {
      XCTAssertEqual([well.covariates["SBS_Doses"]!, well.covariates["SBS_Controls"]!], expected[well.name], well.name)
    }
    let columns = Dictionary(uniqueKeysWithValues: screen.covariates.map { ($0.name, $0) })
    XCTAssertEqual(columns["SBS_Doses"]?.kind, .numeric)
    XCTAssertEqual(columns["SBS_Doses"]?.level, .well)
    XCTAssertNil(columns["ImageNumber"])
  }

  func testCellProfilerExamplesLoadWithTheirWellsSitesAndChannels() throws {
    let (screen, problems) = try DirectoryReader.read(try sharedData("cellprofiler-examples"))
    // ExampleHuman and ExamplePercentPositive hold the same plate, well and site: the second copies are reported.
    XCTAssertEqual(problems.map(\.kind), [.duplicateImage, .duplicateImage])
    XCTAssertTrue(problems.allSatisfy { $0.location!.file.contains("ExamplePercentPositive") })
    let plates = Dictionary(uniqueKeysWithValues: screen.plates.map { ($0.name, $0) })
    XCTAssertEqual(Set(plates.keys), ["AS_09125_050116030001", "ExampleVitraImages/images"])
    // ExampleHuman and ExamplePercentPositive share a plate name and a well: their images are duplicates.
    let human = try XCTUnwrap(plates["AS_09125_050116030001"])
    XCTAssertEqual(human.wells.map(\.name), ["D03"])
    XCTAssertEqual(human.wells[0].sites.map(\.number), [0])
    XCTAssertEqual(Set(human.wells[0].sites[0].images.keys), ["d0", "d1", "d2"])
    let vitra = try XCTUnwrap(plates["ExampleVitraImages/images"])
    XCTAssertEqual(vitra.wells.map(\.name), ["A01", "A12"])
    XCTAssertEqual(vitra.wells.map { $0.sites.map(\.number) }, [[0], [0]])
    XCTAssertEqual(Set(vitra.wells[1].sites[0].images.keys), ["Channel1", "Channel2"])
    XCTAssertTrue(vitra.wells[1].sites[0].images["Channel1"]!.path.hasSuffix("Channel 1-12-A-12-00.tif"))
  }

  func testBBBC006LoadsBothNamingFormsOnA384WellPlate() throws {
    let (screen, problems) = try DirectoryReader.read(try sharedData("bbbc006-focus"))
    let plates = Dictionary(uniqueKeysWithValues: screen.plates.map { ($0.name, $0) })
    XCTAssertEqual(Set(plates.keys), ["BBBC006_z_aligned", "00_mcf-z-stacks-03212011"])
    let far = try XCTUnwrap(plates["00_mcf-z-stacks-03212011"])
    XCTAssertEqual(far.format, .wells384)
    XCTAssertEqual(far.wells.count, 12)
    let l22 = try XCTUnwrap(far.well(try WellPosition(parsing: "L22")))
    XCTAssertEqual(l22.sites.map(\.number), [2])
    XCTAssertEqual(Array(l22.sites[0].images.keys), ["w1"])
    let near = try XCTUnwrap(plates["BBBC006_z_aligned"])
    XCTAssertEqual(near.wells.map(\.name), ["A01", "A02", "A03", "A04", "A05"])
    XCTAssertEqual(Set(near.wells.flatMap { $0.sites.map(\.number) }), [1])
    // The cropped copy of a01 names the same plate, well, site and channel: reported, not silently merged.
    XCTAssertEqual(problems.map(\.kind), [.duplicateImage])
    XCTAssertTrue(problems[0].message.contains("cropped"))
  }

  func testLINCSBarcodeTableJoinsPlatemapAndBatchToThePlate() throws {
    let folder = try sharedData("lincs-SQ00015054-profiles/platemaps/2016_04_01_a549_48hr_batch1")
    var builder = ScreenBuilder(format: .wells384)
    for well in ["A01", "B02", "P24"] {
      builder.add(ImageRecord(plate: "SQ00015054", well: well, site: 1, channel: "DNA", path: "/x/\(well).tif"))
    }
    var screen = builder.build().screen
    let problems = screen.join(try BarcodePlatemap(contentsOf: folder.appendingPathComponent("barcode_platemap.csv")))
    let plate = screen.plates[0]
    XCTAssertEqual(plate.covariates["plate_map_name"], "C-7161-01-LM6-027")
    XCTAssertEqual(plate.covariates["Batch_Date"], "2016-05-17")
    let mapFile = folder.appendingPathComponent("platemap/C-7161-01-LM6-027.txt")
    let expected = try pythonReference(
      "import csv,json,sys; print(json.dumps({r['well_position']: r for r in csv.DictReader(open(sys.argv[1]),"
        + " delimiter='\\t')}))", [mapFile.path], as: [String: [String: String]].self)
    for well in plate.wells {
      var row = try XCTUnwrap(expected[well.name])
      row["well_position"] = nil
      row["plate_map_name"] = nil
      XCTAssertEqual(well.covariates, row, well.name)
    }
    XCTAssertEqual(problems.filter { $0.kind == .platemapRowWithoutImages }.count, expected.count - 3)
    XCTAssertEqual(problems.filter { $0.kind != .platemapRowWithoutImages }, [])
  }
}
