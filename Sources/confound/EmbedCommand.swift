import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound embed --model FILE [--output NAME] IMAGE... --out FILE.npy` and
/// `confound embed --model FILE [--output NAME] --raw-input X.npy --out Y.npy`: CNN vectors through the host's
/// embedder, written as one float32 [N, D] .npy (row i for image i).
struct EmbedCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "embed", abstract: "Embed images (or a raw NCHW batch) with a CNN from an ONNX file.",
    discussion: "Images are resized as a whole to the model's input; a 3-channel image goes in as RGB, other "
      + "channel counts channel by channel (concatenated). --raw-input runs an already-normalised float32 "
      + "[N, C, H, W] batch through the network unchanged. Without --model: EfficientNet-Lite0 from the model "
      + "cache (`bash .ci/setup-models`).")
  @OptionGroup var hostOptions: HostOptions
  @Option(help: "An ONNX model file (default: the cached EfficientNet-Lite0).") var model: String?
  @Option(help: "The graph value to write per image, e.g. embedding or logits.") var output: String?
  @Option(help: "A float32 NCHW .npy batch, already normalised, run unchanged.") var rawInput: String?
  @Option(help: "The .npy file to write: float32 [N, D].") var out: String
  @Option(help: "An embedder plugin id (default: the host's default embedder).") var plugin: String?
  @Option(name: .customLong("param"), help: "A plugin parameter NAME=VALUE (repeatable), e.g. random_weights=true.")
  var parameters: [String] = []
  @Argument(help: "Image files (TIFF or PNG); a multi-channel site as files joined by ','.") var images: [String] = []

  func validate() throws {
    guard (rawInput == nil) != images.isEmpty else {
      throw ValidationError("give image files or --raw-input X.npy (one of the two)")
    }
  }

  func run() throws {
    var parsed = try SegmentCommand.parse(parameters) ?? JSONObject()
    if let model { parsed["model"] = .string(absolute(model)) }
    if let output { parsed["output"] = .string(output) }
    let params = EmbedImagesRequest.Params(
      images: images.isEmpty ? nil : images.map { $0.split(separator: ",").map { absolute(String($0)) } },
      rawInput: rawInput.map(absolute), out: absolute(out), plugin: plugin,
      parameters: parsed.isEmpty ? nil : parsed)
    let response = try withHost(hostOptions) {
      try $0.request(EmbedImagesRequest.self, params, progressTitle: "embed")
    }
    print("\(response.out)\t\(response.count) x \(response.dimension)")
  }

  /// Paths go to the host as absolute ones: it may run in another directory.
  private func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}
