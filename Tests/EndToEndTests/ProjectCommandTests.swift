import ConfoundImaging
import Foundation
import JSONRPC
import TestSupport
import XCTest

/// `confound project` on the LINCS plate's 384 profiles: the figure has one panel per covariate (PNG size and SVG
/// panel count), the coordinates file has a row per well, and the batch-mixing scores come back.
final class ProjectCommandTests: XCTestCase {
  private func lincsTable() throws -> String {
    do {
      return try SharedData.require("data/lincs-SQ00015054-profiles")
        .appendingPathComponent("SQ00015054_normalized_feature_select.csv.gz").path
    } catch let skip as SkipReason { throw XCTSkip(skip.description) }
  }

  private func project(_ arguments: [String]) throws -> JSONValue {
    let text = try runCommandStdout(try LiveHost.binary("confound").path, ["project", "--json"] + arguments)
    return try JSONParser.parse(Array(text.utf8))
  }

  /// Rows and columns of a CSV file without quoted commas.
  private func shape(_ path: String) throws -> (rows: Int, columns: Set<Int>, header: [String]) {
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    return (
      lines.count - 1, Set(lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).count }),
      lines[0].split(separator: ",").map(String.init)
    )
  }

  func testTSNEFigureHasOnePanelPerCovariateAndMixingScores() throws {
    let table = try lincsTable()
    let out = try TemporaryDirectory()
    let response = try project([
      "--table", table, "--color", "Metadata_mmoles_per_liter,row,column",
      "--batch", "row", "--out", out.url.path,
    ])
    XCTAssertEqual(response["method"], "tsne")
    XCTAssertEqual(response["rows"]?.intValue, 384)
    XCTAssertEqual(response["featuresUsed"]?.intValue, 454)
    let kl = try XCTUnwrap(response["klDivergence"]?.doubleValue)
    XCTAssertGreaterThan(kl, 0)
    XCTAssertLessThan(kl, 3)
    let csv = try shape(try XCTUnwrap(response["coordinates"]?.stringValue))
    XCTAssertEqual(csv.rows, 384)
    XCTAssertEqual(csv.columns, [6])
    XCTAssertEqual(csv.header, ["row", "x", "y", "Metadata_mmoles_per_liter", "row", "column"])
    let png = try readPNG(URL(fileURLWithPath: try XCTUnwrap(response["png"]?.stringValue)))
    XCTAssertGreaterThan(png.width, 3 * 300, "three panels side by side")
    XCTAssertEqual(png.height, 54 + 374, "one row of panels")
    let svg = try String(contentsOfFile: try XCTUnwrap(response["svg"]?.stringValue), encoding: .utf8)
    XCTAssertTrue(svg.contains("<svg") && svg.contains("</svg>"))
    // The SVG lists its texts in <desc>: one title per panel, and for the 16 rows a legend of 14 and "+2 more".
    for covariate in ["Metadata_mmoles_per_liter", "row", "column"] {
      XCTAssertTrue(svg.contains("\n\(covariate)\n"), "no \(covariate) panel")
    }
    XCTAssertTrue(svg.contains("\n+2 more"))
    let mixing = try XCTUnwrap(response["mixing"])
    XCTAssertEqual(mixing["batches"]?.intValue, 16)
    for key in ["iLISI", "knnBatchEntropy", "silhouetteBatch", "pcRegression"] {
      let v = try XCTUnwrap(mixing[key]?.doubleValue, key)
      XCTAssertTrue((0...1).contains(v), "\(key) = \(v)")
    }
  }

  func testPCAWithFourCovariatesWrapsToTwoRows() throws {
    let table = try lincsTable()
    let out = try TemporaryDirectory()
    let response = try project([
      "--table", table, "--method", "pca", "--out", out.url.path,
      "--color", "Metadata_moa,Metadata_mmoles_per_liter,row,column",
    ])
    let ratio = try XCTUnwrap(response["explainedVarianceRatio"]?.arrayValue?.compactMap(\.doubleValue))
    XCTAssertEqual(ratio.count, 2)
    XCTAssertGreaterThan(ratio[0], ratio[1])
    let png = try readPNG(URL(fileURLWithPath: try XCTUnwrap(response["png"]?.stringValue)))
    XCTAssertEqual(png.height, 54 + 2 * 374, "four panels: two rows")
    let svg = try String(contentsOfFile: out.file("pca.svg").path, encoding: .utf8)
    XCTAssertTrue(svg.contains("<svg") && svg.contains("</svg>"))
    XCTAssertEqual(try shape(out.file("pca-coordinates.csv").path).rows, 384)
  }

  func testUnknownColourColumnIsNamed() throws {
    let table = try lincsTable()
    let out = try TemporaryDirectory()
    XCTAssertThrowsError(
      try runCommand(
        try LiveHost.binary("confound").path,
        ["project", "--table", table, "--color", "Metadata_dos", "--out", out.url.path])
    ) {
      let text = "\($0)"
      XCTAssertTrue(text.contains("color") && text.contains("Metadata_dos"), text)
    }
  }
}
