import CNeuralKernels
import COpenBLAS

/// 2-D convolution, NCHW, float32: every group as sgemm (straight on the input for 1x1 stride-1 unpadded kernels,
/// through im2col otherwise). Bias and the fused activation are applied in one pass while the output is still in cache.
/// (Depthwise convolutions take the channel-last kernel instead: `apply`.)
func convolve(_ x: Tensor, _ spec: ConvSpec) throws -> Tensor {
  let (n, c, h, w) = try nchw(x)
  guard c == spec.inChannels else {
    throw ShapeError(
      "weight \(describe(shape: spec.weight.shape)) with group \(spec.group) expects \(spec.inChannels) input "
        + "channels, received \(describe(shape: x.shape))"
    )
  }
  let geometry = try ResolvedWindow(spec.window, inH: h, inW: w)
  let m = spec.outChannels
  let outShape = [n, m, geometry.outH, geometry.outW]
  return x.data.withUnsafeBufferPointer { input in
    spec.weight.data.withUnsafeBufferPointer { weight in
      Tensor(shape: outShape) { output in
        spec.bias.withUnsafeBufferPointer { bias in
          dense(
            input.baseAddress!, weight.baseAddress!, bias.baseAddress!, output.baseAddress!, spec, geometry, n: n,
            c: c)
        }
      }
    }
  }
}

/// The float64 (or float32) evaluation of a Conv for the gradient engine: every group, depthwise included, runs
/// through the same im2col and gemm as `dense` below, with the weights converted to `T`.
func convolve<T: NetworkScalar>(_ x: TensorOf<T>, _ spec: ConvSpec) throws -> TensorOf<T> {
  let (n, c, g) = try convGeometry(x.shape, spec)
  let weight = spec.weight.data.map { T($0) }
  let bias = spec.bias.map { T($0) }
  var y = TensorOf<T>(shape: [n, spec.outChannels, g.outH, g.outW])
  x.data.withUnsafeBufferPointer { input in
    y.data.withUnsafeMutableBufferPointer { output in
      dense(input.baseAddress!, weight, bias, output.baseAddress!, spec, g, n: n, c: c)
    }
  }
  return y
}

/// Checks the channel count against the weights and resolves the window for an NCHW input shape.
func convGeometry(_ shape: [Int], _ spec: ConvSpec) throws -> (n: Int, c: Int, g: ResolvedWindow) {
  guard shape.count == 4 else { throw ShapeError("expects a 4-D NCHW input, received \(describe(shape: shape))") }
  guard shape[1] == spec.inChannels else {
    throw ShapeError(
      "weight \(describe(shape: spec.weight.shape)) with group \(spec.group) expects \(spec.inChannels) input "
        + "channels, received \(describe(shape: shape))")
  }
  return (shape[0], shape[1], try ResolvedWindow(spec.window, inH: shape[2], inW: shape[3]))
}

/// A 1x1, stride-1, unpadded window that keeps the plane: the input is already its own column matrix.
private func isPointwise(_ g: ResolvedWindow) -> Bool {
  g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.padTop == 0 && g.padLeft == 0 && g.outH == g.inH
    && g.outW == g.inW
}

/// One gemm per image and group: `Y_g[M/g, OH*OW] = W_g[M/g, K] * cols[K, OH*OW]`, K = C/g * kh * kw.
private func dense<T: NetworkScalar>(
  _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, _ bias: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>,
  _ spec: ConvSpec, _ g: ResolvedWindow, n: Int, c: Int
) {
  let m = spec.outChannels
  let groups = spec.group
  let cg = c / groups
  let mg = m / groups
  let k = cg * g.kh * g.kw
  let inPlane = g.inH * g.inW
  let outPlane = g.outH * g.outW
  let pointwise = isPointwise(g)
  var columns = [T](repeating: 0, count: pointwise ? 0 : k * outPlane)
  columns.withUnsafeMutableBufferPointer { cols in
    for image in 0..<n {
      for group in 0..<groups {
        let src = x + (image * c + group * cg) * inPlane
        let dst = y + (image * m + group * mg) * outPlane
        let b: UnsafePointer<T>
        if pointwise {
          b = src
        } else {
          im2col(src, channels: cg, g, into: cols.baseAddress!)
          b = UnsafePointer(cols.baseAddress!)
        }
        gemmBiasActivate(
          w + group * mg * k, b, dst, rows: mg, columns: outPlane, depth: k, bias: bias + group * mg,
          spec.activation)
      }
    }
  }
}

