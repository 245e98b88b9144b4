/// The graph edits fine-tuning needs: BatchNormalization and activations folded into the convolutions (so that a
/// layer's weights are the ones it runs with), the part of a graph above a cut, and layers' parameters read and
/// replaced by node name.
extension Network {
  /// A copy whose graph has every BatchNormalization and Relu/Clip folded into the Conv before it where that hides
  /// none of the declared outputs, as float32 plans do anyway: the same function, with each convolution's weights the
  /// effective ones. Node names stay the convolutions' own; a folded value keeps the name of the last value folded.
  public func folded() -> Network {
    var copy = graph
    copy.nodes = Plan.fused(copy.nodes, keeping: Set(copy.outputs))
    return Network(self, graph: copy)
  }

  /// The part of the graph that computes `output` from the value `cut`: a network whose one input is `cut` (any
  /// shape) and whose one output is `output`. Throws, naming the value, when the part reads a value computed below
  /// the cut (a skip connection across it): choose a cut above every such connection.
  public func subnetwork(from cut: String, to output: String) throws -> Network {
    let producers = Dictionary(graph.nodes.enumerated().map { ($1.output, $0) }, uniquingKeysWith: { a, _ in a })
    guard let last = producers[output] else {
      throw NeuralNetError.unknownValue(name: output, message: "no node of \(file) computes it")
    }
    var keep = Set<Int>()
    var stack = [last]
    var reachedCut = false
    while let index = stack.popLast() {
      guard keep.insert(index).inserted else { continue }
      for input in graph.nodes[index].inputs {
        if input == cut { reachedCut = true; continue }
        if let producer = producers[input] { stack.append(producer) }
      }
    }
    guard reachedCut else {
      throw NeuralNetError.unknownValue(name: cut, message: "is not a value that \(output) of \(file) is computed from")
    }
    var copy = graph
    copy.nodes = graph.nodes.indices.filter(keep.contains).map { graph.nodes[$0] }
    let produced = Set(copy.nodes.map(\.output))
    for node in copy.nodes {
      for input in node.inputs where input != cut && !produced.contains(input) && graph.constants.floats[input] == nil
        && graph.constants.ints[input] == nil
      {
        throw NeuralNetError.unknownValue(
          name: input,
          message: "is read by node '\(node.name)' above the cut at \(cut) but computed below it: choose a cut above it")
      }
    }
    if let cutProducer = producers[cut], keep.contains(cutProducer) {
      throw NeuralNetError.unknownValue(name: cut, message: "is computed again above itself in \(file)")
    }
    copy.inputs = [ValueSpec(name: cut, shape: nil)]
    copy.outputs = [output]
    return Network(self, graph: copy)
  }

  /// The weight and bias of each named Conv, Gemm or MatMul node (bias nil when the node has none).
  public func parameters(of layers: [String]) throws -> [String: LayerParameters] {
    var result: [String: LayerParameters] = [:]
    for name in layers {
      let node = try self.node(named: name)
      switch node.op {
      case .conv(let spec):
        result[name] = LayerParameters(weight: spec.weight, bias: Tensor(shape: [spec.bias.count], data: spec.bias))
      case .gemm, .matMul:
        let operands = node.inputs.dropFirst().map { graph.constants.floats[$0] }
        guard let weight = operands.first ?? nil else {
          throw NeuralNetError.unknownValue(name: name, message: "node of \(file) has no constant weight")
        }
        result[name] = LayerParameters(weight: weight, bias: operands.count > 1 ? operands[1] : nil)
      default:
        throw NeuralNetError.unknownValue(name: name, message: "node of \(file) has no weights")
      }
    }
    return result
  }

  /// A copy with the named layers' weights and biases replaced (each of its layer's own shape).
  public func replacing(_ parameters: [String: LayerParameters]) throws -> Network {
    var copy = graph
    for (name, new) in parameters {
      guard let index = copy.nodes.firstIndex(where: { $0.name == name }) else {
        throw NeuralNetError.unknownValue(name: name, message: "no node of \(file) has this name")
      }
      let old = try self.parameters(of: [name])[name]!
      guard old.weight.shape == new.weight.shape, old.bias?.shape == new.bias?.shape else {
        throw NeuralNetError.unknownValue(
          name: name, message: "parameters of shapes \(new.weight.shape), \(new.bias?.shape ?? []) for weights of "
            + "shapes \(old.weight.shape), \(old.bias?.shape ?? [])")
      }
      switch copy.nodes[index].op {
      case .conv(var spec):
        spec.weight.data = new.weight.data
        spec.bias = new.bias?.data ?? spec.bias
        copy.nodes[index].op = .conv(spec)
      default:
        let operands = Array(copy.nodes[index].inputs.dropFirst())
        copy.constants.floats[operands[0]] = new.weight
        if let bias = new.bias, operands.count > 1 { copy.constants.floats[operands[1]] = bias }
      }
    }
    return Network(self, graph: copy)
  }

  /// The input value of the `count`-th weighted layer below `output` (1: the layer nearest the output): the cut
  /// above which the top `count` layers lie.
  public func cut(belowTop count: Int, of output: String) throws -> (cut: String, layers: [String]) {
    let layers = try weightedLayers(from: output)
    guard count >= 1, count <= layers.count else {
      throw NeuralNetError.unknownValue(
        name: output, message: "has \(layers.count) weighted layers below it in \(file); asked for the top \(count)")
    }
    let top = Array(layers.prefix(count))
    return (try node(named: top.last!).inputs[0], top)
  }

  func node(named name: String) throws -> Node {
    guard let node = graph.nodes.first(where: { $0.name == name }) else {
      throw NeuralNetError.unknownValue(name: name, message: "no node of \(file) has this name")
    }
    return node
  }
}

/// A layer's trainable parameters.
public struct LayerParameters: Sendable {
  public var weight: Tensor
  public var bias: Tensor?
  public init(weight: Tensor, bias: Tensor?) { (self.weight, self.bias) = (weight, bias) }
}
