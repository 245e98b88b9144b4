import ConfoundCore
import Foundation
import Statistics

/// A set of columns of the well table a probe reads, named for the reader: the ladder of the paper, from
/// nuisance-only sets (density alone, focus alone, well position alone) to hand features and CNN embeddings.
/// Columns are chosen by role (from the plugins' manifests), never by name.
struct FeatureSet {
  enum Source {
    /// Per-well means of these measurements.
    case measurements([String])
    /// Row, column and distance to the edge of the well (from its plate's format).
    case position([String: PlateFormat])
    /// The wells' mean embeddings of this feature set, reduced to their first principal components.
    case embedding(String)
  }

  let name: String
  /// The role the finding names (`density`, `focus`, `position`, `hand features`, `embedding`).
  let role: String
  /// A set that holds no biology: if it predicts the target, the target's signal may be nuisance.
  let nuisance: Bool
  let source: Source

  /// Embedding columns the probe sees: a 3840-value well embedding on ~170 wells makes each of the probe's hundreds
  /// of fits slow and mostly fits noise, so the wells' embeddings are reduced to their first principal components
  /// first. Label-free (fitted on the wells probed, no covariate read), as profiling pipelines do.
  static let embeddingComponents = 16
  /// A measurement set of more than twice this many columns (a CellProfiler profile of hundreds of features) is
  /// reduced the same way, after each column is standardised: the probes' hundreds of fits stay seconds, not minutes.
  static let measurementComponents = 32

  /// Each column standardised by the probes' own `Standardizer` (scikit-learn's StandardScaler), as Float rows.
  static func standardised(_ rows: [[Double]]) throws -> [[Float]] {
    let d = rows.first?.count ?? 0
    let x = try FeatureMatrix(rows: rows.count, columns: d, values: rows.flatMap { $0 })
    let z = try Standardizer(fitting: x).transform(x)
    return (0..<rows.count).map { r in (0..<d).map { Float(z[r, $0]) } }
  }

  /// The rows of `rows` this set has values for, and their values (one array per kept row).
  func matrix(_ rows: [WellTable.Row]) throws -> (kept: [Int], columns: [String], values: [[Double]]) {
    switch source {
    case .measurements(let names):
      let kept = rows.indices.filter { i in names.allSatisfy { rows[i].values[$0]?.isFinite ?? false } }
      let values = kept.map { i in names.map { rows[i].values[$0]! } }
      guard names.count > Self.measurementComponents * 2, kept.count >= 3 else { return (kept, names, values) }
      // Hundreds of profile columns: standardised, then their first principal components, as for embeddings.
      let scores = try PrincipalComponents.scores(ofRows: try Self.standardised(values), count: Self.measurementComponents)
      let pcs = (0..<(scores.first?.count ?? 0)).map { "\(name) PC\($0 + 1)" }
      return (kept, pcs, scores.map { $0.map(Double.init) })
    case .position(let formats):
      let names = ["row", "column", "edge distance"]
      return (Array(rows.indices), names, rows.map { r in
        let edge = formats[r.plate].map { $0.edgeDistance(r.position) } ?? min(r.position.row, r.position.column)
        return [Double(r.position.row), Double(r.position.column), Double(edge)]
      })
    case .embedding(let key):
      let kept = rows.indices.filter { rows[$0].embeddings[key] != nil }
      let vectors = kept.map { rows[$0].embeddings[key]! }
      guard vectors.count >= 3, Set(vectors.map(\.count)).count == 1 else { return ([], [], []) }
      let scores = try PrincipalComponents.scores(ofRows: vectors, count: Self.embeddingComponents)
      let names = (0..<(scores.first?.count ?? 0)).map { "\(name) PC\($0 + 1)" }
      return (kept, names, scores.map { $0.map(Double.init) })
    }
  }

  /// The sets the well table holds for `rows`, nuisance-only sets first.
  static func ladder(_ table: WellTable, rows: [WellTable.Row], formats: [String: PlateFormat]) -> [FeatureSet] {
    var sets: [FeatureSet] = []
    let density = table.commonColumns(of: rows) { $0 == .density }
    let counts = density.filter { $0.hasPrefix("Count_") }
    if !(counts.isEmpty ? density : counts).isEmpty {
      sets.append(FeatureSet(name: "density alone", role: "density", nuisance: true, source: .measurements(counts.isEmpty ? density : counts)))
    }
    let focus = table.commonColumns(of: rows) { $0 == .focus }
    if !focus.isEmpty { sets.append(FeatureSet(name: "focus alone", role: "focus", nuisance: true, source: .measurements(focus))) }
    sets.append(FeatureSet(name: "well position alone", role: "position", nuisance: true, source: .position(formats)))
    let hand = table.commonColumns(of: rows) { $0.isHandFeature }
    if hand.count > 1 { sets.append(FeatureSet(name: "hand features", role: "hand features", nuisance: false, source: .measurements(hand))) }
    // Embeddings a profiles table brings as measurements (DeepProfiler's, a pycytominer table of CNN features).
    let imported = table.commonColumns(of: rows) { $0 == .embedding }
    if imported.count > 1 {
      sets.append(FeatureSet(name: "imported embeddings", role: "embedding", nuisance: false, source: .measurements(imported)))
    }
    for key in EmbedStage.variants.map(\.featureSet) + Array(Set(rows.flatMap(\.embeddings.keys))).sorted()
    where !sets.contains(where: { $0.name == key }) && rows.contains(where: { $0.embeddings[key] != nil }) {
      sets.append(FeatureSet(name: key, role: "embedding", nuisance: false, source: .embedding(key)))
    }
    return sets
  }
}
