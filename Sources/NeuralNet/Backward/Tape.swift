/// A forward pass of a `Network` that kept every value its backward pass needs, in float32 or float64: reverse-mode
/// gradients of the recorded outputs with respect to the watched values (graph inputs or intermediate values, by
/// their ONNX names).
///
/// Float32 tapes run the forward pass of `Network.run` (channel-last kernels, BatchNormalization and activations
/// folded into the Conv before them where that hides no watched value; upstream of every watched value exactly as
/// `Network.run`, values freed after their last reader), then keep NCHW copies of the values the backward pass reads:
/// GradCAM at a late layer costs under 3 forward passes (`bench_supervised.py`). Float64 tapes evaluate the graph as
/// the file has it, NCHW, for checks against finite differences. Values from the first watched one on are kept, so
/// memory grows with the batch: record a few images at a time. A tape is read-only once recorded and can be asked
/// for any number of gradients.
public final class Tape<Scalar: NetworkScalar> {
  /// The number of images recorded.
  public let batch: Int
  let plan: Plan
  let file: String
  private let slots: [TensorOf<Scalar>?]
  /// Slots whose gradient can reach a watched value: the watched slots and everything computed from them.
  private let downstream: [Bool]

  /// `edit` may change each value as it is computed (the gradient checks' perturbations); it makes a float32 tape take
  /// the NCHW kernels, as a float64 one does.
  init(
    network: Network, feeds: [String: TensorOf<Scalar>], outputs: [String], watching: [String],
    edit: ((String, inout TensorOf<Scalar>) -> Void)? = nil
  ) throws {
    let graph = network.graph
    let watchedNames = Set(watching)
    let fusion: Plan.Fusion = Scalar.self == Float.self ? .gradients(watched: watchedNames) : .none
    let plan = try network.plan(for: Array(watchedNames.union(outputs)).sorted(), fusion: fusion)
    self.plan = plan
    file = graph.file
    batch = feeds.values.first?.shape.first ?? 0
    if Scalar.self == Float.self, edit == nil {
      // The forward pass's kernels, channel-last where they can be; the kept values then as NCHW for the backward
      // pass, each converted once.
      downstream = plan.downstream
      let inputs = Dictionary(
        uniqueKeysWithValues: plan.inputSlots.compactMap { name, slot in feeds[name].map { (slot, Tensor($0)) } })
      slots = try plan.runForward(inputs, retaining: plan.kept).map {
        $0.map { TensorOf<Float>($0.channelFirst) as! TensorOf<Scalar> }
      }
      return
    }
    // Float64 (the graph as the file has it) or edited, NCHW. Kept: what the backward pass reads (operands and output of every
    // step a gradient goes through) and the requested values; everything upstream of the watched values is freed
    // after its last reader, as in `run`.
    let (downstream, kept) = Plan.backwardSlots(
      plan.steps, watched: Set(watchedNames.compactMap { plan.slotsByName[$0] }),
      requested: Set(outputs.compactMap { plan.slotsByName[$0] }), count: plan.initialSlots.count)
    self.downstream = downstream
    var slots = plan.initialSlots.map { $0.map { TensorOf<Scalar>($0) } }
    for (name, slot) in plan.inputSlots {
      slots[slot] = feeds[name]
      edit?(name, &slots[slot]!)
    }
    for step in plan.steps {
      let operands = step.inputs.map { slots[$0]! }
      slots[step.output] = try step.attributing { try apply(step.node.op, operands) }
      edit?(step.node.output, &slots[step.output]!)
      for slot in step.release where !kept.contains(slot) { slots[slot] = nil }
    }
    self.slots = slots
  }

  /// The recorded value `name` (an input, a node output kept by the plan, or an initializer).
  public func value(_ name: String) throws -> TensorOf<Scalar> {
    guard let slot = plan.slotsByName[name], let value = slots[slot] else {
      throw NeuralNetError.unknownValue(
        name: name, message: "was not recorded from \(file): pass it in `watching:` when recording the tape")
    }
    return value
  }

  /// The gradient of column `column` of output `output` (its flat index within each image's row, e.g. class K of
  /// `logits [N, K]`), summed over the batch or, with `sample`, of that one image only, with respect to each of
  /// `names`. Gradients have the shape of the value they are taken with respect to.
  ///
  /// For a graph that treats the images of a batch independently (every shipped model), image n's slice of the
  /// summed gradient is the gradient of image n's own output.
  public func gradients(of output: String, column: Int, sample: Int? = nil, withRespectTo names: [String]) throws
    -> [String: TensorOf<Scalar>]
  {
    let y = try value(output)
    let row = y.shape.first.map { $0 > 0 ? y.count / $0 : 0 } ?? y.count
    guard column >= 0 && column < row else {
      throw NeuralNetError.unknownValue(
        name: output,
        message: "has \(row) columns per image (shape \(describe(shape: y.shape))); column \(column) is outside")
    }
    if let sample, !(0..<batch).contains(sample) {
      throw NeuralNetError.unknownValue(name: output, message: "sample \(sample) is outside the batch of \(batch)")
    }
    var seed = TensorOf<Scalar>(shape: y.shape)
    for n in 0..<max(1, y.count / max(row, 1)) where sample == nil || sample == n { seed.data[n * row + column] = 1 }
    return try gradients(seeds: [output: seed], withRespectTo: names)
  }

