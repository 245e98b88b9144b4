import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import Statistics
import TestSupport
import XCTest

@testable import ConfoundServer

/// The t-SNE of the cell embeddings (the paper's Figure 3), in this process on two small simulated audits (see
/// `SmallAudits`): one point per embedded cell crop, a panel per covariate, registered in the store as figures, and
/// the batches' mixing in the cells' embedding space, which a planted batch shift lowers.
final class AuditCellProjectionTests: XCTestCase {
  /// Each site's embedded cells, from the store: the projection's points must be these cells, no more.
  func embeddedCells(_ store: RunStore) throws -> Int {
    try store.doneKeys(stage: "embed").reduce(0) { total, key in
      total + (try store.loadArray(name: SegmentStage.arrayName("embeddings_crops", key: key))?.count ?? 0)
    }
  }

  func testCellEmbeddingsAreProjectedOnePointPerCellWithAPanelPerCovariate() throws {
    let run = try SmallAudits.run(plant: SmallAudits.everything)
    let store = try RunStore(url: run.out.appendingPathComponent("run.sqlite"))
    let cells = try embeddedCells(store)
    XCTAssertGreaterThan(cells, 192, "up to 4 cells per site were embedded")
    let plots = run.out.appendingPathComponent("plots")
    let lines = try String(contentsOf: plots.appendingPathComponent("cells-tsne-coordinates.csv"), encoding: .utf8)
      .split(separator: "\n")
    let header = lines[0].split(separator: ",").map(String.init)
    XCTAssertEqual(Array(header.prefix(3)), ["row", "x", "y"])
    for column in ["plate", "well", "site", "crop", "batch", "column", "disease", "cell_line"] {
      XCTAssertTrue(header.contains(column), "\(column) in \(header)")
    }
    XCTAssertEqual(
      lines.count - 1, min(cells, CellProjection.maxCells), "one point per embedded cell (all of them here)")
    // Each point names an embedded cell of its site, and no cell twice.
    let (wellAt, siteAt, cropAt) = (
      header.firstIndex(of: "well")!, header.firstIndex(of: "site")!, header.firstIndex(of: "crop")!
    )
    let plateAt = try XCTUnwrap(header.firstIndex(of: "plate"))
    var seen = Set<String>()
    for line in lines.dropFirst() {
      let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      let key = "\(f[plateAt])/\(f[wellAt])/\(f[siteAt])"
      let embedded = try XCTUnwrap(try store.loadArray(name: SegmentStage.arrayName("embeddings", key: key)), key)
      XCTAssertLessThan(Int(f[cropAt])!, embedded.shape[0], key)
      XCTAssertTrue(seen.insert("\(key)#\(f[cropAt])").inserted, "cell \(key) #\(f[cropAt]) drawn twice")
    }
    let stored = try XCTUnwrap(try store.loadArray(name: "projection-cells-tsne"))
    XCTAssertEqual(stored.shape, [lines.count - 1, 2])
    let svg = try String(contentsOf: plots.appendingPathComponent("cells-tsne.svg"), encoding: .utf8)
    for covariate in ["batch", "plate", "row", "column", "disease", "cell_line"] {
      XCTAssertTrue(svg.contains("\n\(covariate)\n"), "no \(covariate) panel")
    }
    let artifacts = try store.artifacts()
    for name in ["plots/cells-tsne.png", "plots/cells-tsne.svg", "plots/cell-batch-mixing.json"] {
      let artifact = try XCTUnwrap(artifacts.first { $0.name == name }, "\(artifacts.map(\.name))")
      XCTAssertEqual(artifact.stage, "projection")
      XCTAssertEqual(artifact.path, name)
    }
    XCTAssertEqual(artifacts.first { $0.name == "plots/cells-tsne.png" }?.kind, "figure")
    let report = try String(contentsOf: run.out.appendingPathComponent("report.html"), encoding: .utf8)
    XCTAssertTrue(report.contains("cells-tsne-coordinates.csv"), "the report draws the cells' t-SNE")
  }

