import ConfoundProtocol
import Foundation
import JSONRPC

/// The shape every plugin of a kind must return from its kind's operation (Protocol/README.md, "Plugin kinds"),
/// checked by the host before a result reaches a client or the audit: a plugin that answers `null` or `[1, 2, 3]`
/// to `focus.score` fails its call with an error naming it, instead of passing for a success.
///
/// Only structure is checked here (the host does not know the values a plugin should give); `confound plugins
/// check` checks more on data of its own.
enum ResultContract {
  static func check(_ response: PluginsRunRequest.Response, kind: PluginKind) throws {
    if let problem = problem(response, kind: kind) { throw violation(plugin: response.plugin, problem) }
  }

  static func violation(plugin: String, _ problem: String) -> ResponseError {
    ResponseError(.pluginError, "plugin \(plugin) broke the \(problem)", data: ["plugin": .string(plugin), "contract": .string(problem)])
  }

  static func problem(_ response: PluginsRunRequest.Response, kind: PluginKind) -> String? {
    let result = response.result
    let outputs = Dictionary(response.outputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    switch kind {
    case .focus:
      guard let channels = result["channels"]?.arrayValue, result.objectValue != nil else {
        return "focus contract: the result must be an object with \"channels\", an array, got \(describe(result))"
      }
      for (i, channel) in channels.enumerated() {
        guard let measures = channel["measures"]?.objectValue else {
          return "focus contract: channels[\(i)] must be an object with \"measures\", an object of numbers"
        }
        if let bad = measures.first(where: { $0.value.doubleValue == nil }) {
          return "focus contract: channels[\(i)].measures.\(Truncated.quote(bad.key)) must be a number, got \(describe(bad.value))"
        }
      }
    case .segmenter:
      guard result.objectValue != nil, let count = result["count"]?.intValue, count >= 0 else {
        return "segmenter contract: the result must be an object with \"count\", a non-negative integer, got \(describe(result))"
      }
      guard let labels = outputs["labels"], labels.shape.count == 2 else {
        return "segmenter contract: it must return an output \"labels\" of shape [height, width]"
      }
    case .embedder:
      guard let embeddings = outputs["embeddings"], embeddings.shape.count == 2 else {
        return "embedder contract: it must return an output \"embeddings\" of shape [n, dimension]"
      }
    case .probe:
      guard result["metrics"]?.objectValue != nil else {
        return "probe contract: the result must be an object with \"metrics\", an object, got \(describe(result))"
      }
    case .explainer:
      guard result.objectValue != nil else {
        return "explainer contract: the result must be a JSON object, got \(describe(result))"
      }
    }
    return nil
  }

  /// A value's type, and the value itself when short: enough to recognise it, never a whole result.
  private static func describe(_ value: JSONValue) -> String {
    "\(value.typeName) \(Truncated.quote(JSONWriter.string(value)))"
  }
}
