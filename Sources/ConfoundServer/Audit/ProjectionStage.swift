import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import Statistics

/// The audit's projections (the paper's Figure 3): PCA and t-SNE of the per-well means of the hand features (the
/// measurements whose role describes the cells, as the target probe's "hand features" set), drawn coloured by batch, plate, row, column
/// and every well covariate into `DIR/plots/`, the coordinates stored in the run store (arrays
/// `projection-wells-pca` and `projection-wells-tsne`, rows in the order of `DIR/plots/wells-*-coordinates.csv`),
/// and how well the batches (or plates, with one batch) mix in the feature space, as summary sentences and
/// `DIR/plots/batch-mixing.json`. The mixing scores are descriptive (no p-value), so they are not findings. When the
/// embed stage stored cell embeddings, the t-SNE of the cells themselves follows (`CellProjection`).
struct ProjectionStage: AuditStage {
  static let name = "projection"
  static let needs: Set<AuditResource> = [.features]
  static let produces: Set<AuditResource> = []

  init() {}

  func skipReason(_ audit: Audit) -> String? {
    guard let table = try? audit.wells() else { return "the well table cannot be read" }
    let features = table.commonColumns(of: table.rows) { $0.isHandFeature }
    return table.rows.count >= 10 && features.count >= 2 ? nil
      : "\(table.rows.count) wells with \(features.count) hand features in common (a projection needs 10 and 2)"
  }

  /// Runs the projections; their mixing scores become summary notes. A projection that cannot be made is logged
  /// and skipped: it never stops the audit.
  func run(_ audit: Audit) throws -> StageCounts {
    let store = audit.store
    let table = try audit.wells()
    let wells = table.rows
    let features = table.commonColumns(of: wells) { $0.isHandFeature }
    let x = try FeatureMatrix(
      rows: wells.count, columns: features.count,
      values: wells.flatMap { w in features.map { w.values[$0]! } })
    let plots = audit.out.appendingPathComponent("plots")
    let panels = Self.covariates(wells, audit: audit)
    let identifiers =
      (panels.contains { $0.name == "plate" } ? [] : [(name: "plate", values: wells.map(\.plate))])
      + [(name: "well", values: wells.map(\.well))]
    var standardised: FeatureMatrix?
    var made = 0
    for method in ["pca", "tsne"] {
      try audit.context.checkCancellation()
      do {
        let projection = try Projection(method: method, perplexity: nil, seed: 1, standardize: true)
        let result = try projection.run(
          x, covariates: panels, out: plots,
          title: "\(projection.name) of \(wells.count) wells (hand features, well means)",
          stem: "wells-\(method)", identifiers: identifiers)
        standardised = result.features
        try store.complete(stage: "projection", key: "wells-\(method)") { unit in
          try store.saveArray(
            result.coordinates2D.map(Float.init), shape: [wells.count, 2],
            name: "projection-wells-\(method)", in: unit)
        }
        for file in [result.png, result.svg] {
          try audit.artifact(file, kind: "figure", stage: Self.name,
                             description: "\(projection.name) of the wells' hand features, one panel per covariate")
        }
        made += 1
      } catch let error as ResponseError {
        audit.context.log(.warning, "projection \(method) skipped: \(error.message)")
      }
    }
    let wellBatches = wells.map { audit.design.batch(of: $0) }
    let (batchName, batches) =
      Set(wellBatches).count >= 2
      ? ("batch", wellBatches) : ("plate", wells.map(\.plate))
    if Set(batches).count < 2 {
      audit.note("Batch mixing: the wells are on one plate in one batch, so there is nothing to mix.")
    } else if let features = standardised,
      let mixing = try? Projection.mixing(features, batch: batches, name: batchName)
    {
      audit.note(mixing.verdict)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      let file = plots.appendingPathComponent("batch-mixing.json")
      try encoder.encode(mixing).write(to: file)
      try audit.artifact(file, kind: "summary", stage: Self.name, description: "how well the \(batchName)es mix in the feature space")
    }
    do {
      made += try CellProjection().run(audit, table: table, plots: plots)
    } catch let error as ResponseError where error.code == .requestCancelled {
      throw error
    } catch {
      let reason = (error as? ResponseError)?.message ?? "\(error)"
      audit.context.log(.warning, "cell projection skipped: \(reason)")
      audit.note("Cell projection: not drawn (\(reason)).")
    }
    return StageCounts(computed: made)
  }

  /// Batch, plate, row, column, then each covariate that has 2+ values and is not an identifier of the well (as many
  /// values as `distinct` wells; the rows may repeat a well, one row per cell).
  static func covariates(_ wells: [WellTable.Row], audit: Audit, distinct: Int? = nil) -> [(name: String, values: [String])] {
    var panels: [(name: String, values: [String])] = []
    let batches = wells.map { audit.design.batch(of: $0) }
    if Set(batches).count >= 2 { panels.append(("batch", batches)) }
    if Set(wells.map(\.plate)).count >= 2 { panels.append(("plate", wells.map(\.plate))) }
    panels.append(("row", wells.map { WellPosition.rowLetters($0.position.row) }))
    panels.append(("column", wells.map { String($0.position.column + 1) }))
    // The design's own columns first, so they are among the panels drawn.
    for key in [audit.design.target, audit.design.unit].compactMap({ $0 }) + audit.design.covariates
    where !panels.contains(where: { $0.name.lowercased() == key.lowercased() }) {
      let values = wells.map { $0.covariates[key] ?? "" }
      if Set(values).count >= 2 { panels.append((key, values)) }
    }
    let keys = Set(wells.flatMap { $0.covariates.keys }).sorted()
    // Case-insensitive: a platemap's "Batch" column repeats the screen's batch panel.
    for key in keys where !panels.contains(where: { $0.name.lowercased() == key.lowercased() }) {
      let values = wells.map { $0.covariates[key] ?? "" }
      let levels = Set(values).count
      if levels >= 2, levels < (distinct ?? wells.count) { panels.append((key, values)) }
    }
    return Array(panels.prefix(9))
  }
}
