import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

extension HostHandlers {
  /// `explain/table`: an explainer plugin's method "probe" on a feature table read here, as `probe/table` reads it,
  /// with each feature's family from its CellProfiler name.
  static func registerExplain(on server: HostServer, registry: PluginRegistry) {
    server.on(ExplainTableRequest.self) { params, context in
      context.beginProgress("explain \(params.target)")
      let table = try LayoutTable(path: params.table)
      let input = try ProbeTableInput(
        table: table,
        params: .init(
          table: params.table, target: params.target, groups: params.groups,
          features: params.features))
      let families = input.featureNames.map(ExplainTableInput.family)
      var explainContext = input.context
      explainContext["families"] = .array(families.map { $0.map(JSONValue.string) ?? .null })
      if let names = params.partialDependence {
        let known = Set(input.featureNames)
        if let unknown = names.first(where: { !known.contains($0) }) {
          throw ResponseError(
            .invalidParams,
            "partialDependence: \"\(unknown)\" is not a feature used from "
              + "\(params.table) (a numeric column without missing values, selected by features)",
            data: ["field": "partialDependence", "column": .string(unknown)])
        }
        explainContext["partial_dependence_features"] = .array(names.map(JSONValue.string))
      }
      let scratch = URL(fileURLWithPath: NSTemporaryDirectory())
        .appendingPathComponent("confound-explain-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(at: scratch) }
      let npy = scratch.appendingPathComponent("features.npy")
      try NPYArray(shape: [input.rows.count, input.featureNames.count], values: input.values).write(to: npy)
      var parameters = params.parameters ?? JSONObject()
      if parameters["method"] == nil { parameters["method"] = "probe" }
      let run = PluginsRunRequest.Params(
        plugin: params.plugin, kind: .explainer, parameters: parameters, context: .object(explainContext),
        inputs: [InputRef(name: "features", npy: npy.path)], outputDir: scratch.path)
      let response = try registry.run(
        run, isCancelled: { context.token.isCancelled },
        progress: { fraction, message in context.reportProgress(fraction, message) },
        log: { level, message in context.log(HostLog.Level(rawValue: Int(level)) ?? .info, message) })
      var members: [String: [String]] = [:]
      for (name, family) in zip(input.featureNames, families) {
        if let family { members[family, default: []].append(name) }
      }
      return ExplainTableRequest.Response(
        plugin: response.plugin, result: response.result, table: input.summary,
        families: members)
    }
  }
}

/// How `explain/table` groups a table's features into the families the explainer permutes together.
enum ExplainTableInput {
  /// The family of a CellProfiler-named feature (`FeatureRole`), or nil for one that belongs to none ("other").
  static func family(_ name: String) -> String? {
    guard let role = FeatureRole.infer(cellProfilerName: name), role != .other else { return nil }
    return role.rawValue
  }
}
