/// A validated, topologically ordered graph: what `Network` keeps after decoding a file.
struct LoadedGraph {
  var file: String
  var nodes: [Node]
  var constants: Constants
  var inputs: [ValueSpec]
  var outputs: [String]

  init(model: ModelProto, file: String) throws {
    self.file = file
    let opset = model.opsets[""] ?? model.opsets["ai.onnx"] ?? 13
    var constants = Constants()
    for tensor in model.graph.initializers { try constants.add(tensor, name: tensor.name, file: file) }
    for proto in model.graph.nodes where proto.opType == "Constant" {
      guard let value = proto.attributes["value"]?.t, let output = proto.outputs.first else {
        throw NeuralNetError.invalidNode(
          node: proto.name, op: "Constant", message: "only the tensor 'value' form is supported")
      }
      try constants.add(value, name: output, file: file)
    }
    let parser = OperatorParser(file: file, opset: opset, constants: constants)
    let parsed = try model.graph.nodes.filter { $0.opType != "Constant" }.map(parser.parse)
    self.constants = constants
    inputs = model.graph.inputs.filter { constants.floats[$0.name] == nil }.map {
      ValueSpec(name: $0.name, shape: $0.shape)
    }
    outputs = model.graph.outputs.map(\.name)
    nodes = try LoadedGraph.sorted(parsed, available: Set(inputs.map(\.name)).union(constants.floats.keys), file: file)
  }

  /// Kahn's order: a node runs once every input is a graph input, a constant or an earlier node's output.
  /// Nodes already in order (the usual case) keep their order.
  private static func sorted(_ nodes: [Node], available start: Set<String>, file: String) throws -> [Node] {
    var available = start
    var pending = nodes
    var order: [Node] = []
    while !pending.isEmpty {
      let before = pending.count
      var rest: [Node] = []
      for node in pending {
        if node.inputs.allSatisfy(available.contains) {
          order.append(node)
          available.insert(node.output)
        } else {
          rest.append(node)
        }
      }
      pending = rest
      guard pending.count < before else {
        let node = pending[0]
        let missing = node.inputs.first { !available.contains($0) } ?? "?"
        let produced = Set(nodes.map(\.output))
        let why =
          produced.contains(missing) ? "the graph has a cycle through it" : "no node, input or initializer produces it"
        throw NeuralNetError.invalidModel(file: file, message: "node '\(node.name)' reads '\(missing)', but \(why)")
      }
    }
    return order
  }
}

/// A graph input: its name and declared shape (named dimensions such as a batch `N` accept any size).
public struct ValueSpec: Sendable, Equatable {
  public let name: String
  /// nil when the model does not declare the shape.
  public let shape: [Dimension]?

  /// Throws unless `received` has the declared rank and every fixed dimension; with `anySpatialSize` the
  /// height and width of a 4-D NCHW input may differ from the declared ones.
  func check(_ received: [Int], anySpatialSize: Bool = false) throws {
    guard let shape else { return }
    let fits =
      shape.count == received.count
      && zip(shape, received).enumerated().allSatisfy { axis, pair in
        if anySpatialSize && shape.count == 4 && axis >= 2 { return true }
        if case .fixed(let expected) = pair.0 { return expected == pair.1 }
        return true
      }
    guard fits else {
      throw NeuralNetError.inputShape(
        name: name, expected: "[" + shape.map(\.description).joined(separator: ",") + "]", received: received)
    }
  }
}
