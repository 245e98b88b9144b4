import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

/// The focus stage: every site through the default focus plugin, measures stored as `<measure>_<channel>`.
/// Sites run in parallel across the plugin's workers; each site is one unit of work in the store.
struct FocusStage {
  let runner: AuditRunner
  let store: RunStore
  let screen: Screen
  let siteIDs: [SiteKey: Int64]

  func run() throws -> AuditRequest.StageSummary {
    let started = Date()
    let units = try SiteUnits(stage: "focus", runner: runner, store: store, screen: screen)
    var plugin: PluginInfo?
    let (computed, failures) = units.run(progress: 0...0.9) { item, key, lock in
      let (plate, well, site) = item
      let files = screen.channels.compactMap { site.images[$0]?.path }
      let request = PluginsRunRequest.Params(
        kind: .focus, parameters: runner.params.focusModel.map { ["model": .string($0)] },
        context: ["channels": .array(screen.channels.map(JSONValue.string)), "plate": .string(plate.name),
                  "well": .string(well.name), "site": .int(Int64(site.number))],
        inputs: [InputRef(name: "image", files: files)])
      let response = try runner.registry.run(request, isCancelled: { runner.context.token.isCancelled },
                                             progress: { _, _ in }, log: { _, _ in })
      let siteID = siteIDs[SiteKey(plate: plate.name, well: well.name, site: site.number)]!
      lock.lock()
      defer { lock.unlock() }
      try store.complete(stage: "focus", key: key) { writer in
        // The images' SHA-256, in the unit's transaction: what this result was computed from.
        for file in files { try store.recordInput(URL(fileURLWithPath: file)) }
        for channel in response.result["channels"]?.arrayValue ?? [] {
          let name = channel["channel"]?.stringValue ?? ""
          for (measure, value) in channel["measures"]?.objectValue ?? JSONObject() {
            try writer.measure(site: siteID, "\(measure)_\(name)", value.doubleValue ?? .nan)
          }
          for extra in ["score", "level", "certainty"] {
            if let v = channel[extra]?.doubleValue { try writer.measure(site: siteID, "Focus_\(extra)_\(name)", v) }
          }
        }
      }
      if plugin == nil { plugin = runner.registry.plugins.first { $0.manifest.id == response.plugin } }
    }
    try runner.context.checkCancellation()
    if let plugin {
      try store.recordPlugin(id: plugin.manifest.id, version: plugin.manifest.version, abi: plugin.manifest.abiVersion)
    }
    return .init(name: "focus", computed: computed, resumed: units.done.count, failed: failures.count,
                 failures: Array(failures.sorted().prefix(5)), seconds: Date().timeIntervalSince(started))
  }

  static func key(_ plate: Plate, _ well: Well, _ site: Site) -> String { "\(plate.name)/\(well.name)/\(site.number)" }
}
