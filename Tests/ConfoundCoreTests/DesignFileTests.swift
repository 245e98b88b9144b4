import TestSupport
import XCTest

@testable import ConfoundCore

/// Design files: the TOML subset, JSON, and `design init` loading back to the same design.
final class DesignFileTests: XCTestCase {
  func testTOMLSubsetWithTableCommentsArraysAndBareValues() throws {
    let text = """
      # a design
      [design]
      target = "SBS_Doses"   # the dose
      unit = 'Row'
      control = "SBS_Controls = -1"  # a # inside a string stays
      covariates = [
        "Column",  # first
        "Metadata_Plate",
      ]
      batch = 4
      """
    let design = try StudyDesign.parseTOML(text)
    XCTAssertEqual(
      design,
      StudyDesign(
        target: "SBS_Doses", unit: "Row", batch: "4", control: "SBS_Controls = -1",
        covariates: ["Column", "Metadata_Plate"]))
    XCTAssertEqual(try StudyDesign.parseTOML("target = \"a\\\"b\""), StudyDesign(target: "a\"b"))
    XCTAssertEqual(try StudyDesign.parseTOML("covariates = []\n"), StudyDesign())
  }

  func testTOMLErrorsNameTheLine() {
    let cases: [(String, Int, String)] = [
      ("target = \"a\"\n[other]\n", 2, "table [other]"),
      ("\n\ntargte = \"a\"", 3, "unknown key \"targte\""),
      ("target = \"a\"\ntarget = \"b\"", 2, "twice"),
      ("target = disease", 1, "not a quoted string"),
      ("target = \"a", 1, "not closed"),
      ("unit = [\"a\"]", 1, "not an array"),
      ("covariates = \"a\", \"b\"", 1, "unexpected text"),
      ("target", 1, "expected key = value"),
      ("a.b = 1", 1, "unknown key"),
    ]
    for (text, line, fragment) in cases {
      XCTAssertThrowsError(try StudyDesign.parseTOML(text, file: "d.toml"), text) { error in
        let e = error as? DesignError
        XCTAssertEqual(e?.field, "d.toml:\(line)", text)
        XCTAssertTrue(e?.message.contains(fragment) == true, "\(text): \(e?.message ?? "")")
      }
    }
  }

  func testFlagsOverrideTheDesignFile() {
    let file = StudyDesign(target: "disease", unit: "cell_line", control: "control", covariates: ["source_lab"])
    XCTAssertEqual(
      file.overridden(by: StudyDesign(unit: "donor", control: "compound=DMSO")),
      StudyDesign(target: "disease", unit: "donor", control: "compound=DMSO", covariates: ["source_lab"]))
    XCTAssertEqual(file.overridden(by: StudyDesign(covariates: ["passage"])).covariates, ["passage"])
    XCTAssertEqual(file.overridden(by: StudyDesign()), file)
  }

  func testLoadReadsJSONAndTOMLByExtension() throws {
    let dir = try TemporaryDirectory()
    let json = dir.url.appendingPathComponent("design.json")
    try Data(#"{"target": "genotype", "covariates": ["passage"]}"#.utf8).write(to: json)
    XCTAssertEqual(try StudyDesign.load(json), StudyDesign(target: "genotype", covariates: ["passage"]))
    let toml = dir.url.appendingPathComponent("design.toml")
    try Data("control = \"compound=DMSO\"\n".utf8).write(to: toml)
    XCTAssertEqual(try StudyDesign.load(toml), StudyDesign(control: "compound=DMSO"))
    try Data(#"{"target": "genotype", "controls": "compound=DMSO"}"#.utf8).write(to: json)
    XCTAssertThrowsError(try StudyDesign.load(json)) { error in
      XCTAssertEqual((error as? DesignError)?.message, "unknown key \"controls\"")
    }
    XCTAssertThrowsError(try StudyDesign.load(dir.url.appendingPathComponent("none.toml"))) { error in
      XCTAssertTrue((error as? DesignError)?.field.hasSuffix("none.toml") == true)
    }
  }

  func testInitFileLoadsBackToTheSameResolvedDesign() throws {
    let screens: [[String: [String]]] = [
      // The simulator's names.
      [
        "disease": ["healthy", "disease", "healthy", "disease"], "cell_line": ["CL01", "CL05", "CTRL", "CL06"],
        "control": ["0", "0", "1", "0"], "Batch": ["B1", "B1", "B2", "B2"], "Plate": ["P1", "P1", "P2", "P2"],
        "Well": ["A01", "A02", "A01", "A02"], "source_lab": ["lab-A", "lab-B", "lab-A", "lab-B"],
      ],
      // A compound screen with no target and a column holding quotes.
      [
        "Metadata_pert_type": ["control", "trt", "trt"], "Metadata_broad_sample": ["DMSO", "BRD-1", "BRD-2"],
        "Metadata_moa": ["", "tubulin \"inhibitor\"", "EGFR inhibitor"],
      ],
    ]
    let dir = try TemporaryDirectory()
    for (i, columns) in screens.enumerated() {
      let text = StudyDesign.initFile(columns: columns, source: "screen \(i)")
      let url = dir.url.appendingPathComponent("design\(i).toml")
      try Data(text.utf8).write(to: url)
      let loaded = try StudyDesign.load(url)
      let direct = try ResolvedDesign.resolve(StudyDesign(), columns: columns)
      let back = try ResolvedDesign.resolve(loaded, columns: columns)
      XCTAssertEqual(back.explicit, direct.explicit, text)
      XCTAssertEqual(back.targetKind, direct.targetKind)
      XCTAssertEqual(loaded, direct.explicit, "inferred fields are written out, the others commented: \(text)")
      for column in columns.keys { XCTAssertTrue(text.contains("#   \(column) ("), column) }
    }
    let first = StudyDesign.initFile(columns: screens[0], source: "sim")
    XCTAssertTrue(first.contains("target = \"disease\""))
    XCTAssertTrue(first.contains("# (inferred from the convention \"disease\")"))
    XCTAssertTrue(first.contains("# pair = \"COLUMN\""))
    XCTAssertTrue(first.contains("# candidates: source_lab"), first)
  }
}
