import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

/// The focus stage: every site through the default focus plugin, measures stored as `<measure>_<channel>` with
/// the roles the plugin's manifest gives them. Sites run in parallel across the plugin's workers; each site is one
/// unit of work in the store.
struct FocusStage: AuditStage {
  static let name = "focus"
  static let needs: Set<AuditResource> = [.pixels]
  static let produces: Set<AuditResource> = [.focus, .features]

  func skipReason(_ audit: Audit) -> String? {
    if audit.input.profiles != nil { return "the input is a profiles table with no pixels" }
    return audit.plugin(of: .focus) == nil ? "no focus plugin is loaded" : nil
  }

  func run(_ audit: Audit) throws -> StageCounts {
    let plugin = audit.plugin(of: .focus)!
    let screen = audit.screen
    let withFocus = try audit.store.sitesWithMeasurement(prefix: "ImageQuality_")
    let units = try SiteUnits(stage: Self.name, audit: audit) { key in
      audit.siteIDs[key].map(withFocus.contains) ?? false
    }
    var roles: [String: FeatureRole] = [:]
    let counts = units.run { item, key, lock in
      let (plate, well, site) = item
      let files = screen.channels.compactMap { site.images[$0]?.path }
      let request = PluginsRunRequest.Params(
        plugin: plugin.manifest.id, kind: .focus, parameters: audit.params.focusModel.map { ["model": .string($0)] },
        context: ["channels": .array(screen.channels.map(JSONValue.string)), "plate": .string(plate.name),
                  "well": .string(well.name), "site": .int(Int64(site.number))],
        inputs: [InputRef(name: "image", files: files)])
      let response = try audit.runPlugin(request)
      let siteID = audit.siteIDs[SiteUnits.siteKey(item)]!
      lock.lock()
      defer { lock.unlock() }
      try audit.store.complete(stage: Self.name, key: key) { writer in
        // The images' SHA-256, in the unit's transaction: what this result was computed from.
        for file in files { try audit.store.recordInput(URL(fileURLWithPath: file)) }
        for channel in response.result["channels"]?.arrayValue ?? [] {
          let name = channel["channel"]?.stringValue ?? ""
          for (measure, value) in channel["measures"]?.objectValue ?? JSONObject() {
            let stored = "\(measure)_\(name)"
            try writer.measure(site: siteID, stored, value.doubleValue ?? .nan)
            if roles[stored] == nil { roles[stored] = plugin.manifest.role(ofMeasure: measure) ?? .focus }
          }
        }
      }
    }
    try audit.context.checkCancellation()
    try audit.store.recordFeatures(roles, source: plugin.manifest.id)
    try audit.store.recordPlugin(id: plugin.manifest.id, version: plugin.manifest.version, abi: plugin.manifest.abiVersion)
    return counts
  }
}
