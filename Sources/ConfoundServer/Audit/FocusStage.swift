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
    let done = try store.doneKeys(stage: "focus")
    let failedBefore = try store.failures(stage: "focus")
    let todo = screen.sites.filter { item in
      let key = Self.key(item.plate, item.well, item.site)
      return !done.contains(key) && failedBefore[key] == nil
    }
    let lock = NSLock()
    var computed = 0
    var failures: [String] = Array(failedBefore.values)
    var plugin: PluginInfo?
    let lanes = max(1, min(runner.registry.maxWorkersPerPlugin, todo.count))
    DispatchQueue.concurrentPerform(iterations: lanes) { lane in
      for index in stride(from: lane, to: todo.count, by: lanes) where !runner.context.token.isCancelled {
        let (plate, well, site) = todo[index]
        let key = Self.key(plate, well, site)
        let files = screen.channels.compactMap { site.images[$0]?.path }
        let request = PluginsRunRequest.Params(
          kind: .focus, parameters: runner.params.focusModel.map { ["model": .string($0)] },
          context: ["channels": .array(screen.channels.map(JSONValue.string)), "plate": .string(plate.name),
                    "well": .string(well.name), "site": .int(Int64(site.number))],
          inputs: [InputRef(name: "image", files: files)])
        do {
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
          computed += 1
          if plugin == nil { plugin = runner.registry.plugins.first { $0.manifest.id == response.plugin } }
        } catch let error as ResponseError where error.code == .requestCancelled {
          return
        } catch {
          let message = "\(key): \((error as? ResponseError)?.message ?? "\(error)")"
          runner.context.log(.warning, "focus: \(message)")
          lock.lock()
          try? store.fail(stage: "focus", key: key, message: message)
          failures.append(message)
          lock.unlock()
        }
        lock.lock()
        let fraction = Double(computed + failures.count - failedBefore.count) / Double(max(todo.count, 1))
        lock.unlock()
        runner.context.reportProgress(fraction * 0.9, "focus \(computed)/\(todo.count) sites")
      }
    }
    try runner.context.checkCancellation()
    if let plugin { try store.recordPlugin(id: plugin.manifest.id, version: plugin.manifest.version, abi: plugin.manifest.abiVersion) }
    return .init(name: "focus", computed: computed, resumed: done.count, failed: failures.count,
                 failures: Array(failures.sorted().prefix(5)), seconds: Date().timeIntervalSince(started))
  }

  static func key(_ plate: Plate, _ well: Well, _ site: Site) -> String { "\(plate.name)/\(well.name)/\(site.number)" }
}