  /// The vector-Jacobian product: the gradient of `sum over outputs of <seed, output>` with respect to each of
  /// `names`. Each seed has its output's shape.
  public func gradients(seeds: [String: TensorOf<Scalar>], withRespectTo names: [String]) throws
    -> [String: TensorOf<Scalar>]
  {
    try backward(seeds: seeds, withRespectTo: names, parametersOf: []).values
  }

  /// The gradient of `sum over outputs of <seed, output>` with respect to the parameters of the named Conv, Gemm
  /// and MatMul nodes (by node name): the weight, and the bias when the node has one. A node's input must be
  /// watched (or computed from a watched value) so that the tape kept what its gradient needs. In float32 a
  /// BatchNormalization folded into a Conv is part of that Conv's weight; record in float64 for the file's own.
  public func parameterGradients(seeds: [String: TensorOf<Scalar>], layers: [String]) throws
    -> [String: (weight: TensorOf<Scalar>, bias: TensorOf<Scalar>?)]
  {
    for layer in layers {
      guard let step = plan.steps.first(where: { $0.node.name == layer }),
        step.inputs.contains(where: { downstream[$0] })
      else {
        throw NeuralNetError.unknownValue(
          name: layer, message: "is not a node of \(file) whose input was recorded: watch its input when recording")
      }
    }
    return try backward(seeds: seeds, withRespectTo: [], parametersOf: Set(layers)).parameters
  }

  private func backward(
    seeds: [String: TensorOf<Scalar>], withRespectTo names: [String], parametersOf layers: Set<String>
  )
    throws -> (
      values: [String: TensorOf<Scalar>], parameters: [String: (weight: TensorOf<Scalar>, bias: TensorOf<Scalar>?)]
    )
  {
    var parameters: [String: (weight: TensorOf<Scalar>, bias: TensorOf<Scalar>?)] = [:]
    var targets: [String: Int] = [:]
    for name in names {
      guard let slot = plan.slotsByName[name], slots[slot] != nil, downstream[slot] else {
        throw NeuralNetError.unknownValue(
          name: name, message: "was not recorded from \(file): pass it in `watching:` when recording the tape")
      }
      targets[name] = slot
    }
    var grads = [TensorOf<Scalar>?](repeating: nil, count: slots.count)
    for (name, seed) in seeds {
      let y = try value(name)
      guard seed.shape == y.shape else {
        throw NeuralNetError.unknownValue(
          name: name,
          message: "seed of shape \(describe(shape: seed.shape)) for a value of shape \(describe(shape: y.shape))")
      }
      let slot = plan.slotsByName[name]!
      grads[slot] = accumulate(grads[slot], seed)
    }
    let kept = Set(targets.values)
    let inputSlots = Set(plan.inputSlots.values)
    for step in plan.steps.reversed() {
      guard downstream[step.output], let dy = grads[step.output] else { continue }
      // A graph input's gradient is computed only when asked for (training asks for parameters alone).
      let wanted = step.inputs.map {
        downstream[$0] && plan.initialSlots[$0] == nil && (!inputSlots.contains($0) || kept.contains($0))
      }
      let isLayer = layers.contains(step.node.name) && step.inputs.contains { downstream[$0] }
      guard isLayer || wanted.contains(true) else { continue }
      let operands = step.inputs.map { slots[$0]! }
      if isLayer {
        parameters[step.node.name] = try step.attributing {
          try layerParameterGradients(step.node.op, x: operands, y: slots[step.output]!, dy: dy)
        }
      }
      guard wanted.contains(true) else { continue }
      let dx = try step.attributing {
        try vectorJacobian(step.node.op, x: operands, y: slots[step.output]!, dy: dy, wanted: wanted)
      }
      for (slot, gradient) in zip(step.inputs, dx) where gradient != nil {
        grads[slot] = accumulate(grads[slot], gradient!)
      }
      if !kept.contains(step.output) { grads[step.output] = nil }
    }
    return (targets.mapValues { grads[$0] ?? TensorOf(shape: slots[$0]!.shape) }, parameters)
  }

  private func accumulate(_ sum: TensorOf<Scalar>?, _ term: TensorOf<Scalar>) -> TensorOf<Scalar> {
    guard var sum else { return term }
    for i in sum.data.indices { sum.data[i] += term.data[i] }
    return sum
  }
}

extension Network {
  /// Runs a single-input model on `input`, recording a `Tape` from which gradients of `outputs` with respect to the
  /// `watching` values (the input's name for input gradients) can be taken. Precision follows the input:
  /// `TensorOf<Float>` runs float32, `TensorOf<Double>` float64.
  public func record<Scalar: NetworkScalar>(
    _ input: TensorOf<Scalar>, outputs: [String], watching: [String] = [], anySpatialSize: Bool = false
  ) throws -> Tape<Scalar> {
    guard inputs.count == 1 else {
      throw NeuralNetError.unknownValue(
        name: inputs.map(\.name).joined(separator: ","),
        message: "the model has \(inputs.count) inputs: feed them by name")
    }
    return try record([inputs[0].name: input], outputs: outputs, watching: watching, anySpatialSize: anySpatialSize)
  }

  /// Records a tape from named inputs (every graph input, sharing one batch size).
  public func record<Scalar: NetworkScalar>(
    _ feeds: [String: TensorOf<Scalar>], outputs: [String], watching: [String] = [], anySpatialSize: Bool = false
  ) throws -> Tape<Scalar> {
    try checkFeeds(feeds.mapValues(\.shape), anySpatialSize: anySpatialSize)
    return try Tape(network: self, feeds: feeds, outputs: outputs, watching: watching)
  }
}
