import ConfoundKit
import ConfoundProtocol
import Foundation
import JSONRPC
import NeuralNet

/// The embedder's parameters as the manifest declares them, resolved for one call. The host has already filled
/// defaults and checked types and choices; what depends on the crops (channel numbers) is checked here.
struct EmbedderSettings {
  static let specs: [ParameterSpec] = [
    ParameterSpec(name: "model", type: .string, default: "",
                  description: "An ONNX file; empty = EfficientNet-Lite0 from the model cache "
                    + "($CONFOUND_MODEL_DIR or ~/.cache/confound/models, made by `bash .ci/setup-models`)."),
    ParameterSpec(name: "output", type: .string, default: "embedding",
                  description: "The graph value to return per image, by name (e.g. embedding, logits)."),
    ParameterSpec(name: "channel_mode", type: .string, default: "each", choices: ["each", "triple"],
                  description: "each: every channel alone, replicated to RGB, embeddings concatenated in channel "
                    + "order (D x C values); triple: the channels named by `channels` as R, G, B."),
    ParameterSpec(name: "channels", type: .string, default: "0,1,2",
                  description: "channel_mode triple: three 0-based channel indices, comma-separated, as R,G,B."),
    ParameterSpec(name: "intensity", type: .string, default: "percentile", choices: ["percentile", "scale", "none"],
                  description: "Before the model's own normalisation, map each crop's channel to [0, 255]: "
                    + "percentile = its 1st..99th percentile stretched (clipped); scale = x * 255 / image_scale "
                    + "(context, default 255); none = values are already 0..255."),
    ParameterSpec(name: "input_size", type: .integer, default: 0, minimum: 0, maximum: 4096,
                  description: "0: resize crops to the model's declared input size; N: resize them to N x N and run "
                    + "the network at that size (fully convolutional models pooled before the chosen output, e.g. "
                    + "64 for 32-pixel cell crops instead of upsampling them to 224)."),
    ParameterSpec(name: "threads", type: .integer, default: 1, minimum: 1, maximum: 256,
                  description: "Threads that share each batch (the host already runs one call per worker)."),
    ParameterSpec(name: "raw", type: .boolean, default: false,
                  description: "Feed the crops to the network unchanged (already normalised, the model's NCHW shape)."),
    ParameterSpec(name: "random_weights", type: .boolean, default: false,
                  description: "The same architecture with He-normal random weights and zero biases (the "
                    + "untrained baseline of image-based profiling)."),
    ParameterSpec(name: "seed", type: .integer, default: 0, minimum: 0, maximum: 4_294_967_295,
                  description: "Seed of random_weights."),
  ]

  typealias ChannelMode = CropInput.Channels

  var modelPath: String
  var output: String
  var mode: ChannelMode
  var intensity: IntensityMapping
  var raw: Bool
  var randomSeed: UInt64?
  /// 0: the model's declared input size.
  var inputSize: Int
  var threads: Int

  /// Reads the resolved parameters; `channels` is the crops' channel count.
  init(_ context: CallContext, channels: Int) throws {
    let model = context.string("model") ?? ""
    do { modelPath = model.isEmpty ? try DefaultModel.path() : model } catch let error as NeuralNetError {
      throw PluginError.invalidParams(error.description)
    }
    output = context.string("output") ?? "embedding"
    raw = context.bool("raw") ?? false
    inputSize = context.integer("input_size") ?? 0
    threads = max(1, context.integer("threads") ?? 1)
    randomSeed = (context.bool("random_weights") ?? false) ? UInt64(context.integer("seed") ?? 0) : nil
    switch context.string("intensity") ?? "percentile" {
    case "none": intensity = .none
    case "scale": intensity = .scale(Float(context.context["image_scale"]?.doubleValue ?? 255))
    default: intensity = .percentile
    }
    guard context.string("channel_mode") == "triple" else {
      mode = .each
      return
    }
    let text = context.string("channels") ?? "0,1,2"
    let indices = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard indices.count == 3, indices.allSatisfy({ (0..<channels).contains($0) }) else {
      throw PluginError.invalidParams(
        "parameter channels = \"\(text)\" must be three channel indices in 0...\(channels - 1), e.g. \"0,1,2\"")
    }
    mode = .triple(indices)
  }
}
