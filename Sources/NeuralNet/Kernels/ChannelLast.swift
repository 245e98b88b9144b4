import CNeuralKernels

/// The forward pass's channel-last (NHWC) kernels: a 4-D activation is stored `[N, H, W, C]`, so that a 1x1
/// convolution is a product of the image's rows of channels with the weights, a depthwise convolution reads and
/// writes 16 adjacent channels at a time, and neither needs a transpose. Convolutions run through `cf_pointwise`,
/// whose bias, clamp and residual are applied in registers (no separate passes over the output, no copies of the
/// inputs, weights packed once per plan), and whose every row is computed alike wherever it falls in the batch.
///
/// Steps without a channel-last kernel run the NCHW kernels on converted operands (`Plan.runForward`); a value
/// whose plane is 1 x 1 is the same bytes in both layouts.
enum ChannelLastStep {
  /// A 1x1, stride-1, unpadded, ungrouped Conv: `cf_pointwise` on the rows of all images at once.
  case pointwise(ConvSpec, packed: [Float])
  /// Any other ungrouped Conv: `cf_conv_taps` on a zero-bordered copy of each image, the weights reordered to the
  /// order it reads the window in (`[kh][kw][C]`).
  case dense(ConvSpec, packed: [Float])
  case depthwise(ConvSpec, packed: [Float])
  /// An expand (1x1) + depthwise pair, a block of expanded channels at a time (see `expandDepthwiseChannelLast`).
  case expandDepthwise(expand: ConvSpec, packed: [Float], depthwise: ConvSpec, depthwisePacked: [Float])
  /// A pointwise Conv without activation whose output only goes to an Add with `residual`: the sum is made in the
  /// Conv's registers.
  case pointwiseAdd(ConvSpec, packed: [Float], residual: Int)
  /// Same-shaped elementwise operations (activations, Add, Mul ...), which do not care about layout.
  case elementwise
  case globalAveragePool

  /// The channel-last form of `op`, or nil when it has none.
  init?(_ op: Operation) {
    switch op {
    case .conv(let spec) where spec.isDepthwise: self = .depthwise(spec, packed: packDepthwise(spec))
    case .conv(let spec) where spec.isPointwise: self = .pointwise(spec, packed: pack(spec.weight.data, spec))
    case .conv(let spec) where spec.group == 1: self = .dense(spec, packed: pack(channelLastWeights(spec), spec))
    case .expandDepthwise(let expand, let depthwise):
      self = .expandDepthwise(
        expand: expand, packed: pack(expand.weight.data, expand), depthwise: depthwise,
        depthwisePacked: packDepthwise(depthwise))
    case .activation, .sigmoid, .identity, .add, .sub, .mul, .div: self = .elementwise
    case .globalAveragePool: self = .globalAveragePool
    default: return nil
    }
  }
}

/// A 4-D activation and its layout.
struct Activations {
  var tensor: Tensor
  /// `[N, H, W, C]` when true, `[N, C, H, W]` when false.
  var channelLast: Bool

