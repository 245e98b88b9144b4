/// A clamp applied to a result as it is written: ReLU is `[0, +inf)`, ReLU6 is `[0, 6]`, none is all reals.
struct Activation: Equatable {
  var lower: Float
  var upper: Float

  static let none = Activation(lower: -.infinity, upper: .infinity)
  static let relu = Activation(lower: 0, upper: .infinity)

  /// The clamp of applying `self` and then `next`.
  func then(_ next: Activation) -> Activation {
    Activation(lower: min(max(lower, next.lower), next.upper), upper: max(min(upper, next.upper), next.lower))
  }
}

/// The 2-D window geometry shared by Conv and the pools. Pads are ONNX order `[top, left, bottom, right]`.
struct Window: Equatable {
  var kernel: (h: Int, w: Int)
  var strides: (h: Int, w: Int) = (1, 1)
  var dilations: (h: Int, w: Int) = (1, 1)
  var pads: [Int] = [0, 0, 0, 0]
  /// NOTSET, VALID, SAME_UPPER or SAME_LOWER; pads are computed per input size for the SAME modes.
  var autoPad = "NOTSET"
  var ceilMode = false

  static func == (a: Window, b: Window) -> Bool {
    a.kernel == b.kernel && a.strides == b.strides && a.dilations == b.dilations && a.pads == b.pads
      && a.autoPad == b.autoPad && a.ceilMode == b.ceilMode
  }
}

/// A convolution with its constant weights `[M, C/group, kh, kw]`, bias `[M]` and a fused activation.
struct ConvSpec {
  var weight: Tensor
  var bias: [Float]
  var group: Int
  var window: Window
  var activation = Activation.none

  var outChannels: Int { weight.shape[0] }
  var inChannels: Int { weight.shape[1] * group }

  /// One input channel per group and as many outputs as inputs.
  var isDepthwise: Bool { weight.shape[1] == 1 && group == outChannels }

  /// A 1x1, stride-1, unpadded, ungrouped convolution: a matrix product over the channels.
  var isPointwise: Bool {
    window.kernel == (1, 1) && window.strides == (1, 1) && window.pads.allSatisfy { $0 == 0 } && group == 1
      && window.autoPad != "SAME_LOWER" && window.autoPad != "SAME_UPPER"
  }
}

/// What a node computes, with its constant operands resolved at load time.
enum Operation {
  case conv(ConvSpec)
  /// A 1x1 convolution whose only reader is a depthwise convolution, run block by block (see
  /// `expandDepthwiseChannelLast`).
  case expandDepthwise(expand: ConvSpec, depthwise: ConvSpec)
  /// Inference BatchNormalization as `x * scale[c] + shift[c]`.
  case batchNorm(scale: [Float], shift: [Float])
  case activation(Activation)
  case sigmoid
  case add, sub, mul, div
  case concat(axis: Int)
  case maxPool(Window)
  case averagePool(Window, countIncludePad: Bool)
  case globalAveragePool
  case flatten(axis: Int)
  case reshape(shape: [Int], allowZero: Bool)
  case gemm(alpha: Float, beta: Float, transA: Bool, transB: Bool)
  case matMul
  case identity
}

/// A node of the executable graph: its operation and the names of its run-time inputs and its output.
/// Constant operands (weights, Clip bounds, Reshape shapes) are already folded into `op`.
struct Node {
  var name: String
  var opType: String
  var op: Operation
  var inputs: [String]
  var output: String
}
