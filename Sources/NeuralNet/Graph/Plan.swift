/// The steps that compute a set of requested values, with fusions that do not hide any of them, and the
/// slot each value lives in while it is needed.
///
/// Invariants: steps are in topological order; a slot is freed right after its last reader, unless it holds
/// a requested value or a constant.
struct Plan {
  struct Step {
    let node: Node
    let inputs: [Int]
    let output: Int
    let release: [Int]

    /// Runs `body` (this step's forward or backward pass), naming the node in any shape error it throws.
    func attributing<Result>(_ body: () throws -> Result) throws -> Result {
      do { return try body() } catch let error as ShapeError {
        throw NeuralNetError.invalidNode(node: node.name, op: node.opType, message: error.message)
      }
    }
  }

  let steps: [Step]
  /// Constants in their slots; every other slot starts empty.
  let initialSlots: [Tensor?]
  let inputSlots: [String: Int]
  let outputSlots: [String: Int]
  /// True when every step treats the images of a batch independently, so the batch can be split over threads.
  let batchSeparable: Bool
  /// The slot of every value the steps read or write, by name; values folded into a fused step have none.
  let slotsByName: [String: Int]
  /// The channel-last forms of the steps, for float32 forward passes (`Fusion.all`, and a float32 tape's forward,
  /// `Fusion.gradients`); nil for `Fusion.none`.
  let channelLast: ChannelLastProgram?
  /// For `Fusion.gradients`: the slots a gradient can flow through (the watched values and every value computed from
  /// them), and those a tape keeps for its backward pass: these, every operand of a step they feed, and the
  /// requested values. No slot for other plans.
  let downstream: [Bool]
  let kept: Set<Int>

  /// Which fusions a plan may make where they hide no requested value.
  enum Fusion: Hashable {
    /// BatchNormalization and activations into the Conv before them, and expand+depthwise pairs (`Network.run`).
    case all
    /// For a gradient tape in float32: BatchNormalization and activations into the Conv everywhere, expand+depthwise
    /// pairs only upstream of the watched values, where no backward pass goes.
    case gradients(watched: Set<String>)
    /// None: the graph as the file has it (the float64 evaluation).
    case none
  }

  init(graph: LoadedGraph, requested: [String], fusion: Fusion = .all) throws {
    let producers = Dictionary(graph.nodes.map { ($0.output, $0) }, uniquingKeysWith: { first, _ in first })
    let known = Set(producers.keys).union(graph.inputs.map(\.name)).union(graph.constants.floats.keys)
    for name in requested where !known.contains(name) {
      let sample = graph.nodes.prefix(8).map(\.output).joined(separator: ", ")
      throw NeuralNetError.unknownValue(
        name: name,
        message: "no node, input or initializer of \(graph.file) has this name (node outputs: \(sample), ...)")
    }
    var nodes = Plan.needed(graph.nodes, for: requested)
    if fusion != .none { nodes = Plan.fused(nodes, keeping: Set(requested)) }
    switch fusion {
    case .all: nodes = Plan.pairedExpandDepthwise(nodes, keeping: Set(requested))
    case .gradients(let watched):
      var downstream = watched
      for node in nodes where node.inputs.contains(where: downstream.contains) { downstream.insert(node.output) }
      nodes = Plan.pairedExpandDepthwise(nodes, keeping: Set(requested).union(downstream))
    case .none: break
    }
    var slots: [String: Int] = [:]
    var initial: [Tensor?] = []
    func slot(_ name: String) -> Int {
      if let existing = slots[name] { return existing }
      slots[name] = initial.count
      initial.append(graph.constants.floats[name])
      return initial.count - 1
    }
    let inputSlots = Dictionary(uniqueKeysWithValues: graph.inputs.map { ($0.name, slot($0.name)) })
    let ids = nodes.map { node in (node.inputs.map(slot), slot(node.output)) }
    var lastReader: [Int: Int] = [:]
    for (index, (inputs, _)) in ids.enumerated() { for id in inputs { lastReader[id] = index } }
    let pinned = Set(requested.map(slot))
    steps = nodes.indices.map { index in
      let release = Set(ids[index].0).filter { lastReader[$0] == index && !pinned.contains($0) && initial[$0] == nil }
      return Step(node: nodes[index], inputs: ids[index].0, output: ids[index].1, release: Array(release))
    }
    initialSlots = initial
    self.inputSlots = inputSlots
    outputSlots = Dictionary(uniqueKeysWithValues: requested.map { ($0, slot($0)) })
    batchSeparable = nodes.allSatisfy { Plan.isPerImage($0, constants: graph.constants) }
    slotsByName = slots
    if case .gradients(let watched) = fusion {
      (downstream, kept) = Plan.backwardSlots(
        steps, watched: Set(watched.compactMap { slots[$0] }), requested: pinned, count: initial.count)
    } else {
      (downstream, kept) = ([Bool](repeating: false, count: initial.count), [])
    }
    channelLast = fusion == .none ? nil : ChannelLastProgram(steps, pinned: pinned.union(kept), constants: initial)
  }