  /// The values as NCHW (converted if need be).
  var channelFirst: Tensor {
    guard channelLast else { return tensor }
    let (n, h, w, c) = (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
    return Tensor(shape: [n, c, h, w], uninitialized: { out in
      transposePlanes(tensor.data, images: n, rows: h * w, columns: c, into: out)
    })
  }

  /// The values as NHWC; nil unless 4-D.
  var asChannelLast: Tensor? {
    if channelLast { return tensor }
    guard tensor.shape.count == 4 else { return nil }
    let (n, c, h, w) = (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
    if h * w == 1 { return Tensor(shape: [n, h, w, c], data: tensor.data) }
    return Tensor(shape: [n, h, w, c], uninitialized: { out in
      transposePlanes(tensor.data, images: n, rows: c, columns: h * w, into: out)
    })
  }
}

/// The channel-last steps of a plan's forward pass.
struct ChannelLastProgram {
  /// Each step's channel-last form, or nil.
  let steps: [ChannelLastStep?]
  /// Add steps whose sum a `pointwiseAdd` step before them makes: Add step -> Conv step.
  let absorbed: [Int: Int]

  /// Pairs every pointwise Conv without activation whose output is read only by an Add, and not requested, with
  /// that Add, when the Add's other operand is computed before the Conv (a residual connection).
  init(_ steps: [Plan.Step], pinned: Set<Int>, constants: [Tensor?]) {
    var program = steps.map { ChannelLastStep($0.node.op) }
    var producer: [Int: Int] = [:]
    var readers: [Int: Int] = [:]
    for (index, step) in steps.enumerated() {
      producer[step.output] = index
      for input in step.inputs { readers[input, default: 0] += 1 }
    }
    var absorbed: [Int: Int] = [:]
    for (j, step) in steps.enumerated() {
      guard case .add = step.node.op, step.inputs.count == 2, step.inputs[0] != step.inputs[1] else { continue }
      for (which, input) in step.inputs.enumerated() {
        let other = step.inputs[1 - which]
        guard let i = producer[input], case .pointwise(let spec, let packed)? = program[i], spec.activation == .none,
          readers[input] == 1, !pinned.contains(input), constants[other] == nil, (producer[other] ?? -1) < i
        else { continue }
        program[i] = .pointwiseAdd(spec, packed: packed, residual: other)
        absorbed[j] = i
        break
      }
    }
    self.steps = program
    self.absorbed = absorbed
  }
}

extension Plan {
  /// Runs the steps on `inputs` (NCHW, by slot): channel-last where a step has such a kernel, NCHW elsewhere, every
  /// value converted at most once per layout. Returns every slot's value at the end: nil where a step released it,
  /// unless `retained` holds it (a tape's kept values). Float32 plans only (`channelLast` not nil).
  func runForward(_ inputs: [Int: Tensor], retaining retained: Set<Int> = []) throws -> [Activations?] {
    let program = channelLast!
    var slots = initialSlots.map { $0.map { Activations(tensor: $0, channelLast: false) } }
    for (slot, tensor) in inputs { slots[slot] = Activations(tensor: tensor, channelLast: false) }
    var fusedAdds = Set<Int>()
    for (index, step) in steps.enumerated() {
      if let conv = program.absorbed[index], fusedAdds.contains(conv) {
        slots[step.output] = slots[steps[conv].output]
      } else {
        let operands = step.inputs.map { slots[$0]! }
        var result: Activations?
        if let kernel = program.steps[index] {
          var residual: Activations?
          if case .pointwiseAdd(_, _, let slot) = kernel { residual = slots[slot] }
          result = try step.attributing { try runChannelLast(kernel, step.node.op, operands, residual: residual) }
          if result != nil, case .pointwiseAdd = kernel { fusedAdds.insert(index) }
        }
        if result == nil {
          for (input, operand) in zip(step.inputs, operands) where operand.channelLast {
            slots[input] = Activations(tensor: operand.channelFirst, channelLast: false)
          }
          let tensors = step.inputs.map { slots[$0]!.tensor }
          result = Activations(tensor: try step.attributing { try apply(step.node.op, tensors) }, channelLast: false)
        }
        slots[step.output] = result
      }
      for slot in step.release where !retained.contains(slot) { slots[slot] = nil }
    }
    return slots
  }
}

/// Runs `step` on `operands` (`residual` is the slot a `pointwiseAdd` adds); nil when they are not of a form it
/// takes (the caller then runs the NCHW kernel).
func runChannelLast(_ step: ChannelLastStep, _ op: Operation, _ operands: [Activations], residual: Activations?)
  throws -> Activations?
{
  switch step {
  case .elementwise:
    guard operands.allSatisfy(\.channelLast), operands.allSatisfy({ $0.tensor.shape == operands[0].tensor.shape })
    else { return nil }
    return Activations(tensor: try apply(op, operands.map(\.tensor)), channelLast: true)
  case .globalAveragePool:
    guard operands[0].channelLast else { return nil }
    return Activations(tensor: poolChannelLast(operands[0].tensor), channelLast: false)
  case .pointwise(let spec, let packed):
    guard let x = operands[0].asChannelLast else { return nil }
    return Activations(tensor: try pointwiseChannelLast(x, spec, packed, residual: nil), channelLast: true)
  case .pointwiseAdd(let spec, let packed, _):
    guard let x = operands[0].asChannelLast, let r = residual, r.channelLast else { return nil }
    return Activations(tensor: try pointwiseChannelLast(x, spec, packed, residual: r.tensor), channelLast: true)
  case .dense(let spec, let packed):
    guard operands[0].tensor.shape.count == 4 else { return nil }
    return Activations(tensor: try denseChannelLast(operands[0], spec, packed), channelLast: true)
  case .depthwise(let spec, let packed):
    guard let x = operands[0].asChannelLast else { return nil }
    return Activations(tensor: try depthwiseChannelLast(x, spec, packed), channelLast: true)
  case .expandDepthwise(let expand, let packed, let spec, let depthwisePacked):
    guard let x = operands[0].asChannelLast else { return nil }
    return Activations(
      tensor: try expandDepthwiseChannelLast(x, expand, packed, spec, depthwisePacked), channelLast: true)
  }
}

/// Weights `[M, C, kh, kw]` reordered `[M, kh, kw, C]`, the order `cf_conv_taps` reads each window in
/// (`denseChannelLast`).
private func channelLastWeights(_ spec: ConvSpec) -> [Float] {
  let (m, c, kh, kw) = (spec.weight.shape[0], spec.weight.shape[1], spec.weight.shape[2], spec.weight.shape[3])
  var out = [Float](repeating: 0, count: spec.weight.count)
  for o in 0..<m {
    for ch in 0..<c {
      for t in 0..<(kh * kw) { out[(o * kh * kw + t) * c + ch] = spec.weight.data[(o * c + ch) * kh * kw + t] }
    }
  }
  return out
}

/// `op` (a depthwise Conv or an expand+depthwise pair) on an NCHW tensor through its channel-last kernel, the
/// weights packed for this call: for the rare NCHW step (`apply`), not for a forward pass.
func throughChannelLast(_ op: Operation, _ x: Tensor) throws -> Tensor {
  guard let step = ChannelLastStep(op),
    let result = try runChannelLast(step, op, [Activations(tensor: x, channelLast: false)], residual: nil)
  else { throw ShapeError("expects a 4-D NCHW input, received \(describe(shape: x.shape))") }
  return result.channelFirst
}

/// A depthwise Conv's weights in `cf_depthwise_nhwc`'s tiles.
private func packDepthwise(_ spec: ConvSpec) -> [Float] {
  let (c, taps) = (spec.outChannels, spec.weight.count / spec.outChannels)
  return [Float](unsafeUninitializedCapacity: cf_depthwise_packed_size(Int32(c), Int32(taps))) { buffer, count in
    spec.weight.data.withUnsafeBufferPointer { cf_depthwise_pack($0.baseAddress!, Int32(c), Int32(taps), buffer.baseAddress!) }
    count = buffer.count
  }
}

/// `weights` (`[M][K]`) in `cf_pointwise`'s panels.
private func pack(_ weights: [Float], _ spec: ConvSpec) -> [Float] {
  let (m, k) = (spec.outChannels, spec.weight.count / spec.outChannels)
  return [Float](unsafeUninitializedCapacity: cf_pointwise_packed_size(Int32(k), Int32(m))) { buffer, count in
    weights.withUnsafeBufferPointer { cf_pointwise_pack($0.baseAddress!, Int32(k), Int32(m), buffer.baseAddress!) }
    count = buffer.count
  }
}

/// `[images][rows][columns]` to `[images][columns][rows]`.
private func transposePlanes(_ x: [Float], images: Int, rows: Int, columns: Int, into y: UnsafeMutableBufferPointer<Float>) {
  x.withUnsafeBufferPointer { x in
    for image in 0..<images {
      let offset = image * rows * columns
      cf_transpose(x.baseAddress! + offset, rows, columns, y.baseAddress! + offset)
    }
  }
}
