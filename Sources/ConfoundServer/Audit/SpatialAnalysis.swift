import ConfoundCore
import ConfoundProtocol
import Foundation
import Statistics

/// Whether a per-site measure depends on the position on the plate: per plate, the edge-versus-interior test and
/// Moran's I over well adjacency on the per-well mean, each with a permutation p-value. A plate's p-value is the
/// smaller of the two times 2, then times the number of plates (Bonferroni), so a clean screen raises a finding
/// at most 5% of the time.
struct SpatialAnalysis {
  let store: RunStore
  let screen: Screen
  let siteIDs: [SiteKey: Int64]
  let measure: String
  var permutations = 999

  func findings() throws -> [AuditFinding] {
    let plates = screen.plates
    var results: [AuditFinding] = []
    for (index, plate) in plates.enumerated() {
      let format = plate.format
      var values = [Double?](repeating: nil, count: format.wellCount)
      for well in plate.wells {
        let perSite = try well.sites.compactMap { site -> Double? in
          guard let id = siteIDs[SiteKey(plate: plate.name, well: well.name, site: site.number)] else { return nil }
          return try store.measurements(siteID: id)[measure].flatMap { $0.isFinite ? $0 : nil }
        }
        if !perSite.isEmpty { values[format.wellIndex(well.position)] = perSite.reduce(0, +) / Double(perSite.count) }
      }
      guard values.compactMap({ $0 }).count >= 8 else { continue }
      let seed = UInt64(index + 1)
      guard let edge = try? SpatialBias.edgeTest(values: values, rows: format.rows, columns: format.columns, permutations: permutations, seed: seed),
        let moran = try? SpatialBias.moransI(values: values, rows: format.rows, columns: format.columns, permutations: permutations, seed: seed)
      else { continue }
      let corrected = min(1, 2 * Double(plates.count) * min(edge.meanPValue, moran.pValue))
      guard corrected < 0.05 else { continue }
      let (effect, low, high) = relativeDifference(values: values, format: format)
      let direction = effect < 0 ? "lower" : "higher"
      let batch = plate.covariates["Batch"] ?? plate.covariates["batch"]
      let verdict = "\(measure) depends on position on plate \(plate.name)\(batch.map { " (batch \($0))" } ?? ""): edge wells are "
        + "\(percent(abs(effect))) \(direction) than interior wells (95% CI \(percent(low)) to \(percent(high)) difference), "
        + "Moran's I = \(String(format: "%.2f", moran.i)), p = \(pText(corrected)) corrected for \(2 * plates.count) tests."
      results.append(AuditFinding(kind: "spatial", covariate: "well position", measure: measure, effect: effect,
                                  ciLow: low, ciHigh: high, pValue: corrected, verdict: verdict, plates: [plate.name]))
    }
    return results
  }

  /// (edge mean - interior mean) / interior mean with a normal-approximation 95% interval (Welch standard error).
  private func relativeDifference(values: [Double?], format: PlateFormat) -> (Double, Double, Double) {
    var edge: [Double] = []
    var interior: [Double] = []
    for (index, value) in values.enumerated() {
      guard let value else { continue }
      let (r, c) = (index / format.columns, index % format.columns)
      let isEdge = r == 0 || c == 0 || r == format.rows - 1 || c == format.columns - 1
      if isEdge { edge.append(value) } else { interior.append(value) }
    }
    func meanVar(_ x: [Double]) -> (Double, Double) {
      let m = x.reduce(0, +) / Double(x.count)
      return (m, x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(max(x.count - 1, 1)))
    }
    let (me, ve) = meanVar(edge)
    let (mi, vi) = meanVar(interior)
    let diff = me - mi
    let se = (ve / Double(edge.count) + vi / Double(interior.count)).squareRoot()
    return (diff / mi, (diff - 1.96 * se) / mi, (diff + 1.96 * se) / mi)
  }

  private func percent(_ x: Double) -> String { String(format: "%.0f%%", 100 * x) }
  private func pText(_ p: Double) -> String { p < 0.001 ? "< 0.001" : String(format: "%.3f", p) }
}
