/// Turns ONNX NodeProtos into executable `Node`s, resolving constant operands from the initializers.
struct OperatorParser {
  /// Operator types (default ONNX domain) this engine runs.
  static let supported: Set<String> = [
    "Conv", "BatchNormalization", "Relu", "Clip", "Sigmoid", "Add", "Sub", "Mul", "Div", "Concat", "MaxPool",
    "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Gemm", "MatMul", "Identity", "Dropout", "Constant",
  ]

  let file: String
  let opset: Int64
  let constants: Constants

  func parse(_ proto: NodeProto) throws -> Node {
    let name = proto.name.isEmpty ? (proto.outputs.first ?? "?") : proto.name
    guard proto.domain.isEmpty || proto.domain == "ai.onnx", Self.supported.contains(proto.opType) else {
      let op = proto.domain.isEmpty ? proto.opType : "\(proto.domain).\(proto.opType)"
      throw NeuralNetError.unsupportedOperator(file: file, op: op, node: name)
    }
    guard let output = proto.outputs.first, !output.isEmpty else {
      throw NeuralNetError.invalidNode(node: name, op: proto.opType, message: "has no output")
    }
    let node = NodeContext(proto: proto, name: name, constants: constants)
    let data = Array(proto.inputs.prefix(1))
    func make(_ op: Operation, _ inputs: [String]) -> Node {
      Node(name: name, opType: proto.opType, op: op, inputs: inputs, output: output)
    }
    switch proto.opType {
    case "Conv": return make(.conv(try node.convSpec()), data)
    case "BatchNormalization": return make(try node.batchNorm(), data)
    case "Relu": return make(.activation(.relu), data)
    case "Clip": return make(.activation(try node.clip(opset: opset)), data)
    case "Sigmoid": return make(.sigmoid, data)
    case "Add": return make(.add, try node.inputs(2))
    case "Sub": return make(.sub, try node.inputs(2))
    case "Mul": return make(.mul, try node.inputs(2))
    case "Div": return make(.div, try node.inputs(2))
    case "Concat": return make(.concat(axis: try node.requiredInt("axis")), proto.inputs.filter { !$0.isEmpty })
    case "MaxPool":
      guard proto.outputs.count < 2 || proto.outputs[1].isEmpty else {
        throw node.error("the Indices output is not supported; export MaxPool with one output")
      }
      return make(.maxPool(try node.window()), data)
    case "AveragePool":
      let include = node.int("count_include_pad", default: 0) != 0
      return make(.averagePool(try node.window(), countIncludePad: include), data)
    case "GlobalAveragePool": return make(.globalAveragePool, data)
    case "Flatten": return make(.flatten(axis: node.int("axis", default: 1)), data)
    case "Reshape":
      let shape = try node.constantInts(at: 1, what: "shape")
      return make(.reshape(shape: shape, allowZero: node.int("allowzero", default: 0) != 0), data)
    case "Gemm":
      let op = Operation.gemm(
        alpha: node.float("alpha", default: 1), beta: node.float("beta", default: 1),
        transA: node.int("transA", default: 0) != 0, transB: node.int("transB", default: 0) != 0)
      return make(op, proto.inputs.filter { !$0.isEmpty })
    case "MatMul": return make(.matMul, try node.inputs(2))
    default: return make(.identity, data)  // Identity, Dropout (inference), Constant (handled by the loader)
    }
  }
}

/// One node's attributes and operands, with the lookups the parser needs.
struct NodeContext {
  let proto: NodeProto
  let name: String
  let constants: Constants

  func error(_ message: String) -> NeuralNetError {
    .invalidNode(node: name, op: proto.opType, message: message)
  }

  func int(_ key: String, default value: Int) -> Int { proto.attributes[key]?.i.map(Int.init) ?? value }
  func float(_ key: String, default value: Float) -> Float { proto.attributes[key]?.f ?? value }
  func ints(_ key: String) -> [Int]? { proto.attributes[key].map { $0.ints.map(Int.init) } }

  func requiredInt(_ key: String) throws -> Int {
    guard let value = proto.attributes[key]?.i else { throw error("attribute '\(key)' is required") }
    return Int(value)
  }

  func inputs(_ count: Int) throws -> [String] {
    guard proto.inputs.count >= count, proto.inputs.prefix(count).allSatisfy({ !$0.isEmpty }) else {
      throw error("needs \(count) inputs, has \(proto.inputs.count)")
    }
    return Array(proto.inputs.prefix(count))
  }

