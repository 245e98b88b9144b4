import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import Statistics

/// The t-SNE of the cell embeddings (the paper's Figure 3: one point per cell crop), beside the per-well
/// projections of the hand features: the embed stage's per-cell vectors (the pretrained embedder's, else the
/// random-weights baseline's), at most `maxCells` of them, drawn coloured by the same covariates as the wells.
///
/// Sampling: when the screen has more embedded cells than `maxCells`, each plate keeps its share of the cells
/// (largest remainders), drawn without replacement by a seeded shuffle of that plate's cells (seed 1), so every
/// plate is in the picture in proportion and a rerun draws the same cells. The vectors are standardised (constant
/// columns dropped) and reduced to their first `components` principal components, where the t-SNE runs and where
/// the batches' mixing is scored with the per-well projection's definition (scib's scores, as scib scores an
/// embedding's PCA). Written as `DIR/plots/cells-tsne.{png,svg}`, `cells-tsne-coordinates.csv` (plate, well, site,
/// crop row, then the covariates), `cell-batch-mixing.json`, and the array `projection-cells-tsne` [cells, 2].
struct CellProjection {
  static let maxCells = 5000
  static let components = 50
  static let seed: UInt64 = 1

  /// One embedded cell: its site's key (`plate/well/site`) and its row in that site's embedding array.
  struct Cell: Hashable {
    let site: String
    let row: Int
  }

  /// The cells of `counts` (site key -> embedded cells) kept: all when at most `limit`, else each plate's share
  /// drawn by a seeded shuffle; in site-key order, rows ascending.
  static func sample(_ counts: [String: Int], limit: Int, seed: UInt64) -> [Cell] {
    let plateOf = { (key: String) in String(key.split(separator: "/").first ?? "") }
    var byPlate: [String: [Cell]] = [:]
    for key in counts.keys.sorted() {
      for row in 0..<counts[key]! { byPlate[plateOf(key), default: []].append(Cell(site: key, row: row)) }
    }
    let total = byPlate.values.reduce(0) { $0 + $1.count }
    guard total > limit else { return byPlate.keys.sorted().flatMap { byPlate[$0]! } }
    // Largest-remainder quotas, proportional to each plate's cells.
    let plates = byPlate.keys.sorted()
    let exact = plates.map { Double(limit) * Double(byPlate[$0]!.count) / Double(total) }
    var quota = exact.map { Int($0.rounded(.down)) }
    let order = plates.indices.sorted { (exact[$0] - Double(quota[$0]), $1) > (exact[$1] - Double(quota[$1]), $0) }
    for i in order.prefix(limit - quota.reduce(0, +)) { quota[i] += 1 }
    var random = SeededGenerator(seed: seed)
    var kept: [Cell] = []
    for (plate, q) in zip(plates, quota) {
      var cells = byPlate[plate]!
      random.shuffle(&cells)
      kept += cells.prefix(q).sorted { ($0.site, $0.row) < ($1.site, $1.row) }
    }
    return kept
  }

  /// Draws the projection; returns 1 when it was made, 0 when there are no cell embeddings (or too few cells).
  func run(_ audit: Audit, table: WellTable, plots: URL) throws -> Int {
    let store = audit.store
    guard let variant = EmbedStage.variants.first(where: { !((try? store.doneKeys(stage: $0.stage)) ?? []).isEmpty })
    else {
      return 0
    }
    var counts: [String: Int] = [:]
    for key in try store.doneKeys(stage: variant.stage) {
      if let rows = try store.loadArray(name: SegmentStage.arrayName(variant.prefix + "_crops", key: key)),
        rows.count > 0
      {
        counts[key] = rows.count
      }
    }
    let byWell = Dictionary(table.rows.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    counts = counts.filter { byWell[String($0.key.split(separator: "/").dropLast().joined(separator: "/"))] != nil }
    let total = counts.values.reduce(0, +)
    let cells = Self.sample(counts, limit: Self.maxCells, seed: Self.seed)
    guard cells.count >= 10 else {
      audit.note("Cell projection: \(cells.count) embedded cells, too few to draw (10 are needed).")
      return 0
    }
    // Site by site, each site's array read once; points in site-key order, crop rows ascending.
    let ordered = cells.sorted { ($0.site, $0.row) < ($1.site, $1.row) }
    var vectors: [Double] = []
    var dimension = 0
    var wells: [WellTable.Row] = []
    var site: (key: String, values: [Float], well: WellTable.Row)?
    for cell in ordered {
      if site?.key != cell.site {
        try audit.context.checkCancellation()
        let array = try store.loadArray(name: SegmentStage.arrayName(variant.prefix, key: cell.site))!
        dimension = array.shape[1]
        site = (cell.site, array.floats(), byWell[String(cell.site.split(separator: "/").dropLast().joined(separator: "/"))]!)
      }
      vectors += site!.values[cell.row * dimension..<(cell.row + 1) * dimension].map(Double.init)
      wells.append(site!.well)
    }
    let x = Projection.standardized(try FeatureMatrix(rows: ordered.count, columns: dimension, values: vectors))
    let k = min(Self.components, x.columns, x.rows - 1)
    let pca = try PrincipalComponents(fitting: x, components: k)
    let scores = try pca.transform(x)
    let panels = ProjectionStage.covariates(wells, audit: audit, distinct: Set(wells.map(\.key)).count)
    let identifiers: [(name: String, values: [String])] = [
      ("plate", wells.map(\.plate)), ("well", wells.map(\.well)),
      ("site", ordered.map { String($0.site.split(separator: "/").last ?? "") }),
      ("crop", ordered.map { String($0.row) }),
    ]
    let sampled = total > Self.maxCells ? ", a sample of \(ordered.count) of \(total) stratified by plate" : ""
    let projection = try Projection(method: "tsne", perplexity: nil, seed: Self.seed, standardize: false)
    let result = try projection.run(
      scores, covariates: panels, out: plots,
      title: "t-SNE of \(ordered.count) cells (\(variant.featureSet), \(k) PCs\(sampled))",
      stem: "cells-tsne", identifiers: identifiers.filter { id in !panels.contains { $0.name == id.name } })
    try store.complete(stage: ProjectionStage.name, key: "cells-tsne") { unit in
      try store.saveArray(
        result.coordinates2D.map(Float.init), shape: [ordered.count, 2], name: "projection-cells-tsne", in: unit)
    }
    let what = "t-SNE of \(ordered.count) cells' \(variant.featureSet)\(sampled), one panel per covariate"
    for file in [result.png, result.svg] {
      try audit.artifact(file, kind: "figure", stage: ProjectionStage.name, description: what)
    }
    try audit.artifact(
      result.coordinates, kind: "table", stage: ProjectionStage.name,
      description: "coordinates of the cells' t-SNE, one row per cell, with its plate, well, site and covariates")
    let batches = wells.map { audit.design.batch(of: $0) }
    let (name, labels) = Set(batches).count >= 2 ? ("batch", batches) : ("plate", wells.map(\.plate))
    if Set(labels).count >= 2, let mixing = try Projection.mixing(scores, batch: labels, name: name) {
      audit.note("Cell embeddings (\(variant.featureSet), \(ordered.count) cells\(sampled)): " + mixing.verdict)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      let file = plots.appendingPathComponent("cell-batch-mixing.json")
      try encoder.encode(mixing).write(to: file)
      try audit.artifact(
        file, kind: "summary", stage: ProjectionStage.name,
        description: "how well the \(name)es mix in the cell embeddings (\(k) principal components)")
    }
    return 1
  }
}
