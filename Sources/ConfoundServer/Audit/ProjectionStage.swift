import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import Statistics

/// The audit's projections: PCA and t-SNE of the per-well means of the hand features (the measurements that are not
/// focus or image quality, as the probe stage's "hand features" set), drawn coloured by batch, plate, row, column
/// and every well covariate into `DIR/plots/`, the coordinates stored in the run store (arrays
/// `projection-wells-pca` and `projection-wells-tsne`, rows in the order of `DIR/plots/wells-*-coordinates.csv`),
/// and how well the batches (or plates, with one batch) mix in the feature space, as summary sentences and
/// `DIR/plots/batch-mixing.json`. The mixing scores are descriptive (no p-value), so they are not findings.
struct ProjectionStage {
  let runner: AuditRunner
  let store: RunStore
  let screen: Screen
  let siteIDs: [SiteKey: Int64]

  /// Runs the projections; returns summary sentences. A projection that cannot be made (too few wells or features)
  /// is logged and skipped: it never stops the audit.
  func run() throws -> [String] {
    let started = Date()
    let wells = try wellMeans()
    let features = commonFeatures(wells)
    guard wells.count >= 10, features.count >= 2 else {
      runner.context.log(
        .info, "projection: skipped (\(wells.count) wells with \(features.count) hand features in common)")
      return []
    }
    let x = try FeatureMatrix(
      rows: wells.count, columns: features.count,
      values: wells.flatMap { w in features.map { w.values[$0]! } })
    let plots = runner.out.appendingPathComponent("plots")
    let panels = covariates(wells)
    let identifiers =
      (panels.contains { $0.name == "plate" } ? [] : [(name: "plate", values: wells.map(\.plate))])
      + [(name: "well", values: wells.map(\.well.name))]
    var lines: [String] = []
    var standardised: FeatureMatrix?
    for method in ["pca", "tsne"] {
      try runner.context.checkCancellation()
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
        runner.context.log(.info, "projection: \(result.png.path), \(result.svg.path)")
      } catch let error as ResponseError {
        runner.context.log(.warning, "projection \(method) skipped: \(error.message)")
      }
    }
    let (batchName, batches) =
      Set(wells.map(\.batch)).count >= 2
      ? ("batch", wells.map(\.batch)) : ("plate", wells.map(\.plate))
    if let features = standardised,
      let mixing = try? Projection.mixing(features, batch: batches, name: batchName)
    {
      lines.append(mixing.verdict)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(mixing).write(to: plots.appendingPathComponent("batch-mixing.json"))
    }
    runner.record(
      stage: .init(
        name: "projection", computed: 2, resumed: 0, failed: 0, failures: [],
        seconds: Date().timeIntervalSince(started)))
    return lines
  }

  /// The per-well means of the hand features: the focus measures are left out, they are a nuisance of their own.
  private func wellMeans() throws -> [ProbeStage.WellRow] {
    try ProbeStage.WellRow.means(store: store, screen: screen, siteIDs: siteIDs, include: ProbeStage.WellRow.isHandFeature)
  }

  private func commonFeatures(_ wells: [ProbeStage.WellRow]) -> [String] {
    guard let first = wells.first else { return [] }
    return wells.dropFirst().reduce(Set(first.values.keys)) { $0.intersection($1.values.keys) }.sorted()
  }

  /// Batch, plate, row, column, then each covariate that has 2+ values and is not an identifier of the well.
  private func covariates(_ wells: [ProbeStage.WellRow]) -> [(name: String, values: [String])] {
    var panels: [(name: String, values: [String])] = []
    if Set(wells.map(\.batch)).count >= 2 { panels.append(("batch", wells.map(\.batch))) }
    if Set(wells.map(\.plate)).count >= 2 { panels.append(("plate", wells.map(\.plate))) }
    panels.append(("row", wells.map { WellPosition.rowLetters($0.well.row) }))
    panels.append(("column", wells.map { String($0.well.column + 1) }))
    let keys = Set(wells.flatMap { $0.covariates.keys }).sorted()
    // Case-insensitive: a platemap's "Batch" column repeats the screen's batch panel.
    for key in keys where !panels.contains(where: { $0.name.lowercased() == key.lowercased() }) {
      let values = wells.map { $0.covariates[key] ?? "" }
      let levels = Set(values).count
      if levels >= 2, levels < wells.count { panels.append((key, values)) }
    }
    return Array(panels.prefix(9))
  }
}