  /// The slots a gradient can flow through (the watched ones and every value computed from them), and the slots a
  /// tape keeps for its backward pass: those, every operand of a step they feed, and the requested ones.
  static func backwardSlots(_ steps: [Step], watched: Set<Int>, requested: Set<Int>, count: Int)
    -> (downstream: [Bool], kept: Set<Int>)
  {
    var downstream = (0..<count).map { watched.contains($0) }
    var kept = watched.union(requested)
    for step in steps where step.inputs.contains(where: { downstream[$0] }) {
      downstream[step.output] = true
      kept.formUnion(step.inputs + [step.output])
    }
    return (downstream, kept)
  }

  /// The nodes some requested value depends on, in their original order.
  private static func needed(_ nodes: [Node], for requested: [String]) -> [Node] {
    let byOutput = Dictionary(nodes.enumerated().map { ($1.output, $0) }, uniquingKeysWith: { a, _ in a })
    var keep = Set<Int>()
    var stack = requested.compactMap { byOutput[$0] }
    while let index = stack.popLast() {
      guard keep.insert(index).inserted else { continue }
      stack += nodes[index].inputs.compactMap { byOutput[$0] }
    }
    return nodes.indices.filter(keep.contains).map { nodes[$0] }
  }

  /// Folds BatchNormalization and Relu/Clip into the Conv before them.
  static func fused(_ nodes: [Node], keeping requested: Set<String>) -> [Node] {
    merged(nodes, keeping: requested) { producer, reader in
      guard case .conv(var spec) = producer.op, fold(reader.op, into: &spec) else { return nil }
      var combined = producer
      combined.op = .conv(spec)
      return combined
    }
  }

  /// Pairs a pointwise Conv with the depthwise Conv that reads its output.
  private static func pairedExpandDepthwise(_ nodes: [Node], keeping requested: Set<String>) -> [Node] {
    merged(nodes, keeping: requested) { producer, reader in
      guard case .conv(let expand) = producer.op, expand.isPointwise, case .conv(let depthwise) = reader.op,
        depthwise.isDepthwise
      else { return nil }
      var combined = producer
      combined.op = .expandDepthwise(expand: expand, depthwise: depthwise)
      combined.name += "+" + reader.name
      combined.opType = "Conv+Conv"
      return combined
    }
  }

  /// Replaces a node and the reader of its output by `merge(node, reader)` wherever the reader is the only one,
  /// takes the output as its first input, the output was not requested and `merge` returns a node.
  private static func merged(
    _ nodes: [Node], keeping requested: Set<String>, _ merge: (_ producer: Node, _ reader: Node) -> Node?
  ) -> [Node] {
    var readers: [String: Int] = [:]
    for node in nodes { for input in node.inputs { readers[input, default: 0] += 1 } }
    var result: [Node] = []
    var producedAt: [String: Int] = [:]
    for node in nodes {
      if let input = node.inputs.first, let at = producedAt[input], readers[input] == 1, !requested.contains(input),
        var combined = merge(result[at], node)
      {
        combined.output = node.output
        result[at] = combined
        producedAt[node.output] = at
        continue
      }
      producedAt[node.output] = result.count
      result.append(node)
    }
    return result
  }

  /// Merges a BatchNormalization (only before any activation) or an activation into a Conv.
  private static func fold(_ op: Operation, into spec: inout ConvSpec) -> Bool {
    switch op {
    case .activation(let activation):
      spec.activation = spec.activation.then(activation)
      return true
    case .batchNorm(let scale, let shift) where spec.activation == .none && scale.count == spec.outChannels:
      let perChannel = spec.weight.count / spec.outChannels
      for m in 0..<spec.outChannels {
        for i in (m * perChannel)..<((m + 1) * perChannel) { spec.weight.data[i] *= scale[m] }
        spec.bias[m] = spec.bias[m] * scale[m] + shift[m]
      }
      return true
    default:
      return false
    }
  }

  /// Whether a node computes each image of the batch (axis 0) from that image alone.
  private static func isPerImage(_ node: Node, constants: Constants) -> Bool {
    let constantOperands = node.inputs.compactMap { constants.floats[$0] }
    switch node.op {
    case .concat(let axis): return axis != 0
    case .flatten(let axis): return axis != 0
    case .reshape(let shape, let allowZero): return shape.first == -1 || (shape.first == 0 && !allowZero)
    case .gemm(_, _, let transA, _):
      // A must be the activation (not transposed) and B, C constants with no per-row terms.
      return !transA && constants.floats[node.inputs[0]] == nil
        && node.inputs.dropFirst().allSatisfy { constants.floats[$0] != nil }
        && (node.inputs.count < 3 || (constants.floats[node.inputs[2]]?.shape.count ?? 0) < 2
          || constants.floats[node.inputs[2]]?.shape.first == 1)
    case .matMul:
      return constants.floats[node.inputs[0]] == nil && (constants.floats[node.inputs[1]]?.shape.count ?? 3) <= 2
    case .add, .sub, .mul, .div:
      // Two activations, or a constant that cannot reach the batch axis: a scalar, a vector, a leading axis
      // of 1, or the per-channel `[C, 1, 1]` of NCHW activations.
      return constantOperands.count < node.inputs.count
        && constantOperands.allSatisfy { c in
          c.shape.count <= 1 || c.shape.first == 1 || (c.shape.count == 3 && c.shape[1] == 1 && c.shape[2] == 1)
        }
    default: return true
    }
  }
}
