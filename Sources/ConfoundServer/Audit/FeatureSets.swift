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
  /// first. Label-free (fitted on every well of the table, no covariate read), as profiling pipelines do.
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

  /// The rows of `rows` this set has values for, and their values (one array per kept row). A reduced set (an
  /// embedding, a profile of hundreds of columns) gives each row its scores on principal components fitted on every
  /// well of `table` that has the set's values (once per audit, in `components`), not on `rows` alone: components
  /// fitted to the 24 control wells of a plate are the directions those few wells happen to vary along, and the
  /// probe's standardising then gives their noise the weight of their signal (on the LINCS plate, row from control
  /// wells fell from a balanced accuracy of 0.83-0.92 to 0.21-0.33 that way). Label-free: no covariate is read.
  func matrix(_ rows: [WellTable.Row], table: WellTable, components: ComponentScores) throws
    -> (kept: [Int], columns: [String], values: [[Double]])
  {
    switch source {
    case .measurements(let names):
      let kept = rows.indices.filter { i in names.allSatisfy { rows[i].values[$0]?.isFinite ?? false } }
      guard names.count > Self.measurementComponents * 2 else { return (kept, names, kept.map { i in names.map { rows[i].values[$0]! } }) }
      // Hundreds of profile columns: standardised, then their first principal components, as for embeddings.
      let reduced = try components.scores(of: "\(name)|\(names.joined(separator: ","))") {
        let basis = table.rows.filter { r in names.allSatisfy { r.values[$0]?.isFinite ?? false } }
        return (basis.map(\.key), try Self.standardised(basis.map { r in names.map { r.values[$0]! } }))
      }
      return reduced.select(rows, kept: kept, prefix: name)
    case .position(let formats):
      let names = ["row", "column", "edge distance"]
      return (Array(rows.indices), names, rows.map { r in
        let edge = formats[r.plate].map { $0.edgeDistance(r.position) } ?? min(r.position.row, r.position.column)
        return [Double(r.position.row), Double(r.position.column), Double(edge)]
      })
    case .embedding(let key):
      let reduced = try components.scores(of: "embedding|\(key)") {
        let basis = table.rows.filter { $0.embeddings[key] != nil }
        let length = basis.first?.embeddings[key]?.count ?? 0
        let uniform = basis.filter { $0.embeddings[key]!.count == length }
        return (uniform.map(\.key), uniform.map { $0.embeddings[key]! })
      }
      return reduced.select(rows, kept: rows.indices.filter { rows[$0].embeddings[key] != nil }, prefix: name)
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

/// Principal-component scores of the audit's reduced feature sets, each fitted once on the wells of the well table
/// that have its values, and kept until the table is built again.
final class ComponentScores {
  /// One set's scores: the components' count is capped at `FeatureSet.embeddingComponents` for embeddings and
  /// `FeatureSet.measurementComponents` for profiles (and at the wells' count less one).
  struct Reduced {
    let scores: [String: [Float]]
    let count: Int

    /// The kept rows that have scores, their column names (`PREFIX PC1` ...) and their scores.
    func select(_ rows: [WellTable.Row], kept: [Int], prefix: String) -> (kept: [Int], columns: [String], values: [[Double]]) {
      let present = kept.filter { scores[rows[$0].key] != nil }
      guard present.count >= 3 else { return ([], [], []) }
      return (present, (0..<count).map { "\(prefix) PC\($0 + 1)" }, present.map { scores[rows[$0].key]!.map(Double.init) })
    }
  }

  private var cache: [String: Reduced] = [:]

  /// Drops every set's scores (the well table changed).
  func reset() { cache = [:] }

  /// The scores of the set named `key`; `basis` gives the wells' keys and rows to fit on, when not cached.
  func scores(of key: String, basis: () throws -> (keys: [String], rows: [[Float]])) throws -> Reduced {
    if let cached = cache[key] { return cached }
    let (keys, rows) = try basis()
    var reduced = Reduced(scores: [:], count: 0)
    if rows.count >= 3, let d = rows.first?.count, d > 0 {
      let limit = key.hasPrefix("embedding|") ? FeatureSet.embeddingComponents : FeatureSet.measurementComponents
      let scores = try PrincipalComponents.scores(ofRows: rows, count: limit)
      reduced = Reduced(scores: Dictionary(zip(keys, scores), uniquingKeysWith: { a, _ in a }), count: scores.first?.count ?? 0)
    }
    cache[key] = reduced
    return reduced
  }
}
