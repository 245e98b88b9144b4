import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost
import Statistics

/// Nuisance findings beside the focus map, density and the plate probe, on per-well means of the stored site
/// measurements:
///
/// - `edge-effect`: per plate, outer-ring wells against interior wells (two-sided permutation test of the mean) on the
///   nucleus count and on the foreground intensity of the first channel, the evaporation pattern; Bonferroni over
///   the plates and the two measures.
/// - `nuisance` of a grouped covariate: a platemap column that is constant within each cell line (the source lab,
///   a donor covariate) or a batch holding several plates, predicted from the hand features by the probe plugin
///   with folds that hold out whole lines (plates), labels permuted between whole lines (plates): the unit that was
///   assigned the covariate is the unit of replication, so the p-value is calibrated, and with few units the probe
///   says "cannot tell". Each covariate is its own finding at its own 5% level (no correction across covariates:
///   with 8 cell lines the smallest attainable p of a line covariate is 2/70, which one would already push above 0.05).
struct NuisanceAnalysis {
  let runner: AuditRunner
  let store: RunStore
  let screen: Screen
  let siteIDs: [SiteKey: Int64]
  var permutations = 999
  /// The platemap column naming the biological unit (the cell line).
  var lineColumn = "cell_line"
  /// Covariates that are design, identity or bookkeeping, not a nuisance to probe.
  var excluded: Set<String> = ["disease", "donor", "control", "plate_map_name", "well_position"]

  /// One well: where it is, its platemap covariates and the mean of each site measurement over its sites.
  struct Well {
    let plate: String
    let batch: String
    let position: WellPosition
    let covariates: [String: String]
    let values: [String: Double]
    var isControl: Bool { covariates["control"] == "1" }
  }

  func findings() throws -> [AuditFinding] {
    let wells = try self.wells()
    let probing = runner.registry.plugins.contains { $0.manifest.kind == .probe }
    return try edgeEffects(wells) + (probing ? try groupedCovariates(wells) : [])
  }

  func wells() throws -> [Well] {
    try screen.batches.flatMap { batch in
      try batch.plates.flatMap { plate in
        try plate.wells.compactMap { well -> Well? in
          let perSite = try well.sites.compactMap { site in
            try siteIDs[SiteKey(plate: plate.name, well: well.name, site: site.number)].map { try store.measurements(siteID: $0) }
          }
          var means: [String: Double] = [:]
          for name in Set(perSite.flatMap(\.keys)) {
            let finite = perSite.compactMap { $0[name] }.filter(\.isFinite)
            if !finite.isEmpty { means[name] = finite.reduce(0, +) / Double(finite.count) }
          }
          guard !means.isEmpty else { return nil }
          return Well(plate: plate.name, batch: batch.name, position: well.position,
                      covariates: plate.covariates.merging(well.covariates) { $1 }, values: means)
        }
      }
    }
  }

  /// Edge versus interior wells, per plate, on the nucleus count and the first channel's foreground mean.
  func edgeEffects(_ wells: [Well]) throws -> [AuditFinding] {
    let measures = ["Count_Nuclei"] + screen.channels.prefix(1).map { "ImageStats_ForegroundMean_\($0)" }
    let plates = screen.plates
    let tests = Double(plates.count * measures.count)
    var results: [AuditFinding] = []
    for (index, plate) in plates.enumerated() {
      let format = plate.format
      for measure in measures {
        var values = [Double?](repeating: nil, count: format.wellCount)
        for row in wells where row.plate == plate.name {
          if let v = row.values[measure], v.isFinite { values[format.wellIndex(row.position)] = v }
        }
        guard values.compactMap({ $0 }).count >= 8,
          let test = try? SpatialBias.edgeTest(values: values, rows: format.rows, columns: format.columns,
                                               permutations: permutations, seed: UInt64(index + 11))
        else { continue }
        let p = min(1, tests * test.meanPValue)
        guard p < 0.05, test.interiorMean != 0 else { continue }
        let effect = test.meanDifference / test.interiorMean
        let (low, high) = Self.welchInterval(values: values, rows: format.rows, columns: format.columns)
        let direction = effect < 0 ? "lower" : "higher"
        let verdict = "\(measure) differs at the edge of plate \(plate.name): outer-ring wells are "
          + "\(String(format: "%.0f%%", 100 * abs(effect))) \(direction) than interior wells (\(test.edgeCount) vs "
          + "\(test.interiorCount) wells, p = \(pText(p)) corrected for \(Int(tests)) tests), the pattern of "
          + "evaporation or edge temperature: keep samples off the outer ring or compare within it."
        results.append(AuditFinding(kind: "edge-effect", covariate: "edge", measure: measure, effect: effect,
                                    ciLow: low / test.interiorMean, ciHigh: high / test.interiorMean, pValue: p,
                                    verdict: verdict, plates: [plate.name]))
      }
    }
    return results
  }

