import CConfoundPlugin
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC

/// One call of an opened plugin, done the same way in a worker process (`WorkerMain`) and in process
/// (`InProcessPlugins`): the inputs read from their files, the image scale added to the context, and the plugin's
/// result turned into the worker's answer (`{"result", "outputs"}`, outputs written as .npy files) or its error.
enum PluginInvocation {
  /// The call's params (with `context.image_scale` for integer images) and its inputs read from their files.
  static func prepare(_ call: WorkerCall) throws -> (params: JSONValue, inputs: [(String, NPYArray)]) {
    let loaded = try call.inputs.map { ($0.name, try InputLoader.load($0)) }
    var params = call.params
    if let scale = loaded.compactMap({ $0.1.integerScale }).max(), case .object(var object) = params {
      var context = object["context"]?.objectValue ?? JSONObject()
      context["image_scale"] = .double(Double(scale))
      object["context"] = .object(context)
      params = .object(object)
    }
    return (params, loaded.map { ($0.0, $0.1.array) })
  }

  /// The answer to a finished call: its error for a failing status, else its JSON with the outputs written into
  /// `outputDir` as `<pid>-<sequence>-<name>.npy`.
  static func answer(_ result: PluginLibrary.CallResult, plugin: String, outputDir: String, sequence: Int) throws
    -> Result<JSONValue, ResponseError>
  {
    func failure(_ code: ErrorCode) -> Result<JSONValue, ResponseError> {
      var data = result.json["data"]?.objectValue ?? JSONObject()
      data["plugin"] = .string(plugin)
      let message = result.json["message"]?.stringValue ?? "plugin \(plugin) failed"
      return .failure(ResponseError(code, message, data: .object(data)))
    }
    switch result.status {
    case CF_OK: break
    case CF_ERROR_INVALID_PARAMS: return failure(.invalidParams)
    case CF_ERROR_CANCELLED: return failure(.requestCancelled)
    case CF_ERROR_BAD_INPUT: return failure(.badInputFile)
    default: return failure(.pluginError)
    }
    try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
    var refs: [JSONValue] = []
    for (name, array) in result.outputs {
      let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" })
      let path = (outputDir as NSString).appendingPathComponent("\(getpid())-\(sequence)-\(safe).npy")
      try array.write(to: URL(fileURLWithPath: path))
      refs.append(try JSONCodec.encode(TensorRef(name: name, path: path, dtype: array.dtype.rawValue, shape: array.shape)))
    }
    return .success(["result": result.json, "outputs": .array(refs)])
  }
}
