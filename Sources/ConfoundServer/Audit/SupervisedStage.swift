import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import Report

/// The supervised CNN (the paper's Figures 4 to 6 beside the linear probes): the embedder's network with its top
/// layer and a linear head fine-tuned on cell crops for the target by the explainer plugin (method "supervised"),
/// inside the target probe's own grouped folds, on each fold's training units only. Its per-fold ROC AUC joins the
/// target probe's ladder as the feature set "supervised CNN"; GradCAM of each fold's model on its held-out crops
/// gives the share of saliency on background against the share of area (the paper's "the model looks at empty
/// space"), with the sanity checks that decide whether the maps are shown as an explanation.
///
/// Cost bound (the demo must stay a demo): at most `maxCrops` crops (those the embed stage embedded), at most
/// `maxTrainCrops` training crops per fold, `epochs` epochs, the top layer only; the stage's seconds are recorded.
struct SupervisedStage: AuditStage {
  static let name = "supervised"
  static let needs: Set<AuditResource> = [.crops, .features]
  static let produces: Set<AuditResource> = []
  static let maxCrops = 2048
  static let maxTrainCrops = 256
  static let epochs = 4
  static let file = "plots/explanation-supervised-cnn.json"

  init() {}

  func skipReason(_ audit: Audit) -> String? {
    if audit.input.profiles != nil { return "the input is a profiles table with no pixels" }
    guard audit.design.target != nil, case .binary = audit.design.targetKind else { return "the target has not two levels" }
    if audit.plugin(of: .explainer) == nil { return "no explainer plugin is loaded" }
    if ((try? audit.store.doneKeys(stage: EmbedStage.name)) ?? []).isEmpty { return "no site has embedded crops" }
    return nil
  }

  func run(_ audit: Audit) throws -> StageCounts {
    let target = audit.design.target!
    guard case .binary(let levels) = audit.design.targetKind! else { return StageCounts() }
    let positive = levels.contains("disease") ? "disease" : levels[1]
    // The target probe's folds, so that the ladder compares like with like.
    let reference = audit.drafts.map(\.finding).first { $0.kind == "target-probe" && $0.measure.name == "hand features" }
      ?? audit.drafts.map(\.finding).first { $0.kind == "target-probe" }
    let folds = reference?.evidence?["folds"]?.arrayValue?.compactMap { $0["testUnits"]?.arrayValue } ?? []
    guard !folds.isEmpty else {
      audit.note("Supervised CNN: the target probe recorded no folds, so there is nothing to train against.")
      return StageCounts()
    }
    let table = try audit.wells()
    let wells = table.rows.filter { !audit.design.isControl($0.covariates) && $0.covariates[target].map(levels.contains) == true }
    let crops = try SupervisedCrops(audit, wells: wells, limit: Self.maxCrops)
    guard crops.shape[0] >= 16 else {
      audit.note("Supervised CNN: \(crops.shape[0]) embedded crops of sample wells, too few to train on (16 are needed).")
      return StageCounts()
    }
    // One unit of work, named by what it was computed from: a resumed run with the same crops and folds reads the
    // stored result back instead of training again.
    let strings = { (values: [String]) in JSONValue.array(values.map(JSONValue.string)) }
    let context: JSONObject = [
      "labels": strings(crops.wells.map { $0.covariates[target]! }),
      "groups": strings(crops.wells.map { audit.design.unit(of: $0) }), "wells": strings(crops.wells.map(\.key)),
      "sites": strings(crops.sites), "folds": .array(folds.map(JSONValue.array)), "positive": .string(positive),
      "channel_names": strings(audit.screen.channels), "target": .string(target),
    ]
    let key = "cnn \(crops.shape[0]) crops " + Self.fingerprint(JSONWriter.string(.object(context)))
    let file = audit.out.appendingPathComponent(Self.file)
    if try audit.store.doneKeys(stage: Self.name).contains(key), let data = try? Data(contentsOf: file),
      let stored = try? JSONParser.parse([UInt8](data))
    {
      try SupervisedFindings(audit: audit, result: stored, target: target, levels: levels, crops: crops).add()
      return StageCounts(resumed: 1)
    }
    let stored = try train(audit, crops: crops, context: context, target: target)
    try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(JSONWriter.string(stored).utf8).write(to: file)
    try audit.artifact(file, kind: "table", stage: Self.name,
                       description: "supervised CNN of \(target): per-fold ROC AUC, saliency on background, sanity checks, overlays")
    // The overlays of the paper's Figure 6, drawn as the report draws them, only when the maps pass the sanity checks.
    if let figure = try SaliencyExplanation(json: Data(contentsOf: file), file: file.path).saliencyOverlays() {
      try audit.write(figure, stage: Self.name)
    }
    try audit.store.complete(stage: Self.name, key: key) { _ in }
    try SupervisedFindings(audit: audit, result: stored, target: target, levels: levels, crops: crops).add()
    return StageCounts(computed: 1)
  }

  /// The explainer's result for `crops` (with the target and the stage's seconds added).
  func train(_ audit: Audit, crops: SupervisedCrops, context: JSONObject, target: String) throws -> JSONValue {
    let scratch = audit.out.appendingPathComponent("supervised-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    var inputs = [InputRef(name: "crops", npy: scratch.appendingPathComponent("crops.npy").path)]
    try NPYArray(shape: crops.shape, values: crops.values).write(to: URL(fileURLWithPath: inputs[0].npy!))
    if let masks = crops.masks {
      let url = scratch.appendingPathComponent("masks.npy")
      try NPYArray(shape: [crops.shape[0], crops.shape[2], crops.shape[3]], values: masks).write(to: url)
      inputs.append(InputRef(name: "masks", npy: url.path))
    }
    let request = PluginsRunRequest.Params(
      kind: .explainer,
      parameters: ["method": "supervised", "epochs": .int(Int64(Self.epochs)), "max_train_crops": .int(Int64(Self.maxTrainCrops)),
                   "seed": 1, "threads": 2],
      context: .object(context), inputs: inputs)
    let started = Date()
    var stored = try audit.runPlugin(request).result
    let seconds = Date().timeIntervalSince(started)
    if case .object(var o) = stored {
      o["target"] = JSONValue.string(target)
      o["stage_seconds"] = JSONValue.double(seconds)
      stored = .object(o)
    }
    return stored
  }

  /// FNV-1a of `text`, in hex: a name for a unit that changes when its inputs do.
  static func fingerprint(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return String(hash, radix: 16)
  }
}
