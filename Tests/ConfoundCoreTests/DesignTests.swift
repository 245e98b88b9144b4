import TestSupport
import XCTest

@testable import ConfoundCore

/// The design declaration: column matching, control expressions, conventions, validation, design files.
final class DesignTests: XCTestCase {
  func testColumnMatchingTriesExactThenPrefixThenCase() {
    let available = ["Metadata_Plate", "Plate", "Metadata_disease", "CELL_LINE", "metadata_batch"]
    XCTAssertEqual(StudyDesign.column(named: "Plate", in: available), "Plate")
    XCTAssertEqual(StudyDesign.column(named: "Metadata_Plate", in: available), "Metadata_Plate")
    XCTAssertEqual(StudyDesign.column(named: "disease", in: available), "Metadata_disease")
    XCTAssertEqual(StudyDesign.column(named: "cell_line", in: available), "CELL_LINE")
    XCTAssertEqual(StudyDesign.column(named: "Batch", in: available), "metadata_batch")
    XCTAssertEqual(StudyDesign.column(named: "Metadata_cell_line", in: available), "CELL_LINE")
    XCTAssertNil(StudyDesign.column(named: "donor", in: available))
  }

  func testControlExpressionsParseMatchAndPrintBack() throws {
    let wells: [[String: String]] = [
      ["Metadata_control_type": "negcon", "compound": "DMSO"], ["Metadata_control_type": "trt", "compound": "taxol"],
      ["Metadata_control_type": "poscon", "compound": "staurosporine 1 uM"], ["control": "yes"], ["control": "0"],
    ]
    let cases: [(String, [Bool])] = [
      ("Metadata_control_type=negcon", [true, false, false, false, false]),
      ("  control_type = negcon ", [true, false, false, false, false]),
      ("compound != DMSO", [false, true, true, false, false]),
      ("compound in dmso, 'staurosporine 1 uM'", [true, false, true, false, false]),
      ("compound IN taxol", [false, true, false, false, false]),
      ("control", [false, false, false, true, false]),
      ("compound == \"DMSO\"", [true, false, false, false, false]),
    ]
    for (text, expected) in cases {
      let expression = try ControlExpression(parsing: text)
      XCTAssertEqual(wells.map(expression.matches), expected, text)
      XCTAssertEqual(try ControlExpression(parsing: expression.description), expression, text)
    }
    XCTAssertEqual(try ControlExpression(parsing: "compound in a, b").test, .oneOf(["a", "b"]))
    for bad in ["", "=DMSO", "compound=", "compound in", "compound = 'DMSO", "compound DMSO", "a=b,c", "a in x,,y"] {
      XCTAssertThrowsError(try ControlExpression(parsing: bad), bad) { error in
        let e = error as? DesignError
        XCTAssertEqual(e?.field, "--control", bad)
        XCTAssertTrue(e?.fix.contains("COLUMN=VALUE") == true, bad)
      }
    }
    XCTAssertTrue(["1", "TRUE", " yes"].allSatisfy(ControlExpression.isTrue))
    XCTAssertFalse(["0", "no", "", "2", "y"].contains(where: ControlExpression.isTrue))
  }

  /// A small simulated screen, read as `confound audit` reads it: LoadData CSV joined to its barcode platemap.
  func simulatedScreen() throws -> (Screen, TemporaryDirectory) {
    let (dir, output) = try renderTinySimulation()
    var (screen, _) = try LoadDataReader.read(output.loadData)
    _ = screen.join(try BarcodePlatemap(contentsOf: output.barcodePlatemap))
    return (screen, dir)
  }