  /// The sample keeps every plate's share and draws the same cells for the same seed.
  func testSampleIsBoundedStratifiedByPlateAndSeeded() {
    let counts = ["P1/A01/1": 3000, "P1/A02/1": 1000, "P2/A01/1": 2000, "P3/B02/1": 2]
    let cells = CellProjection.sample(counts, limit: 5000, seed: 1)
    XCTAssertEqual(cells.count, 5000)
    let perPlate = Dictionary(grouping: cells, by: { $0.site.prefix(2) }).mapValues(\.count)
    XCTAssertEqual(
      perPlate, ["P1": 3332, "P2": 1666, "P3": 2],
      "shares 3332.2, 1666.1, 1.67: the one left over to the largest remainder")
    XCTAssertEqual(Set(cells).count, 5000, "without replacement")
    XCTAssertEqual(cells, CellProjection.sample(counts, limit: 5000, seed: 1))
    XCTAssertNotEqual(cells, CellProjection.sample(counts, limit: 5000, seed: 2))
    XCTAssertEqual(CellProjection.sample(["P1/A01/1": 7], limit: 5000, seed: 1).count, 7, "all cells when few")
  }

  /// The same seed with everything planted and with nothing planted. The batch shift is a gain, a camera offset and
  /// a fall-off of the illumination per batch: the embedder stretches each crop's 1st..99th percentile, which
  /// undoes a gain and an offset, so the batches mix in the cell embeddings either way (measured: iLISI 0.91 with
  /// the shift, 0.92 without). The source-lab confounder changes the cells themselves (nuclei 30% larger in lab-B
  /// lines): in the cells' t-SNE the labs then mix less than on the clean screen, scored with the same mixing
  /// definition on the stored coordinates with each point's lab read from the store by its plate and well, which
  /// also shows that each point is its own cell.
  func testCellMixingSeesWhatChangesTheCellsNotWhatPercentileScalingUndoes() throws {
    let stages = ["focus", "segment", "embed", "projection"]
    let planted = try SmallAudits.run(plant: SmallAudits.everything)
    let clean = try SmallAudits.run(plant: "none", stages: stages)
    let mixing = { (run: SmallAudits.Run) throws -> JSONValue in
      try JSONParser.parse(Array(try Data(contentsOf: run.out.appendingPathComponent("plots/cell-batch-mixing.json"))))
    }
    let (batchPlanted, batchClean) = (try mixing(planted), try mixing(clean))
    let scores = ["iLISI", "knnBatchEntropy", "silhouetteBatch", "pcRegression"]
    print(
      "cell batch mixing, planted: " + scores.map { "\($0) \(batchPlanted[$0]!.doubleValue!)" }.joined(separator: ", "))
    print(
      "cell batch mixing, clean:   " + scores.map { "\($0) \(batchClean[$0]!.doubleValue!)" }.joined(separator: ", "))
    XCTAssertEqual(batchPlanted["batch"]?.stringValue, "batch")
    XCTAssertEqual(batchPlanted["batches"]?.intValue, 2)
    for run in [batchPlanted, batchClean] {
      XCTAssertGreaterThan(run["iLISI"]!.doubleValue!, 0.8, "gain and offset undone per crop")
    }
    let labs = { (run: SmallAudits.Run) throws -> BatchMixing in
      let store = try RunStore(url: run.out.appendingPathComponent("run.sqlite"))
      let wells = Dictionary(
        try WellTable.build(store: store, batches: [:]).rows.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
      let lines = try String(
        contentsOf: run.out.appendingPathComponent("plots/cells-tsne-coordinates.csv"), encoding: .utf8
      )
      .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
      let (plate, well) = (lines[0].firstIndex(of: "plate")!, lines[0].firstIndex(of: "well")!)
      let rows = lines.dropFirst()
      let xy = try FeatureMatrix(
        rows: rows.count, columns: 2, values: rows.flatMap { [Double($0[1])!, Double($0[2])!] })
      return try BatchMixing(xy, batch: rows.map { wells["\($0[plate])/\($0[well])"]!.covariates["source_lab"]! })
    }
    let (labPlanted, labClean) = (try labs(planted), try labs(clean))
    print(
      "source_lab mixing in the cells' t-SNE: planted iLISI \(labPlanted.iLISI), silhouette \(labPlanted.silhouetteBatch); "
        + "clean iLISI \(labClean.iLISI), silhouette \(labClean.silhouetteBatch)")
    XCTAssertLessThan(labPlanted.iLISI, labClean.iLISI - 0.1, "lab-B's larger nuclei set its cells apart")
  }
}
