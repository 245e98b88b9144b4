import ConfoundCore
import Foundation

extension ProbeStage.WellRow {
  /// Whether a per-site measurement is a hand feature: every stored measurement but the focus measures
  /// (`ImageQuality_*`, `Focus_*`), which are a nuisance of their own and probed as such.
  static func isHandFeature(_ name: String) -> Bool { !name.hasPrefix("ImageQuality_") && !name.hasPrefix("Focus_") }

  /// Every well with at least one finite per-site measurement: the mean of each measurement over the well's sites,
  /// with the plate's covariates overlaid by the well's. The probes and the projections read the same table.
  /// - Parameter include: which measurement names to keep (all by default).
  static func means(store: RunStore, screen: Screen, siteIDs: [SiteKey: Int64],
                    include: (String) -> Bool = { _ in true }) throws -> [ProbeStage.WellRow] {
    var rows: [ProbeStage.WellRow] = []
    for batch in screen.batches {
      for plate in batch.plates {
        for well in plate.wells {
          var sums: [String: (Double, Int)] = [:]
          for site in well.sites {
            guard let id = siteIDs[SiteKey(plate: plate.name, well: well.name, site: site.number)] else { continue }
            for (name, value) in try store.measurements(siteID: id) where value.isFinite && include(name) {
              let (s, n) = sums[name] ?? (0, 0)
              sums[name] = (s + value, n + 1)
            }
          }
          guard !sums.isEmpty else { continue }
          rows.append(
            ProbeStage.WellRow(
              plate: plate.name, batch: batch.name, well: well.position, wellName: well.name,
              covariates: plate.covariates.merging(well.covariates) { $1 },
              values: sums.mapValues { $0.0 / Double($0.1) }))
        }
      }
    }
    return rows
  }
}