  func testTheSimulatorsNamesResolveWithNoFlags() throws {
    let (screen, _) = try simulatedScreen()
    let design = try ResolvedDesign.resolve(StudyDesign(), columns: screen.designColumns)
    XCTAssertEqual(design.target, "disease")
    XCTAssertEqual(design.unit, "cell_line")
    XCTAssertEqual(design.batch, "Batch")
    XCTAssertEqual(design.control, ControlExpression(column: "control", test: .isTrue))
    XCTAssertEqual(design.targetKind, .binary(levels: ["disease", "healthy"]))
    XCTAssertEqual(design.inferred.map(\.field), ["target", "unit", "batch", "plate", "well", "control"])
    XCTAssertNil(design.pair)
    XCTAssertEqual(
      Array(design.summaryLines.prefix(5)),
      [
        "target: disease (inferred from the convention \"disease\", binary (disease / healthy))",
        "unit: cell_line (inferred from the convention \"cell_line\")", "pair: none",
        "control: control (inferred from the convention \"control\" (1/true/yes))",
        "batch: Batch (inferred from the convention \"batch\")",
      ])
    let stored = try JSONDecoder().decode(DesignSummary.self, from: JSONEncoder().encode(design.summary))
    XCTAssertEqual(stored, design.summary)
    let given = try ResolvedDesign.resolve(StudyDesign(target: "disease"), columns: screen.designColumns)
    XCTAssertEqual(given.summary.fields[0].source, "given")
    try design.validate(wells: screen.wellCovariates)
    try design.validate(sitesByWell: screen.siteCovariatesByWell)
    // The simulator's control pattern: (row + 2 column) % 11 == 5, the same on every plate.
    let controls = screen.wellCovariates.filter { design.control!.matches($0) }
    let expected = PlateFormat.wells96.positions.filter { ($0.row + 2 * $0.column) % 11 == 5 }.count * 2
    XCTAssertEqual(controls.count, expected)
  }

  func testRenamedColumnsDeclaredByFlagsResolveToTheSameWells() throws {
    let (screen, _) = try simulatedScreen()
    let renames = ["disease": "condition_x", "cell_line": "patient_line", "control": "negative_control"]
    let wells = screen.wellCovariates.map { well in
      Dictionary(uniqueKeysWithValues: well.map { (renames[$0.key] ?? $0.key, $0.value) })
    }
    let columns = Dictionary(
      uniqueKeysWithValues: Set(wells.flatMap(\.keys)).map { k in (k, wells.map { $0[k] ?? "" }) })
    let inferred = try ResolvedDesign.resolve(StudyDesign(), columns: columns)
    XCTAssertNil(inferred.target)
    XCTAssertTrue(inferred.notes.contains("no target given: every nuisance and quality analysis runs"))
    let declared = try ResolvedDesign.resolve(
      StudyDesign(target: "condition_x", unit: "Patient_Line", control: "negative_control"), columns: columns)
    XCTAssertEqual(declared.target, "condition_x")
    XCTAssertEqual(declared.unit, "patient_line")
    XCTAssertFalse(declared.inferred.contains { $0.field == "target" || $0.field == "control" })
    let original = try ResolvedDesign.resolve(StudyDesign(), columns: screen.designColumns)
    XCTAssertEqual(wells.map(declared.control!.matches), screen.wellCovariates.map(original.control!.matches))
    try declared.validate(wells: wells)
  }

  func testConventionsForCompoundScreens() throws {
    let columns = [
      "Metadata_pert_type": ["control", "trt", "trt"], "Metadata_broad_sample": ["DMSO", "BRD-1", "BRD-2"],
      "Metadata_Batch_Number": ["4", "4", "4"], "Metadata_target": ["", "EGFR", "TUBB"],
    ]
    let design = try ResolvedDesign.resolve(StudyDesign(), columns: columns)
    XCTAssertNil(design.target, "Metadata_target is a drug target, never the study's target")
    XCTAssertEqual(design.control?.description, "Metadata_pert_type=control")
    XCTAssertEqual(design.unit, "Metadata_broad_sample")
    XCTAssertEqual(design.batch, "Metadata_Batch_Number")
    let vehicle = try ResolvedDesign.resolve(StudyDesign(), columns: ["compound": ["dmso", "taxol"]])
    XCTAssertEqual(vehicle.control, ControlExpression(column: "compound", test: .equals("dmso")))
    let types = try ResolvedDesign.resolve(StudyDesign(), columns: ["control_type": ["negcon", "ctl_vehicle", "trt"]])
    XCTAssertEqual(types.control?.test, .oneOf(["ctl_vehicle", "negcon"]))
  }