  /// The float initializer at input `index`, or nil when the input is absent (empty name or past the end).
  func constant(at index: Int, what: String) throws -> Tensor? {
    guard index < proto.inputs.count, !proto.inputs[index].isEmpty else { return nil }
    guard let tensor = constants.floats[proto.inputs[index]] else {
      throw error(
        "\(what) '\(proto.inputs[index])' must be an initializer (a constant); computed \(what)s are not supported")
    }
    return tensor
  }

  func constantInts(at index: Int, what: String) throws -> [Int] {
    guard index < proto.inputs.count, let ints = constants.ints[proto.inputs[index]] else {
      throw error("\(what) must be an int64 initializer")
    }
    return ints
  }

  func window(weightShape weight: [Int]? = nil) throws -> Window {
    let kernel = ints("kernel_shape") ?? weight.map { Array($0.suffix(2)) }
    guard let kernel, kernel.count == 2 else {
      throw error("only 2-D kernels are supported (kernel_shape of two values)")
    }
    var window = Window(kernel: (kernel[0], kernel[1]))
    if let s = ints("strides") {
      guard s.count == 2 else { throw error("strides must have two values") }
      window.strides = (s[0], s[1])
    }
    if let d = ints("dilations") {
      guard d.count == 2 else { throw error("dilations must have two values") }
      window.dilations = (d[0], d[1])
    }
    if let p = ints("pads") {
      guard p.count == 4, p.allSatisfy({ $0 >= 0 }) else { throw error("pads must be four non-negative values") }
      window.pads = p
    }
    window.autoPad = proto.attributes["auto_pad"]?.s ?? "NOTSET"
    guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(window.autoPad) else {
      throw error("unknown auto_pad '\(window.autoPad)'")
    }
    window.ceilMode = int("ceil_mode", default: 0) != 0
    guard
      [kernel[0], kernel[1], window.strides.h, window.strides.w, window.dilations.h, window.dilations.w]
        .allSatisfy({ $0 > 0 })
    else { throw error("kernel, strides and dilations must be positive") }
    return window
  }

  func convSpec() throws -> ConvSpec {
    guard let weight = try constant(at: 1, what: "weight") else { throw error("needs a weight input") }
    guard weight.shape.count == 4 else {
      throw error("only 2-D convolution is supported (weight \(describe(shape: weight.shape)))")
    }
    let group = int("group", default: 1)
    let m = weight.shape[0]
    guard group > 0, m % group == 0 else { throw error("group \(group) does not divide \(m) output channels") }
    var bias = [Float](repeating: 0, count: m)
    if let b = try constant(at: 2, what: "bias") {
      guard b.count == m else { throw error("bias has \(b.count) values for \(m) output channels") }
      bias = b.data
    }
    let window = try self.window(weightShape: weight.shape)
    guard window.kernel == (weight.shape[2], weight.shape[3]) else {
      throw error("kernel_shape \(window.kernel) disagrees with weight \(describe(shape: weight.shape))")
    }
    return ConvSpec(weight: weight, bias: bias, group: group, window: window)
  }

  func batchNorm() throws -> Operation {
    let parts = try (1...4).map { index -> [Float] in
      guard let t = try constant(at: index, what: ["", "scale", "B", "mean", "var"][index]) else {
        throw error("needs scale, B, mean and var inputs")
      }
      return t.data
    }
    let (gamma, beta, mean, variance) = (parts[0], parts[1], parts[2], parts[3])
    guard Set(parts.map(\.count)).count == 1 else { throw error("scale, B, mean and var differ in length") }
    let epsilon = float("epsilon", default: 1e-5)
    // Computed in Double so folding into a Conv loses no more precision than ONNX Runtime's own fusion.
    let scale = (0..<gamma.count).map {
      Float(Double(gamma[$0]) / (Double(variance[$0]) + Double(epsilon)).squareRoot())
    }
    let shift = (0..<gamma.count).map { Float(Double(beta[$0]) - Double(mean[$0]) * Double(scale[$0])) }
    return .batchNorm(scale: scale, shift: shift)
  }

  /// Opset 11 and later pass min/max as optional inputs; older opsets as attributes.
  func clip(opset: Int64) throws -> Activation {
    if opset < 11 {
      return Activation(lower: float("min", default: -.infinity), upper: float("max", default: .infinity))
    }
    func bound(_ index: Int, _ what: String, _ absent: Float) throws -> Float {
      guard let t = try constant(at: index, what: what) else { return absent }
      guard t.count == 1 else { throw error("\(what) must be a scalar") }
      return t.data[0]
    }
    return Activation(lower: try bound(1, "min", -.infinity), upper: try bound(2, "max", .infinity))
  }
}
