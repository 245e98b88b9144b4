import TestSupport
import XCTest

@testable import ConfoundCore

/// `ScreenSource.load`, the one way `confound audit SCREEN` reads any input.
final class ScreenSourceTests: XCTestCase {
  func testSimulateFolderLoadsWithNoFlagsAndItsDesignResolves() throws {
    let (dir, _) = try renderTinySimulation(sites: 2, channels: 2)
    let (screen, problems, inputs, profiles) = try ScreenSource.load(
      dir.url, template: nil, platemap: nil, barcodePlatemap: nil)
    XCTAssertEqual(problems, [])
    XCTAssertNil(profiles)
    XCTAssertEqual(inputs.map(\.lastPathComponent), ["load_data.csv", "barcode_platemap.csv"])
    XCTAssertEqual(screen.plates.count, 2)
    XCTAssertEqual(screen.siteCount, 2 * 96 * 2)
    XCTAssertEqual(screen.channels, ["DNA", "ER"])
    XCTAssertEqual(screen.batches.map(\.name), ["B1", "B2"])
    XCTAssertEqual(Set(screen.plates[0].wells.compactMap { $0.covariates["disease"] }), ["healthy", "disease"])
    let design = try ResolvedDesign.resolve(StudyDesign(), columns: screen.designColumns)
    XCTAssertEqual([design.target, design.unit, design.control?.column], ["disease", "cell_line", "control"])
    try design.validate(wells: screen.wellCovariates)
    // The LoadData CSV itself gives the same screen, joined to the barcode table beside it.
    let direct = try ScreenSource.load(
      dir.url.appendingPathComponent("load_data.csv"), template: nil, platemap: nil, barcodePlatemap: nil)
    XCTAssertEqual(direct.screen.wellCovariates, screen.wellCovariates)
  }