  /// The 95% normal-approximation interval (Welch standard error) of the outer-ring mean minus the interior mean.
  static func welchInterval(values: [Double?], rows: Int, columns: Int) -> (Double, Double) {
    var edge: [Double] = []
    var interior: [Double] = []
    for (index, value) in values.enumerated() {
      guard let value else { continue }
      let (r, c) = (index / columns, index % columns)
      if r == 0 || c == 0 || r == rows - 1 || c == columns - 1 { edge.append(value) } else { interior.append(value) }
    }
    func meanVariance(_ x: [Double]) -> (Double, Double) {
      let m = x.reduce(0, +) / Double(x.count)
      return (m, x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(x.count - 1, 1)))
    }
    let (me, ve) = meanVariance(edge)
    let (mi, vi) = meanVariance(interior)
    let se = (ve / Double(edge.count) + vi / Double(interior.count)).squareRoot()
    return (me - mi - 1.96 * se, me - mi + 1.96 * se)
  }

  /// A covariate of the platemap to probe with the unit that carries it.
  struct Grouped {
    let covariate: String
    /// What the probe reads: "sample wells", "control wells".
    let measure: String
    let wells: [Well]
    let labels: [String]
    /// The unit the covariate was assigned to (cell line, plate, well): held out whole and permuted whole.
    let units: [String]
    let unitName: String
    /// Labels are permuted only within these (the cell line for the plate of sample wells); nil: one stratum.
    var strata: [String]? = nil
  }

  /// Cell-line covariates (constant within every line, 2+ values); the plate from sample wells, permuted within
  /// each cell line (the design puts every line on every plate, so plate and line are independent and thousands of
  /// arrangements exist where control wells allow few); and the batch when a batch holds 2+ plates.
  func candidates(_ wells: [Well]) -> [Grouped] {
    var result: [Grouped] = []
    let samples = wells.filter { !$0.isControl && $0.covariates[lineColumn] != nil }
    let lines = samples.map { $0.covariates[lineColumn]! }
    let names = Set(samples.flatMap { $0.covariates.keys }).subtracting(excluded).subtracting([lineColumn])
    for name in names.sorted() {
      guard samples.allSatisfy({ $0.covariates[name] != nil }) else { continue }
      let labels = samples.map { $0.covariates[name]! }
      var valueOfLine: [String: String] = [:]
      let constant = zip(lines, labels).allSatisfy { line, value in
        if let seen = valueOfLine[line] { return seen == value }
        valueOfLine[line] = value
        return true
      }
      guard constant, Set(labels).count >= 2, Set(labels).count < valueOfLine.count else { continue }
      result.append(Grouped(covariate: name, measure: "sample wells", wells: samples, labels: labels, units: lines,
                            unitName: "cell lines"))
    }
    let platesOfLine = Dictionary(grouping: samples, by: { $0.covariates[lineColumn]! }).mapValues { Set($0.map(\.plate)) }
    if Set(samples.map(\.plate)).count >= 2, platesOfLine.values.allSatisfy({ $0.count >= 2 }) {
      result.append(Grouped(covariate: "plate", measure: "sample wells within cell line", wells: samples,
                            labels: samples.map(\.plate), units: samples.map { "\($0.plate)/\($0.position.name)" },
                            unitName: "wells", strata: lines))
    }
    let controls = wells.filter(\.isControl)
    let platesPerBatch = Dictionary(grouping: controls, by: \.batch).mapValues { Set($0.map(\.plate)).count }
    if platesPerBatch.count >= 2, platesPerBatch.values.contains(where: { $0 >= 2 }) {
      result.append(Grouped(covariate: "batch", measure: "control wells", wells: controls, labels: controls.map(\.batch),
                            units: controls.map(\.plate), unitName: "plates"))
    }
    return result
  }

  func groupedCovariates(_ wells: [Well]) throws -> [AuditFinding] {
    let groups = candidates(wells)
    var results: [AuditFinding] = []
    for g in groups {
      try runner.context.checkCancellation()
      guard Set(g.units).count >= 4 else { continue }
      let summary = try probe(g)
      let raw = summary["p_value"]?.doubleValue ?? 1
      let p = raw
      let units = Set(g.units).count
      let numbers = summary["verdict"]?.stringValue ?? ""
      let verdict: String
      if p < 0.05 {
        verdict = "\(g.covariate) is predictable from the hand features of \(g.wells.count) \(g.measure), holding out whole "
          + "\(g.unitName) (\(units)): \(numbers). Wells "
          + "differ by \(g.covariate), which a model of anything correlated with it can learn."
      } else {
        verdict = "\(g.covariate) from the hand features, holding out whole \(g.unitName) (\(units)): \(numbers)"
      }
      results.append(AuditFinding(
        kind: p < 0.05 ? "nuisance" : "nuisance-probe", covariate: g.covariate, measure: "hand features of \(g.measure)",
        effect: summary["leakage_score"]?.doubleValue ?? .nan,
        ciLow: summary["leakage_ci"]?.arrayValue?.first?.doubleValue ?? .nan,
        ciHigh: summary["leakage_ci"]?.arrayValue?.last?.doubleValue ?? .nan, pValue: p, verdict: verdict,
        plates: Array(Set(g.wells.map(\.plate))).sorted()))
    }
    return results
  }

  /// The probe plugin on the hand features (every stored site measurement except the focus measures) of the
  /// group's wells: group k-fold over the units, labels permuted between whole units.
  func probe(_ g: Grouped) throws -> JSONValue {
    let columns = g.wells.dropFirst().reduce(Set(g.wells[0].values.keys)) { $0.intersection($1.values.keys) }
      .filter(ProbeStage.WellRow.isHandFeature).sorted()
    let path = runner.out.appendingPathComponent("nuisance-\(UUID().uuidString).npy")
    try NPYArray(shape: [g.wells.count, columns.count], values: g.wells.flatMap { w in columns.map { w.values[$0]! } })
      .write(to: path)
    defer { try? FileManager.default.removeItem(at: path) }
    let strings = { (values: [String]) in JSONValue.array(values.map(JSONValue.string)) }
    let request = PluginsRunRequest.Params(
      kind: .probe, parameters: ["cv": "group-kfold", "folds": 4, "permutations": 199, "bootstraps": 200, "seed": 1],
      context: ["labels": strings(g.labels), "groups": strings(g.units), "units": strings(g.units),
                "feature_names": strings(columns), "target": .string(g.covariate),
                "strata": g.strata.map(strings) ?? .null],
      inputs: [InputRef(name: "features", npy: path.path)])
    return try runner.registry.run(request, isCancelled: { runner.context.token.isCancelled }, progress: { _, _ in },
                                   log: { _, _ in }).result
  }

  private func pText(_ p: Double) -> String { p < 0.001 ? "< 0.001" : String(format: "%.3f", p) }
}
