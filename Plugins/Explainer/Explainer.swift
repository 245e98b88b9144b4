import CConfoundPlugin
import ConfoundKit
import ConfoundProtocol
import JSONRPC
import NeuralNet
import Statistics

/// The built-in explainer: what a model relies on. Method "probe" explains the probe's model on a feature table:
/// partial dependence and ICE of the standardised logistic regression fitted on all rows, and permutation
/// importance on held-out grouped folds, per feature and per feature family. Methods gradcam, gradcam++, gradient
/// and occlusion explain an ONNX model's output on images (`ImageSaliency`, over NeuralNet's gradients).
final class Explainer: ExplainerPlugin {
  static let methods = ["probe", "supervised"] + ImageSaliency.methods

  static let manifest = PluginManifest(
    id: "confound.explainer", name: "Explainer", kind: .explainer, version: "0.1.0",
    abiVersion: Int(CONFOUND_ABI_VERSION),
    description: "What a model relies on. Method probe: partial dependence and ICE of the probe's standardised L2 "
      + "logistic regression fitted on all rows (scikit-learn's definitions), and permutation importance (drop in "
      + "held-out ROC AUC and balanced accuracy over grouped folds) per feature and per feature family, a family's "
      + "columns permuted together.",
    parameters: [
      ParameterSpec(
        name: "method", type: .string, default: "probe", choices: methods,
        description: "What to explain. probe: a logistic model on input \"features\" [N, D] with "
          + "context.labels; gradcam, gradcam++, gradient, occlusion: an ONNX model (parameter model) on input "
          + "\"images\" [N, C, H, W], output \"maps\"; supervised: fine-tune the model's top layers and a "
          + "linear head on input \"crops\" [N, C, h, w] inside each of context.folds, with GradCAM numbers."),
      ParameterSpec(name: "model", type: .string, default: "", description: "Image methods: the ONNX model file."),
      ParameterSpec(name: "output", type: .string, default: "", description: "Image methods: the output explained."),
      ParameterSpec(name: "index", type: .integer, default: 0, minimum: 0, description: "Image methods: its column."),
      ParameterSpec(name: "layer", type: .string, default: "",
                    description: "GradCAM: the convolutional value by ONNX name (empty: the input of the global pool)."),
      ParameterSpec(name: "signed", type: .boolean, default: false, description: "Image methods: keep negative values."),
      ParameterSpec(name: "normalize", type: .boolean, default: false, description: "Image methods: per-image min-max to [0, 1]."),
      ParameterSpec(name: "upsample", type: .boolean, default: false, description: "CAM methods: bilinear to the input size."),
      ParameterSpec(name: "patch", type: .integer, default: 8, minimum: 1, description: "Occlusion: patch side in pixels."),
      ParameterSpec(name: "stride", type: .integer, default: 4, minimum: 1, description: "Occlusion: step in pixels."),
      ParameterSpec(
        name: "kind", type: .string, default: "both", choices: ["average", "individual", "both"],
        description: "Partial dependence (average), ICE curves (individual) or both, as scikit-learn's kind."),
      ParameterSpec(
        name: "c", type: .number, default: 1.0, minimum: 1e-12,
        description: "Inverse L2 strength of the logistic regression, as scikit-learn's C."),
      ParameterSpec(
        name: "folds", type: .integer, default: 5, minimum: 2, maximum: 1000,
        description: "Group folds of the permutation importance (capped at the number of groups)."),
      ParameterSpec(
        name: "n_repeats", type: .integer, default: 5, minimum: 1, maximum: 10_000,
        description: "Permutations per feature and per family, as scikit-learn's n_repeats."),
      ParameterSpec(name: "seed", type: .integer, default: 0, minimum: 0, description: "Seed of the permutations."),
      ParameterSpec(
        name: "grid_resolution", type: .integer, default: 100, minimum: 2, maximum: 10_000,
        description: "Grid points of a feature with at least this many distinct values (fewer: the "
          + "values themselves)."),
      ParameterSpec(
        name: "lower_percentile", type: .number, default: 0.05, minimum: 0, maximum: 1,
        description: "Where the grid starts, as a quantile of the feature."),
      ParameterSpec(
        name: "upper_percentile", type: .number, default: 0.95, minimum: 0, maximum: 1,
        description: "Where the grid ends, as a quantile of the feature."),
      ParameterSpec(
        name: "top", type: .integer, default: 10, minimum: 0, maximum: 100_000,
        description: "Partial dependence of this many features, the most important first (by ROC AUC "
          + "drop), unless context.partial_dependence_features names them; 0: every feature."),
      ParameterSpec(name: "top_layers", type: .integer, default: 1, minimum: 1, maximum: 50,
                    description: "Supervised: weighted layers below the pooled output that are fine-tuned."),
      ParameterSpec(name: "input_size", type: .integer, default: 64, minimum: 8, maximum: 1024,
                    description: "Supervised: side the crops are resized to, as the embedder's input_size."),
      ParameterSpec(name: "epochs", type: .integer, default: 6, minimum: 1, maximum: 1000,
                    description: "Supervised: passes over each fold's training crops."),
      ParameterSpec(name: "learning_rate", type: .number, default: 1e-3, minimum: 1e-8, maximum: 1,
                    description: "Supervised: Adam's step size for the linear head."),
      ParameterSpec(name: "layer_learning_rate", type: .number, default: 1e-4, minimum: 0, maximum: 1,
                    description: "Supervised: Adam's step size for the fine-tuned layers (0 freezes them)."),
      ParameterSpec(name: "max_train_crops", type: .integer, default: 512, minimum: 2, maximum: 10_000_000,
                    description: "Supervised: at most this many training crops per fold, evenly spaced."),
      ParameterSpec(name: "saliency_crops", type: .integer, default: 64, minimum: 1, maximum: 1_000_000,
                    description: "Supervised: held-out crops per class whose GradCAM is measured."),
      ParameterSpec(name: "overlays", type: .integer, default: 3, minimum: 0, maximum: 100,
                    description: "Supervised: correctly predicted crops per class returned for the overlays."),
      ParameterSpec(name: "sanity_threshold", type: .number, default: 0.5, minimum: -1, maximum: 1,
                    description: "Supervised: the rank correlation a randomised model's maps must fall below."),
      ParameterSpec(name: "threads", type: .integer, default: 2, minimum: 1, maximum: 256,
                    description: "Supervised: threads for the network passes and the training batches."),
      ParameterSpec(
        name: "importance", type: .boolean, default: true,
        description: "Compute permutation importance (off: partial dependence of the first features only)."),
    ],
    outputs: [
      OutputSpec(
        name: "partial_dependence", type: .json, description: "per feature (and class): grid, average, individual"),
      OutputSpec(name: "maps", type: .tensor, description: "image methods: float32 saliency maps"),
      OutputSpec(
        name: "permutation_importance", type: .json,
        description: "per family and per feature: mean and std of the held-out ROC AUC and balanced accuracy drops"),
    ])