  func testRenamedPlatemapColumnsDeclaredByTheDesignSelectTheSameWells() throws {
    let (dir, output) = try renderTinySimulation()
    let original = try ScreenSource.load(dir.url, template: nil, platemap: nil, barcodePlatemap: nil).screen
    let renamed = try TemporaryDirectory()
    let manager = FileManager.default
    for name in ["images", "load_data.csv", "barcode_platemap.csv"] {
      try manager.createSymbolicLink(
        at: renamed.url.appendingPathComponent(name), withDestinationURL: dir.url.appendingPathComponent(name))
    }
    try manager.createDirectory(at: renamed.url.appendingPathComponent("platemap"), withIntermediateDirectories: true)
    for plate in output.truth.plates {
      let file = "platemap/\(plate.name).csv"
      let text = try String(contentsOf: dir.url.appendingPathComponent(file), encoding: .utf8)
      let header = "plate_map_name,well_position,patient,donor,condition,source_lab,negative_control"
      XCTAssertTrue(text.hasPrefix("plate_map_name,well_position,cell_line,donor,disease,source_lab,control\n"))
      let lines = [header] + text.split(separator: "\n").dropFirst().map(String.init)
      try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: renamed.url.appendingPathComponent(file))
    }
    let screen = try ScreenSource.load(renamed.url, template: nil, platemap: nil, barcodePlatemap: nil).screen
    let inferred = try ResolvedDesign.resolve(StudyDesign(), columns: screen.designColumns)
    // condition is a convention and donor (before patient) too; negative_control is not: the controls need a flag.
    XCTAssertEqual([inferred.target, inferred.unit], ["condition", "donor"])
    XCTAssertNil(inferred.control)
    let declared = try ResolvedDesign.resolve(
      StudyDesign(target: "condition", unit: "patient", control: "negative_control"), columns: screen.designColumns)
    try declared.validate(wells: screen.wellCovariates)
    let reference = try ResolvedDesign.resolve(StudyDesign(), columns: original.designColumns)
    let pick = { (d: ResolvedDesign, wells: [[String: String]]) in
      wells.map { [$0[d.target!]!, $0[d.unit!]!, d.control!.matches($0) ? "control" : ""] }
    }
    XCTAssertEqual(pick(declared, screen.wellCovariates), pick(reference, original.wellCovariates))
  }

  func testBBBC013FolderWithTemplateAndPlatemap() throws {
    let root = try sharedData("bbbc013-sbs-plate")
    let (screen, problems, inputs, profiles) = try ScreenSource.load(
      root, template: FileNameTemplate.cellProfilerExample, platemap: root.appendingPathComponent("1049_Metadata.csv"),
      barcodePlatemap: nil)
    XCTAssertEqual(problems, [])
    XCTAssertNil(profiles)
    XCTAssertEqual(inputs.map(\.lastPathComponent), ["bbbc013-sbs-plate", "1049_Metadata.csv"])
    XCTAssertEqual(screen.wellCount, 96)
    XCTAssertEqual(screen.channels.sorted(), ["Channel1", "Channel2"])
    let a03 = try XCTUnwrap(screen.plates[0].well(try WellPosition(parsing: "A03")))
    XCTAssertEqual(a03.covariates["SBS_Doses"], "1")
    XCTAssertEqual(a03.covariates["SBS_Controls"], "0")
    let design = try ResolvedDesign.resolve(
      StudyDesign(target: "SBS_Doses", control: "SBS_Controls=-1"), columns: screen.designColumns)
    XCTAssertEqual(design.targetKind, .numeric(levels: 11))
    try design.validate(wells: screen.wellCovariates)
    XCTAssertEqual(screen.wellCovariates.filter(design.control!.matches).count, 16, "16 rows of SBS_Controls -1")
    // The preset is found by name, and without a template the presets are tried: the same screen.
    let named = try ScreenSource.load(
      root, template: try FileNameTemplate.named("cellprofiler-example"),
      platemap: root.appendingPathComponent("1049_Metadata.csv"), barcodePlatemap: nil)
    let detected = try ScreenSource.load(
      root, template: nil, platemap: root.appendingPathComponent("1049_Metadata.csv"), barcodePlatemap: nil)
    XCTAssertEqual(named.screen.wellCovariates, screen.wellCovariates)
    XCTAssertEqual(detected.screen.wellCovariates, screen.wellCovariates)
    XCTAssertThrowsError(try FileNameTemplate.named("channel-row-col")) { error in
      XCTAssertTrue("\(error)".contains("cellprofiler-example"), "\(error)")
    }
  }

  func testLINCSProfilesTableAndErrorsNameTheFile() throws {
    let url = try sharedData("lincs-SQ00015054-profiles").appendingPathComponent(
      "SQ00015054_normalized_feature_select.csv.gz")
    let (screen, problems, inputs, profiles) = try ScreenSource.load(
      url, template: nil, platemap: nil, barcodePlatemap: nil)
    XCTAssertEqual(problems, [])
    XCTAssertEqual(inputs, [url.standardizedFileURL])
    XCTAssertEqual(profiles?.rows.count, 384)
    XCTAssertEqual(screen.wellCount, 384)
    XCTAssertEqual(screen.channels, [])
    // The study's barcode table joins its platemap (C-7161-01-LM6-027) to every one of the 384 wells.
    let barcodes = url.deletingLastPathComponent().appendingPathComponent(
      "platemaps/2016_04_01_a549_48hr_batch1/barcode_platemap.csv")
    let joined = try ScreenSource.load(url, template: nil, platemap: nil, barcodePlatemap: barcodes)
    XCTAssertEqual(joined.problems, [])
    XCTAssertEqual(joined.inputs.last, barcodes)
    XCTAssertEqual(joined.screen.plates[0].covariates["plate_map_name"], "C-7161-01-LM6-027")
    XCTAssertEqual(joined.screen.wellCovariates.filter { $0["solvent"] == "DMSO" }.count, 384)
    XCTAssertThrowsError(
      try ScreenSource.load(url, template: FileNameTemplate.metaXpress, platemap: nil, barcodePlatemap: nil)
    ) { error in XCTAssertTrue("\(error)".contains("not to the profiles table"), "\(error)") }
    let missing = URL(fileURLWithPath: "/nonexistent/screen.csv")
    XCTAssertThrowsError(try ScreenSource.load(missing, template: nil, platemap: nil, barcodePlatemap: nil)) { error in
      XCTAssertEqual((error as? CSVError)?.file, missing.path)
    }
  }
}
