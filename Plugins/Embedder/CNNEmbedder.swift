import CConfoundPlugin
import ConfoundKit
import ConfoundProtocol
import Foundation
import JSONRPC
import NeuralNet
import Statistics

/// The built-in embedder: a pretrained CNN from an ONNX file (default: ImageNet EfficientNet-Lite0 from the model
/// cache) run by NeuralNet on the CPU, one vector per crop. A thin adapter: channel mapping, intensity
/// normalisation and resizing (`Preprocessing`), then the network's named output.
///
/// Per image the input is: each channel mapped to 0...255 (`intensity`), resized bilinearly to the model's input
/// size (read from the ONNX input shape), then the model's own normalisation (x - input_mean) / input_std from its
/// metadata_props, or (x - 127) / 128 when absent. With `raw` the crops go in unchanged.
final class CNNEmbedder: EmbedderPlugin {
  static let manifest = PluginManifest(
    id: "confound.embedder", name: "CNN embedder (ONNX)", kind: .embedder, version: "0.1.0",
    abiVersion: Int(CONFOUND_ABI_VERSION),
    description: "ImageNet-pretrained CNN embeddings of crops from any ONNX model NeuralNet runs (default "
      + "EfficientNet-Lite0). Channels embedded one by one and concatenated, or three as RGB; per-crop "
      + "percentile normalisation, bilinear resize to the model's input; optional seeded random weights.",
    parameters: EmbedderSettings.specs,
    outputs: [OutputSpec(name: "embeddings", type: .tensor, description: "float32 [N, D]: the chosen output per crop")])

  /// Images per network call: bounds memory, and lets cancellation and progress through between batches.
  static let imagesPerBatch = 32

  /// Loaded networks by model path and weights (pretrained or the random seed); loading costs a protobuf decode.
  private var networks: [String: Network] = [:]
  private let lock = NSLock()

  /// Loading the plugin also lets OpenBLAS replace its SSE3 fallback kernels on CPUs newer than itself
  /// (`BLASKernels`): sgemm runs 5x faster on this machine's Xeon.
  init() { BLASKernels.selectForThisCPU() }

  func embed(crops: TensorView, context: CallContext) throws -> EmbeddingResult {
    let (n, c, h, w) = (crops.shape[0], crops.shape[1], crops.shape[2], crops.shape[3])
    let settings = try EmbedderSettings(context, channels: c)
    let network = try self.network(settings.modelPath, randomSeed: settings.randomSeed)
    guard let floats = crops.floats else { throw PluginError.invalidParams("crops must be float32") }
    if settings.raw {
      let output = try run(network, NeuralNet.Tensor(shape: crops.shape, data: Array(floats)), settings)
      return EmbeddingResult(embeddings: output.data, count: n, dimension: output.count / max(n, 1),
                             summary: summary(network, settings))
    }
    let geometry: ModelGeometry
    do { geometry = try ModelGeometry(network, size: settings.inputSize) } catch let error as NeuralNetError {
      throw PluginError.invalidParams(error.description)
    }
    let preparation = CropInput(geometry: geometry, intensity: settings.intensity, channels: settings.mode)
    let perCrop = preparation.perCrop(channels: c)
    var embeddings: [Float] = []
    var dimension = 0
    let images = n * perCrop
    for start in stride(from: 0, to: images, by: Self.imagesPerBatch) {
      try context.checkCancellation()
      let end = min(start + Self.imagesPerBatch, images)
      let input = preparation.images(floats, shape: crops.shape, range: start..<end)
      let output = try run(network, input, settings)
      dimension = output.count / (end - start)
      embeddings += output.data
      context.progress(Double(end) / Double(images), "\(end)/\(images) images")
    }
    // Image i of crop k sits at row k * perCrop + i: rows of perCrop images concatenate into one crop's vector.
    return EmbeddingResult(embeddings: embeddings, count: n, dimension: dimension * perCrop,
                           summary: summary(network, settings))
  }

  private func summary(_ network: Network, _ settings: EmbedderSettings) -> JSONObject {
    [
      "model": .string(settings.modelPath), "output": .string(settings.output),
      "random_weights": .bool(settings.randomSeed != nil), "input_size": .int(Int64(settings.inputSize)),
      "model_name": network.metadata["model"].map(JSONValue.string) ?? .null,
    ]
  }

  /// The requested output of `network` flattened per image; NeuralNet errors become plugin errors with their
  /// message (which names the file, node or input concerned).
  private func run(_ network: Network, _ input: NeuralNet.Tensor, _ settings: EmbedderSettings) throws
    -> NeuralNet.Tensor
  {
    let output = settings.output
    do {
      let values = try network.run(input, outputs: [output], threads: settings.threads,
                                   anySpatialSize: settings.inputSize > 0 && !settings.raw)
      guard let value = values[output] else {
        throw PluginError.failed("\(network.file) returned no value '\(output)'")
      }
      return value
    } catch let error as NeuralNetError {
      switch error {
      case .inputShape, .unknownValue: throw PluginError.invalidParams(error.description)
      default: throw PluginError.failed(error.description)
      }
    }
  }

  /// The network for `path`, loaded once per plugin instance (and per random seed).
  private func network(_ path: String, randomSeed: UInt64?) throws -> Network {
    let key = path + (randomSeed.map { "#random\($0)" } ?? "")
    lock.lock()
    defer { lock.unlock() }
    if let cached = networks[key] { return cached }
    guard FileManager.default.fileExists(atPath: path) else {
      throw PluginError.invalidParams("model file \(path) does not exist: pass an .onnx file as parameter model, or "
        + "run `bash .ci/setup-models` for the default EfficientNet-Lite0")
    }
    let network: Network
    do {
      if let seed = randomSeed {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        network = try Network(bytes: try RandomWeights.reinitialise(bytes, seed: seed, file: path), file: path)
      } else {
        network = try Network(contentsOf: URL(fileURLWithPath: path))
      }
    } catch let error as NeuralNetError {
      throw PluginError.invalidParams("cannot load model: \(error.description)")
    }
    networks[key] = network
    return network
  }
}

@_cdecl("confound_plugin_entry")
public func confoundPluginEntry(_ hostABI: UInt32) -> UnsafePointer<cf_plugin>? {
  PluginExport.entry(CNNEmbedder.self, hostABI: hostABI)
}
