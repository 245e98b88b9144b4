import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound explain --table FILE --target COL ...`: what the probe's model of COL relies on: permutation importance
/// over grouped folds (per feature family and per feature) and partial dependence of the most important features.
struct ExplainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain", abstract: "What the probe's model of a column relies on (importance, partial dependence).",
    discussion: "Fits the probe's logistic regression (standardised, L2 at --c) on all rows for partial dependence and "
      + "ICE (scikit-learn's definitions: 100 grid points from the 5th to the 95th percentile, or the values when "
      + "fewer), and one per grouped fold for permutation importance: the drop in held-out ROC AUC and balanced "
      + "accuracy when a feature, or a family of features (density, focus, position, intensity, texture, shape, "
      + "embedding, from CellProfiler's names), is permuted.")
  @OptionGroup var hostOptions: HostOptions
  @Option(help: "The feature table (CSV or CSV.gz: CellProfiler or pycytominer profiles).") var table: String?
  @Option(help: "The column the model predicts.") var target: String?
  @Option(help: "Image methods: an ONNX model whose output column to explain on --raw-input.") var model: String?
  @Option(name: .customLong("raw-input"), help: "Image methods: float32 [N, C, H, W] .npy, fed to the model as is.")
  var rawInput: String?
  @Option(help: "Image methods: the model output explained.") var output: String?
  @Option(help: "Image methods: its column (default 0).") var index: Int?
  @Option(help: "Image methods: gradcam, gradcam++, gradient or occlusion (default gradcam).") var method: String?
  @Option(help: "GradCAM: the convolutional value by ONNX name (default: the input of the global pool).") var layer: String?
  @Flag(help: "Image methods: keep negative values (default: ReLU'd maps).") var signed = false
  @Option(help: "Image methods: where the maps go (.npy, float32).") var out: String?
  @Option(help: "Feature column prefix or comma-separated list (default: numeric non-Metadata_ columns).")
  var features: String?
  @Option(help: "Column kept on one side of every fold (default: each table row).") var groups: String?
  @Option(name: .customLong("c"), help: "Inverse L2 strength, as scikit-learn's C (default 1).") var regularisation:
    Double?
  @Option(help: "Group folds of the permutation importance (default 5).") var folds: Int?
  @Option(help: "Permutations per feature and family (default 5).") var repeats: Int?
  @Option(help: "Seed of the permutations (default 0).") var seed: Int?
  @Option(help: "average, individual or both (default both).") var kind: String?
  @Option(help: "Partial dependence of this many of the most important features (default 10; 0: all).") var top: Int?
  @Option(
    name: .customLong("partial-dependence"), help: "Comma-separated features whose partial dependence to compute.")
  var partialDependence: String?
  @Option(help: "An explainer plugin id (default: the host's explainer).") var plugin: String?
  @Flag(help: "Print the whole result as JSON.") var json = false

  func run() throws {
    if model != nil { return try explainImages() }
    guard let table, let target else {
      throw ValidationError("give --table FILE --target COL (a model on features), or --model FILE.onnx --raw-input X.npy "
                            + "--output NAME --out MAPS.npy (a model on images)")
    }
    var parameters = JSONObject()
    if let regularisation { parameters["c"] = .double(regularisation) }
    if let folds { parameters["folds"] = .int(Int64(folds)) }
    if let repeats { parameters["n_repeats"] = .int(Int64(repeats)) }
    if let seed { parameters["seed"] = .int(Int64(seed)) }
    if let kind { parameters["kind"] = .string(kind) }
    if let top { parameters["top"] = .int(Int64(top)) }
    let params = ExplainTableRequest.Params(
      table: table, target: target, groups: groups, features: features,
      partialDependence: partialDependence.map { $0.split(separator: ",").map(String.init) }, plugin: plugin,
      parameters: parameters.isEmpty ? nil : parameters)
    let response = try withHost(hostOptions) {
      try $0.request(ExplainTableRequest.self, params, progressTitle: "explain")
    }
    if json {
      var object = response.result.objectValue ?? JSONObject()
      object["plugin"] = .string(response.plugin)
      object["table"] = try JSONCodec.encode(response.table)
      object["families"] = try JSONCodec.encode(response.families)
      printJSON(.object(object))
      return
    }
    print(ExplainText(response).lines.joined(separator: "\n"))
  }
}

/// The explanation in lines for a terminal: the baseline, the ranked families and features, and the partial
/// dependence of each curve as where it starts and ends.
struct ExplainText {
  let response: ExplainTableRequest.Response
  init(_ response: ExplainTableRequest.Response) { self.response = response }

  /// "1 feature", "3 features".
  static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

  static func number(_ value: JSONValue?) -> String {
    value?.doubleValue.map { String(format: "%.3f", $0) } ?? "-"
  }

  var lines: [String] {
    let r = response.result
    let t = response.table
    let classes = r["classes"]?.arrayValue?.compactMap(\.stringValue) ?? []
    var out = [
      "\(t.rowsUsed) of \(t.rows) rows, \(t.featuresUsed) features (\(t.featuresDropped) dropped for missing "
        + "values); classes \(classes.joined(separator: ", "))"
    ]
    if let baseline = r["baseline"] {
      let folds = r["folds"]?.arrayValue?.count ?? 0
      out.append(
        "held-out ROC AUC \(Self.number(baseline["roc_auc"])), balanced accuracy "
          + "\(Self.number(baseline["balanced_accuracy"])) over \(folds) group folds")
      out.append(
        "permutation importance (drop in held-out ROC AUC, mean +- std over "
          + "\(r["n_repeats"]?.intValue ?? 0) permutations; balanced accuracy drop beside it):")
      let entries = r["permutation_importance"]?.arrayValue ?? []
      let families = entries.filter { $0["family"] != nil }
      let features = entries.filter { $0["feature"] != nil }
      for entry in families + features.prefix(10) {
        let name =
          entry["family"].flatMap(\.stringValue).map { family in
            "family \(family) (\(Self.count(entry["features"]?.arrayValue?.count ?? 0, "feature")))"
          } ?? entry["feature"]?.stringValue ?? ""
        out.append(
          "  \(name): \(Self.number(entry["mean"])) +- \(Self.number(entry["std"])); balanced accuracy "
            + "\(Self.number(entry["balanced_accuracy"]?["mean"])) +- "
            + "\(Self.number(entry["balanced_accuracy"]?["std"]))")
      }
      if features.count > 10 { out.append("  ... \(features.count - 10) more features (--json lists them all)") }
    }
    for curve in r["partial_dependence"]?.arrayValue ?? [] {
      guard let grid = curve["grid"]?.arrayValue, let average = curve["average"]?.arrayValue,
        let first = grid.first, let last = grid.last
      else { continue }
      out.append(
        "partial dependence of P(\(curve["class"]?.stringValue ?? "")) on \(curve["feature"]?.stringValue ?? ""): "
          + "\(Self.number(average.first)) at \(Self.number(first)) to \(Self.number(average.last)) at "
          + "\(Self.number(last)) (\(grid.count) grid points)")
    }
    return out
  }
}

extension ExplainCommand {
  /// `--model`: saliency maps of one output column on images, through the explainer plugin in the host.
  func explainImages() throws {
    guard let model, let rawInput, let output, let out else {
      throw ValidationError("--model needs --raw-input X.npy, --output NAME and --out MAPS.npy")
    }
    let absolute = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.path }
    var parameters: JSONObject = ["method": .string(method ?? "gradcam"), "model": .string(absolute(model)),
                                  "output": .string(output), "index": .int(Int64(index ?? 0)), "signed": .bool(signed)]
    if let layer { parameters["layer"] = .string(layer) }
    let scratch = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("confound-explain-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let params = PluginsRunRequest.Params(plugin: plugin, kind: plugin == nil ? .explainer : nil, parameters: parameters,
                                          inputs: [InputRef(name: "images", npy: absolute(rawInput))], outputDir: scratch.path)
    let response = try withHost(hostOptions) { try $0.request(PluginsRunRequest.self, params, progressTitle: "explain") }
    guard let maps = response.outputs.first(where: { $0.name == "maps" }) else {
      throw ValidationError("the explainer \(response.plugin) returned no \"maps\" output")
    }
    let destination = URL(fileURLWithPath: out)
    try? FileManager.default.removeItem(at: destination)
    try FileManager.default.moveItem(at: URL(fileURLWithPath: maps.path), to: destination)
    if json {
      var object = response.result.objectValue ?? JSONObject()
      object["out"] = .string(destination.path)
      printJSON(.object(object))
    } else {
      print("\(method ?? "gradcam") of \(output)[\(index ?? 0)]: \(maps.shape) float32 maps in \(destination.path)")
    }
  }
}