  init() {
    // Many small products: OpenBLAS's threads only slow them, and two workers run side by side.
    BLASThreads.set(1)
    // The network passes of the image methods and the supervised CNN are mostly sgemm: OpenBLAS's kernels for this
    // CPU rather than its generic fallback, chosen once per worker before any call, so every call sees the same.
    BLASKernels.selectForThisCPU()
  }

  func explain(inputs: [String: TensorView], context: CallContext) throws -> AnalysisResult {
    let method = context.string("method") ?? "probe"
    if ImageSaliency.methods.contains(method) { return try ImageSaliency.explain(method, inputs: inputs, context: context) }
    if method == "supervised" {
      let cnn = try SupervisedCNN(try SupervisedRequest(inputs: inputs, context: context))
      do {
        return AnalysisResult(
          summary: try cnn.explain(check: { try context.checkCancellation() }, progress: { context.progress($0, $1) }))
      } catch let error as NeuralNetError {
        throw PluginError.failed("supervised CNN: \(error.description)")
      }
    }
    guard method == "probe" else {
      throw PluginError.invalidParams(
        "parameter method must be one of \(Self.methods.joined(separator: ", ")), got \"\(method)\"")
    }
    let request = try ProbeExplanationRequest(inputs: inputs, context: context)
    do {
      let explanation = try ProbeExplanation(request)
      return AnalysisResult(
        summary: try explanation.run(
          check: { try context.checkCancellation() },
          progress: { context.progress($0, $1) }))
    } catch let error as StatisticsError {
      throw PluginError.badInput("\(error)")
    }
  }
}

@_cdecl("confound_plugin_entry")
public func confoundPluginEntry(_ hostABI: UInt32) -> UnsafePointer<cf_plugin>? {
  PluginExport.entry(Explainer.self, hostABI: hostABI)
}