/// The input gradient of a Conv (its activation already applied to `dy`): per image and group
/// `dcols = W_gᵀ * dY_g`, then col2im adds each column back where im2col read it. Depthwise groups skip the
/// gemm (a column is one weight times the output gradient) and scatter straight into the input gradient.
func convolveBackward<T: NetworkScalar>(_ dy: TensorOf<T>, _ spec: ConvSpec, input shape: [Int]) throws -> TensorOf<T> {
  let (n, c, g) = try convGeometry(shape, spec)
  let m = spec.outChannels
  let groups = spec.group
  let (cg, mg) = (c / groups, m / groups)
  let k = cg * g.kh * g.kw
  let (inPlane, outPlane) = (g.inH * g.inW, g.outH * g.outW)
  // Float32 reads the weights in place; float64 converts them once.
  let converted: [T] = T.self == Float.self ? [] : spec.weight.data.map { T($0) }
  let pointwise = isPointwise(g)
  let depthwise = cg == 1 && mg == 1
  var dx = TensorOf<T>(shape: shape)
  if depthwise, T.self == Float.self {
    // Every channel of every image through the C kernel, one call per image.
    dy.data.withUnsafeBufferPointer { d in
      dx.data.withUnsafeMutableBufferPointer { out in
        spec.weight.data.withUnsafeBufferPointer { w in
          let src = UnsafeRawPointer(d.baseAddress!).assumingMemoryBound(to: Float.self)
          let dst = UnsafeMutableRawPointer(out.baseAddress!).assumingMemoryBound(to: Float.self)
          for image in 0..<n {
            cf_depthwise_backward(src + image * m * outPlane, Int32(m), w.baseAddress!, cf_window(g), dst + image * c * inPlane)
          }
        }
      }
    }
    return dx
  }
  var columns = [T](repeating: 0, count: pointwise || depthwise ? 0 : k * outPlane)
  func withWeights<R>(_ body: (UnsafePointer<T>) -> R) -> R {
    if T.self == Float.self {
      return spec.weight.data.withUnsafeBufferPointer { body(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: T.self)) }
    }
    return converted.withUnsafeBufferPointer { body($0.baseAddress!) }
  }
  withWeights { weight in
    dy.data.withUnsafeBufferPointer { dyBuffer in
      dx.data.withUnsafeMutableBufferPointer { dxBuffer in
        columns.withUnsafeMutableBufferPointer { cols in
          for image in 0..<n {
            for group in 0..<groups {
              let src = dyBuffer.baseAddress! + (image * m + group * mg) * outPlane
              let dst = dxBuffer.baseAddress! + (image * c + group * cg) * inPlane
              if depthwise {
                scatterDepthwise(src, weight: Array(UnsafeBufferPointer(start: weight + group * k, count: k)), g, into: dst)
                continue
              }
              T.gemm(
                transA: true, transB: false, m: k, n: outPlane, k: mg, alpha: 1, a: weight + group * mg * k,
                lda: k, b: src, ldb: outPlane, beta: 0, c: pointwise ? dst : cols.baseAddress!, ldc: outPlane)
              if !pointwise { col2im(cols.baseAddress!, channels: cg, g, addingInto: dst) }
            }
          }
        }
      }
    }
  }
  return dx
}

/// `C[rows, columns] = clamp(A[rows, depth] * B[depth, columns] + bias[row])`, all row-major and dense.
///
/// Cut into column blocks small enough that a block of C stays in cache from the bias fill through sgemm to
/// the clamp; C starts as the bias, so sgemm adds to it (beta 1) instead of zeroing it first.
@_specialize(where T == Float)
@_specialize(where T == Double)
func gemmBiasActivate<T: NetworkScalar>(
  _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>,
  rows: Int, columns: Int, depth: Int, bias: UnsafePointer<T>, _ activation: Activation
) {
  let width = min(columns, max(64, (blockFloats / rows) / 16 * 16))
  let (lower, upper) = (T(activation.lower), T(activation.upper))
  for column in stride(from: 0, to: columns, by: width) {
    let count = min(width, columns - column)
    for row in 0..<rows { (c + row * columns + column).update(repeating: bias[row], count: count) }
    T.gemm(
      transA: false, transB: false, m: rows, n: count, k: depth, alpha: 1, a: a, lda: depth, b: b + column,
      ldb: columns, beta: 1, c: c + column, ldc: columns)
    guard activation != .none else { continue }
    for row in 0..<rows {
      let p = c + row * columns + column
      for i in 0..<count {
        let low = p[i] < lower ? lower : p[i]
        p[i] = low > upper ? upper : low
      }
    }
  }
}

/// Floats of output per sgemm call in `dense` (128 KB, well inside a core's L2 cache).
private let blockFloats = 32 * 1024

/// `p[i] = clamp(p[i] + bias)`; written with comparisons rather than `min`/`max` so it vectorises.
@inline(__always) func biasActivate(_ p: UnsafeMutablePointer<Float>, count: Int, bias: Float, _ a: Activation) {
  let lower = a.lower
  let upper = a.upper
  if lower == -.infinity && upper == .infinity {
    if bias != 0 { for i in 0..<count { p[i] += bias } }
    return
  }
  for i in 0..<count {
    let v = p[i] + bias
    let low = v < lower ? lower : v
    p[i] = low > upper ? upper : low
  }
}
