import ConfoundKit
import JSONRPC
import NeuralNet

/// The `explainer.explain` request of method "supervised", read from the call and checked against the kind's
/// contract (Protocol/README.md, "explainer"): cell crops with their class, unit and well, the grouped folds, and
/// optional segmentation masks. Every refusal names the input or context member at fault.
struct SupervisedRequest {
  var crops: [Float]
  var shape: [Int]
  /// 1 on a cell's pixels, 0 on background, [N, h, w]; nil when the caller has no masks.
  var masks: [Float]?
  var labels: [String]
  var groups: [String]
  var wells: [String]
  /// Each crop's site, when the caller names it (else its well).
  var sites: [String]
  /// The units held out by each fold.
  var folds: [Set<String>]
  var classes: [String]
  var positive: String
  var channelNames: [String]
  var settings: SupervisedSettings

  var count: Int { shape[0] }
  var views: Int { shape[1] }

  init(inputs: [String: TensorView], context: CallContext) throws {
    guard let input = inputs["crops"], input.shape.count == 4, let floats = input.floats else {
      throw PluginError.invalidParams("method \"supervised\" needs input \"crops\" float32 [N, C, h, w]")
    }
    shape = input.shape
    crops = Array(floats)
    let n = shape[0]
    guard n > 0 else { throw PluginError.badInput("input \"crops\" is empty") }
    if let m = inputs["masks"] {
      guard m.shape == [n, shape[2], shape[3]], let values = m.floats else {
        throw PluginError.invalidParams(
          "input \"masks\" must be float32 [\(n), \(shape[2]), \(shape[3])] (1 on cells, 0 on background), one per crop")
      }
      masks = Array(values)
    }
    func strings(_ key: String) throws -> [String] {
      guard let list = context.context[key]?.arrayValue, list.count == n else {
        throw PluginError.invalidParams("context.\(key) must hold one value per crop (\(n))")
      }
      return list.map { $0.stringValue ?? JSONWriter.string($0) }
    }
    labels = try strings("labels")
    groups = try strings("groups")
    wells = try strings("wells")
    sites = context.context["sites"] == nil ? wells : try strings("sites")
    classes = Array(Set(labels)).sorted()
    guard classes.count == 2 else {
      throw PluginError.badInput("context.labels must hold exactly two classes; got \(classes.joined(separator: ", "))")
    }
    positive = context.context["positive"]?.stringValue ?? classes[1]
    guard classes.contains(positive) else {
      throw PluginError.invalidParams("context.positive \"\(positive)\" is not one of the labels \(classes)")
    }
    guard let foldList = context.context["folds"]?.arrayValue, !foldList.isEmpty else {
      throw PluginError.invalidParams("context.folds must list the units each fold holds out, e.g. [[\"L1\", \"L2\"], ...]")
    }
    let known = Set(groups)
    folds = try foldList.enumerated().map { index, fold in
      let units = Set(fold.arrayValue?.compactMap(\.stringValue) ?? [])
      guard !units.isEmpty, units.isSubset(of: known) else {
        throw PluginError.invalidParams(
          "context.folds[\(index)] must name held-out units found in context.groups; got \(JSONWriter.string(fold))")
      }
      return units
    }
    channelNames = context.context["channel_names"]?.arrayValue?.compactMap(\.stringValue) ?? []
    if channelNames.count != shape[1] { channelNames = (0..<shape[1]).map { "channel \($0 + 1)" } }
    settings = SupervisedSettings(context)
  }
}

/// The parameters of method "supervised", defaults filled in by the host.
struct SupervisedSettings {
  var model = ""
  var output = "embedding"
  var topLayers = 1
  var inputSize = 64
  var epochs = 6
  var maxTrainCrops = 512
  var saliencyCrops = 64
  var overlays = 3
  var threshold = 0.5
  var seed: UInt64 = 0
  var threads = 2
  var training = FineTunedClassifier.Settings()

  init(_ context: CallContext) {
    model = context.string("model") ?? model
    if let name = context.string("output"), !name.isEmpty { output = name }
    topLayers = context.integer("top_layers") ?? topLayers
    inputSize = context.integer("input_size") ?? inputSize
    epochs = context.integer("epochs") ?? epochs
    maxTrainCrops = context.integer("max_train_crops") ?? maxTrainCrops
    saliencyCrops = context.integer("saliency_crops") ?? saliencyCrops
    overlays = context.integer("overlays") ?? overlays
    threshold = context.number("sanity_threshold") ?? threshold
    seed = UInt64(max(0, context.integer("seed") ?? 0))
    threads = max(1, context.integer("threads") ?? threads)
    training.learningRate = Float(context.number("learning_rate") ?? Double(training.learningRate))
    training.layerLearningRate = Float(context.number("layer_learning_rate") ?? Double(training.layerLearningRate))
    training.epochs = epochs
    training.seed = seed
    training.threads = threads
  }
}
