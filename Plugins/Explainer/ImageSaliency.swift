import ConfoundKit
import Foundation
import JSONRPC
import NeuralNet

/// The explainer's image methods: saliency maps of one output column of an ONNX model (NeuralNet's reverse-mode
/// gradients), for input `images` [N, C, H, W] float32. GradCAM and GradCAM++ give [N, h, w] at the layer's
/// resolution (or the input's with `upsample`), `gradient` [N, C, H, W], `occlusion` [N, H, W]; maps keep their raw
/// scale unless `normalize` (per-image min-max) is asked for, and are ReLU'd unless `signed`.
enum ImageSaliency {
  static let methods = ["gradcam", "gradcam++", "gradient", "occlusion"]

  /// Networks already read in this worker, by path: every call of an audit names the same model.
  nonisolated(unsafe) static var networks: [String: Network] = [:]
  static let lock = NSLock()

  static func network(_ path: String) throws -> Network {
    guard !path.isEmpty else { throw PluginError.invalidParams("parameter model must name an ONNX file for the image methods") }
    lock.lock()
    defer { lock.unlock() }
    if let hit = networks[path] { return hit }
    do {
      let network = try Network(contentsOf: URL(fileURLWithPath: path))
      networks[path] = network
      return network
    } catch {
      throw PluginError.badInput("parameter model: \(path): \(error)")
    }
  }

  static func explain(_ method: String, inputs: [String: TensorView], context: CallContext) throws -> AnalysisResult {
    guard let images = inputs["images"], images.shape.count == 4, let floats = images.floats else {
      throw PluginError.invalidParams("method \"\(method)\" needs input \"images\" float32 [N, C, H, W]")
    }
    let network = try network(context.string("model") ?? "")
    guard let output = context.string("output"), !output.isEmpty else {
      throw PluginError.invalidParams("parameter output must name the model output whose column is explained")
    }
    let column = context.integer("index") ?? 0
    var options = SaliencyOptions(
      layer: (context.string("layer") ?? "").isEmpty ? nil : context.string("layer"),
      polarity: context.bool("signed") == true ? .signed : .positive, minMax: context.bool("normalize") == true,
      upsample: context.bool("upsample") == true, anySpatialSize: true)
    options.patch = context.integer("patch") ?? options.patch
    options.stride = context.integer("stride") ?? options.stride
    let kind = SaliencyMethod(rawValue: method)!
    let maps: NeuralNet.Tensor
    do {
      maps = try network.saliency(NeuralNet.Tensor(shape: images.shape, data: Array(floats)), output: output,
                                  column: column, method: kind, options: options)
    } catch let error as PluginError {
      throw error
    } catch {
      throw PluginError.invalidParams("\(method) of \(output)[\(column)]: \(error)")
    }
    let layer = kind == .gradCAM || kind == .gradCAMPlusPlus ? (options.layer ?? (try? network.defaultCAMLayer(output: output))) : nil
    var summary: JSONObject = ["method": .string(method), "output": .string(output), "index": .int(Int64(column)),
                               "shape": .array(maps.shape.map { .int(Int64($0)) })]
    if let layer { summary["layer"] = .string(layer) }
    return AnalysisResult(summary: .object(summary), outputs: [ConfoundKit.Tensor(name: "maps", shape: maps.shape, floats: maps.data)])
  }
}