  func testTargetKinds() {
    XCTAssertEqual(TargetKind.infer(["0", "1", "1", ""]), .binary(levels: ["0", "1"]))
    XCTAssertEqual(TargetKind.infer(["0", "1", "2.5", "10"]), .numeric(levels: 4))
    XCTAssertEqual(TargetKind.infer(["a", "b", "c", "a"]), .categorical(levels: ["a", "b", "c"]))
    XCTAssertNil(TargetKind.infer(["a", "a", ""]))
  }

  func testEveryBadDesignInputNamesItsFlag() throws {
    let wells: [[String: String]] = [
      ["disease": "healthy", "line": "L1", "pair": "P1", "control": "0", "one": "x"],
      ["disease": "disease", "line": "L2", "pair": "P1", "control": "1", "one": "x"],
      ["disease": "disease", "line": "L1", "pair": "P2", "control": "0", "one": "x"],
    ]
    let columns = Dictionary(uniqueKeysWithValues: wells[0].keys.map { k in (k, wells.map { $0[k]! }) })
    func error(_ body: () throws -> Void) -> DesignError? {
      do { try body() } catch let e as DesignError { return e } catch { XCTFail("\(error)") }
      return nil
    }
    for flag in ["target", "unit", "pair", "batch", "covariates"] {
      var design = StudyDesign()
      switch flag {
      case "target": design.target = "genotype"
      case "unit": design.unit = "genotype"
      case "pair": design.pair = "genotype"
      case "batch": design.batch = "genotype"
      default: design.covariates = ["line", "genotype"]
      }
      let e = error { _ = try ResolvedDesign.resolve(design, columns: columns) }
      XCTAssertEqual(e?.field, "--\(flag)")
      XCTAssertEqual(e?.fix, "Name one of the columns it has: control, disease, line, one, pair")
    }
    let missingControl = error { _ = try ResolvedDesign.resolve(StudyDesign(control: "kind=negcon"), columns: columns) }
    XCTAssertEqual(missingControl?.field, "--control")
    let empty = try ResolvedDesign.resolve(StudyDesign(control: "line=L9"), columns: columns)
    let emptyError = error { try empty.validate(wells: wells) }
    XCTAssertEqual(emptyError?.field, "--control")
    XCTAssertTrue(emptyError?.fix.contains("L1, L2") == true, emptyError?.description ?? "")
    let oneValue = try ResolvedDesign.resolve(StudyDesign(target: "one", control: "control"), columns: columns)
    XCTAssertNil(oneValue.targetKind)
    XCTAssertEqual(error { try oneValue.validate(wells: wells) }?.field, "--target")
    let mixedUnit = try ResolvedDesign.resolve(StudyDesign(unit: "line"), columns: columns)
    let mixed = error { try mixedUnit.validate(wells: wells) }
    XCTAssertEqual(mixed?.field, "--unit")
    XCTAssertTrue(mixed?.message.contains("L1 has disease and healthy") == true, mixed?.description ?? "")
    let pairs = try ResolvedDesign.resolve(StudyDesign(unit: "pair", pair: "pair"), columns: columns)
    let pairError = error { try pairs.validate(wells: wells) }
    XCTAssertEqual(pairError?.field, "--unit")  // pair P1 holds both values, so as a unit it is mixed
    let odd = error { try ResolvedDesign(target: "disease", pair: "pair").validate(wells: wells) }
    XCTAssertEqual(odd?.field, "--pair")
    XCTAssertTrue(odd?.message.contains("P2 has disease") == true, odd?.description ?? "")
    let sites = ["P/A01": [["disease": "healthy"], ["disease": "disease"]]]
    XCTAssertEqual(error { try ResolvedDesign(target: "disease").validate(sitesByWell: sites) }?.field, "--target")
  }
}
