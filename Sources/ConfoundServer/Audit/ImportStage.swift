import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC

/// A profiles table's features into the run store, one unit of work per site (per well for per-well profiles), with
/// the role CellProfiler's naming gives each feature: what the focus, segment and embed stages store from pixels,
/// for a lab that has only its CellProfiler or pycytominer output.
struct ImportStage: AuditStage {
  static let name = "import"
  static let needs: Set<AuditResource> = []
  static let produces: Set<AuditResource> = [.focus, .density, .features]

  init() {}

  func skipReason(_ audit: Audit) -> String? {
    audit.input.profiles == nil ? "the input has pixels: its features come from the plugins" : nil
  }

  func run(_ audit: Audit) throws -> StageCounts {
    let table = audit.input.profiles!
    let store = audit.store
    let done = try store.doneKeys(stage: Self.name)
    let chosen = Set(audit.sites.map { SiteUnits.key($0) })
    var computed = 0
    var failures: [String] = []
    for (index, row) in table.rows.enumerated() {
      if index % 64 == 0 {
        try audit.context.checkCancellation()
        audit.reportStageProgress(Double(index) / Double(max(table.rows.count, 1)), "import \(index)/\(table.rows.count) rows")
      }
      let well = (try? WellPosition(parsing: row.well).name) ?? row.well
      let key = SiteKey(plate: row.plate, well: well, site: row.site ?? 1)
      let unit = "\(key.plate)/\(key.well)/\(key.site)"
      guard chosen.contains(unit), !done.contains(unit) else { continue }
      guard let siteID = audit.siteIDs[key] else {
        failures.append("\(unit): row \(index + 1) of \(table.source.path) has no site in the screen")
        continue
      }
      try store.complete(stage: Self.name, key: unit) { writer in
        for (name, value) in zip(table.features, row.values) { try writer.measure(site: siteID, name, value) }
      }
      computed += 1
    }
    try store.recordFeatures(Dictionary(zip(table.features, table.roles), uniquingKeysWith: { a, _ in a }),
                             source: table.source.lastPathComponent)
    return StageCounts(computed: computed, resumed: done.count, failed: failures.count, failures: failures)
  }
}
