import ConfoundImaging
import Foundation
import JSONRPC
import TestSupport
import XCTest

/// The audit's projection stage on a small simulated screen (2 plates, 2 batches, 192 wells): PCA and t-SNE
/// figures of the per-well hand features in DIR/plots with one panel per covariate, coordinates in the run store
/// equal to the CSV's, and the batch-mixing sentence in the summary.
final class AuditProjectionTests: XCTestCase {
  func testAuditWritesProjectionsStoresCoordinatesAndScoresBatchMixing() throws {
    let dir = try TemporaryDirectory()
    let run = dir.file("run")
    let text = try runCommandStdout(
      try LiveHost.binary("confound").path,
      ["audit", "--out", run.path, "--json", "--sim-plates", "2", "--sites", "1", "--seed", "3"])
    let response = try JSONParser.parse(Array(text.utf8))
    let summary = (response["summary"]?.arrayValue ?? []).compactMap(\.stringValue)
    let mixing = try XCTUnwrap(summary.first { $0.hasPrefix("Batches (batch, 2 levels)") }, "\(summary)")
    XCTAssertTrue(mixing.contains("iLISI") && mixing.contains("PCR"), mixing)
    let plots = run.appendingPathComponent("plots")
    for method in ["pca", "tsne"] {
      let svg = try String(contentsOf: plots.appendingPathComponent("wells-\(method).svg"), encoding: .utf8)
      let covariates = ["batch", "plate", "row", "column", "disease", "cell_line"]
      for covariate in covariates {
        XCTAssertTrue(svg.contains("\n\(covariate)\n"), "\(method): no \(covariate) panel")
      }
      let png = try readPNG(plots.appendingPathComponent("wells-\(method).png"))
      XCTAssertGreaterThanOrEqual(png.height, 54 + (covariates.count + 2) / 3 * 374, "panels three a row")
      let lines = try String(
        contentsOf: plots.appendingPathComponent("wells-\(method)-coordinates.csv"), encoding: .utf8
      )
      .split(separator: "\n").dropFirst()
      XCTAssertEqual(lines.count, 192)
      let csv = lines.flatMap { line -> [Double] in
        let fields = line.split(separator: ",")
        return [Double(fields[1])!, Double(fields[2])!]
      }
      let stored = try NPYArray.read(run.appendingPathComponent("run.sqlite.arrays/projection-wells-\(method).npy"))
      XCTAssertEqual(stored.shape, [192, 2])
      for (a, b) in zip(stored.doubles(), csv) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
    }
    let scores = try JSONParser.parse(Array(try Data(contentsOf: plots.appendingPathComponent("batch-mixing.json"))))
    for key in ["iLISI", "knnBatchEntropy", "silhouetteBatch", "pcRegression"] {
      XCTAssertTrue((0...1).contains(try XCTUnwrap(scores[key]?.doubleValue, key)), key)
    }
  }
}
