/// Why a model could not be loaded or run. Each message names the file, node or value concerned and what
/// to do about it.
public enum NeuralNetError: Error, CustomStringConvertible, Equatable {
  /// The file is not a readable ONNX protobuf: truncated, corrupt, or not ONNX at all.
  case corruptModel(file: String, offset: Int, message: String)
  /// A node uses an operator this engine does not implement.
  case unsupportedOperator(file: String, op: String, node: String)
  /// The model is well-formed protobuf but breaks a rule the engine relies on.
  case invalidModel(file: String, message: String)
  /// A node received inputs it cannot work on (shape, channel count, missing constant).
  case invalidNode(node: String, op: String, message: String)
  /// A graph input was fed a tensor of the wrong shape.
  case inputShape(name: String, expected: String, received: [Int])
  /// A requested or fed value name does not exist in the graph.
  case unknownValue(name: String, message: String)

  public var description: String {
    switch self {
    case .corruptModel(let file, let offset, let message):
      return "\(file): not a readable ONNX model (decoding failed at byte offset \(offset): \(message)); "
        + "the file may be truncated or corrupt: fetch or export it again"
    case .unsupportedOperator(let file, let op, let node):
      return "\(file): node '\(node)' uses operator '\(op)', which NeuralNet does not support; supported: "
        + OperatorParser.supported.sorted().joined(separator: ", ") + ". Export the model without it."
    case .invalidModel(let file, let message):
      return "\(file): \(message)"
    case .invalidNode(let node, let op, let message):
      return "node '\(node)' (\(op)): \(message)"
    case .inputShape(let name, let expected, let received):
      return "input '\(name)' expects shape \(expected) but received \(describe(shape: received)); "
        + "resize or reorder the batch to NCHW with that shape"
    case .unknownValue(let name, let message):
      return "value '\(name)': \(message)"
    }
  }
}
