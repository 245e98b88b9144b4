/// The backward pass of one step: given the step's operands `x`, its output `y` and the gradient `dy` of the
/// seeded outputs with respect to `y`, the gradient with respect to each operand whose entry in `wanted` is true
/// (nil for the others). Activations fused into a Conv are undone first from `y` alone: a clamped output passes
/// gradient only strictly inside its bounds, the convention of PyTorch's relu and hardtanh.
@_specialize(where T == Float)
@_specialize(where T == Double)
func vectorJacobian<T: NetworkScalar>(
  _ op: Operation, x: [TensorOf<T>], y: TensorOf<T>, dy: TensorOf<T>, wanted: [Bool]
) throws -> [TensorOf<T>?] {
  func only(_ gradient: () throws -> TensorOf<T>) rethrows -> [TensorOf<T>?] {
    wanted[0]
      ? [try gradient()] + [TensorOf<T>?](repeating: nil, count: x.count - 1)
      : [TensorOf<T>?](repeating: nil, count: x.count)
  }
  switch op {
  case .conv(let spec):
    return try only { try convolveBackward(clampBackward(dy, y, spec.activation), spec, input: x[0].shape) }
  case .expandDepthwise:
    // Tapes pair convolutions only upstream of every watched value, where no gradient goes (`Plan.Fusion.gradients`).
    throw ShapeError("an expand+depthwise pair has no backward pass: record the tape with a plan that keeps them apart")
  case .batchNorm(let scale, _):
    return try only {
      let plane = try channelPlane(dy.shape, channels: scale.count)
      var dx = dy
      for i in dx.data.indices { dx.data[i] *= T(scale[(i / max(plane, 1)) % scale.count]) }
      return dx
    }
  case .activation(let activation): return only { clampBackward(dy, y, activation) }
  case .sigmoid:
    return only { TensorOf(shape: dy.shape, data: zip(dy.data, y.data).map { $0 * $1 * (1 - $1) }) }
  case .add, .sub, .mul, .div: return binaryBackward(op, x[0], x[1], dy: dy, wanted: wanted)
  case .concat(let axis): return try concatBackward(x, axis: axis, dy: dy).enumerated().map { wanted[$0] ? $1 : nil }
  case .maxPool(let window): return try only { try poolBackward(x[0], window, dy: dy, average: false) }
  case .averagePool(let window, let include):
    return try only { try poolBackward(x[0], window, dy: dy, average: true, countIncludePad: include) }
  case .globalAveragePool:
    return only {
      let plane = x[0].shape.dropFirst(2).reduce(1, *)
      return TensorOf(shape: x[0].shape, data: (0..<x[0].count).map { dy.data[$0 / plane] / T(plane) })
    }
  case .flatten, .reshape, .identity: return only { TensorOf(shape: x[0].shape, data: dy.data) }
  case .gemm(let alpha, let beta, let transA, let transB):
    return gemmBackward(x, dy: dy, alpha: T(alpha), beta: T(beta), transA: transA, transB: transB, wanted: wanted)
  case .matMul: return try matMulBackward(x[0], x[1], dy: dy, wanted: wanted)
  }
}

/// `dy` where `lower < y < upper`, 0 where the clamp held the output at a bound.
private func clampBackward<T: NetworkScalar>(_ dy: TensorOf<T>, _ y: TensorOf<T>, _ a: Activation) -> TensorOf<T> {
  guard a != .none else { return dy }
  let (lower, upper) = (T(a.lower), T(a.upper))
  var dz = dy
  y.data.withUnsafeBufferPointer { out in
    dz.data.withUnsafeMutableBufferPointer { g in
      // A select rather than a branch: whether a ReLU6 output sits at a bound is a coin toss per element, and the
      // branch mispredicted so often that this loop took a ninth of GradCAM's time.
      for i in 0..<g.count { g[i] = out[i] > lower && out[i] < upper ? g[i] : 0 }
    }
  }
  return dz
}

/// Broadcast operands get the sum of the output gradients of every element they were stretched over.
private func binaryBackward<T: NetworkScalar>(
  _ op: Operation, _ a: TensorOf<T>, _ b: TensorOf<T>, dy: TensorOf<T>, wanted: [Bool]
) -> [TensorOf<T>?] {
  var da = TensorOf<T>(shape: a.shape)
  var db = TensorOf<T>(shape: b.shape)
  let (wantA, wantB) = (wanted[0], wanted[1])
  dy.data.withUnsafeBufferPointer { g in
    a.data.withUnsafeBufferPointer { x in
      b.data.withUnsafeBufferPointer { z in
        da.data.withUnsafeMutableBufferPointer { gx in
          db.data.withUnsafeMutableBufferPointer { gz in
            forEachBroadcast(a.shape, b.shape, dy.shape) { o, i, j in
              switch op {
              case .add:
                if wantA { gx[i] += g[o] }
                if wantB { gz[j] += g[o] }
              case .sub:
                if wantA { gx[i] += g[o] }
                if wantB { gz[j] -= g[o] }
              case .mul:
                if wantA { gx[i] += g[o] * z[j] }
                if wantB { gz[j] += g[o] * x[i] }
              default:
                if wantA { gx[i] += g[o] / z[j] }
                if wantB { gz[j] -= g[o] * x[i] / (z[j] * z[j]) }
              }
            }
          }
        }
      }
    }
  }
  return [wantA ? da : nil, wantB ? db : nil]
}

/// Each operand's block of the output gradient, split along the concatenation axis.
private func concatBackward<T: NetworkScalar>(_ parts: [TensorOf<T>], axis rawAxis: Int, dy: TensorOf<T>) throws
  -> [TensorOf<T>]
{
  let axis = rawAxis < 0 ? rawAxis + dy.shape.count : rawAxis
  let outer = dy.shape.prefix(axis).reduce(1, *)
  let row = dy.shape.suffix(from: axis).reduce(1, *)
  var start = 0
  return parts.map { part in
    let block = part.shape.suffix(from: axis).reduce(1, *)
    var data = [T]()
    data.reserveCapacity(part.count)
    for o in 0..<outer { data += dy.data[(o * row + start)..<(o * row + start + block)] }
    start += block
    return TensorOf(shape: part.shape, data: data)
  }
}

/// An average pool spreads each output gradient evenly over its window's divisor; a max pool hands it to the
/// first tap holding the maximum, the one the forward pass kept.
private func poolBackward<T: NetworkScalar>(
  _ x: TensorOf<T>, _ window: Window, dy: TensorOf<T>, average: Bool, countIncludePad: Bool = false
) throws -> TensorOf<T> {
  let pools = try PoolWindows(x.shape, window, countIncludePad: countIncludePad)
  let (inPlane, outPlane) = (pools.g.inH * pools.g.inW, pools.g.outH * pools.g.outW)
  var dx = TensorOf<T>(shape: x.shape)
  for plane in 0..<pools.planes {
    let (src, dst) = (plane * inPlane, plane * outPlane)
    pools.forEach { o, taps, divisor in
      let g = dy.data[dst + o]
      if average {
        guard divisor > 0 else { return }
        for tap in taps { dx.data[src + tap] += g / T(divisor) }
      } else {
        var best: Int?
        for tap in taps where best == nil || x.data[src + tap] > x.data[src + best!] { best = tap }
        if let best { dx.data[src + best] += g }
      }
    }
  }
  return dx
}

/// `Y = alpha * A' B' + beta * C`: `dA' = alpha dY B'ᵀ`, `dB' = alpha A'ᵀ dY`, each written in the operand's own
/// (possibly transposed) layout, and `dC` the output gradient summed over the axes C was broadcast along.
private func gemmBackward<T: NetworkScalar>(
  _ x: [TensorOf<T>], dy: TensorOf<T>, alpha: T, beta: T, transA: Bool, transB: Bool, wanted: [Bool]
) -> [TensorOf<T>?] {
  let (a, b) = (x[0], x[1])
  let (m, n) = (dy.shape[0], dy.shape[1])
  let k = transA ? a.shape[0] : a.shape[1]
  var result: [TensorOf<T>?] = [TensorOf<T>?](repeating: nil, count: x.count)
  if wanted[0] {
    result[0] = written(a.shape, dy, b) { g, pb, out in
      if transA {
        T.gemm(
          transA: transB, transB: true, m: k, n: m, k: n, alpha: alpha, a: pb, lda: b.shape[1], b: g, ldb: n, beta: 0,
          c: out, ldc: m)
      } else {
        T.gemm(
          transA: false, transB: !transB, m: m, n: k, k: n, alpha: alpha, a: g, lda: n, b: pb, ldb: b.shape[1],
          beta: 0, c: out, ldc: k)
      }
    }
  }
  if wanted[1] {
    result[1] = written(b.shape, dy, a) { g, pa, out in
      if transB {
        T.gemm(
          transA: true, transB: transA, m: n, n: k, k: m, alpha: alpha, a: g, lda: n, b: pa, ldb: a.shape[1], beta: 0,
          c: out, ldc: k)
      } else {
        T.gemm(
          transA: !transA, transB: false, m: k, n: n, k: m, alpha: alpha, a: pa, lda: a.shape[1], b: g, ldb: n,
          beta: 0, c: out, ldc: n)
      }
    }
  }
  if x.count > 2 && wanted[2] {
    var dc = TensorOf<T>(shape: x[2].shape)
    forEachBroadcast(x[2].shape, dy.shape, dy.shape) { o, i, _ in dc.data[i] += beta * dy.data[o] }
    result[2] = dc
  }
  return result
}

/// Batched MatMul: `dA_i += dY_i B_jᵀ`, `dB_j += A_iᵀ dY_i` over the broadcast pairs (i, j) of matrices; 1-D
/// operands were promoted to a row (A) or a column (B), which leaves their data layout unchanged.
private func matMulBackward<T: NetworkScalar>(_ a: TensorOf<T>, _ b: TensorOf<T>, dy: TensorOf<T>, wanted: [Bool])
  throws -> [TensorOf<T>?]
{
  let sa = a.shape.count == 1 ? [1, a.shape[0]] : a.shape
  let sb = b.shape.count == 1 ? [b.shape[0], 1] : b.shape
  let (m, k, n) = (sa[sa.count - 2], sa[sa.count - 1], sb[sb.count - 1])
  let (batchA, batchB) = (Array(sa.dropLast(2)), Array(sb.dropLast(2)))
  let batch = broadcastShape(batchA, batchB) ?? []
  let (indexA, indexB) = try matrixPairs(batchA, batchB, batch)
  var da = TensorOf<T>(shape: a.shape)
  var db = TensorOf<T>(shape: b.shape)
  dy.data.withUnsafeBufferPointer { g in
    a.data.withUnsafeBufferPointer { pa in
      b.data.withUnsafeBufferPointer { pb in
        da.data.withUnsafeMutableBufferPointer { ga in
          db.data.withUnsafeMutableBufferPointer { gb in
            for i in indexA.indices {
              let (x, z, gy) = (indexA[i] * m * k, indexB[i] * k * n, g.baseAddress! + i * m * n)
              if wanted[0] {
                T.gemm(
                  transA: false, transB: true, m: m, n: k, k: n, alpha: 1, a: gy, lda: n, b: pb.baseAddress! + z,
                  ldb: n, beta: 1, c: ga.baseAddress! + x, ldc: k)
              }
              if wanted[1] {
                T.gemm(
                  transA: true, transB: false, m: k, n: n, k: m, alpha: 1, a: pa.baseAddress! + x, lda: k, b: gy,
                  ldb: n, beta: 1, c: gb.baseAddress! + z, ldc: n)
              }
            }
          }
        }
      }
    }
  }
  return [wanted[0] ? da : nil, wanted[1] ? db : nil]
}

/// A new tensor of `shape` written by `body` from the storage of `a` and `b`.
private func written<T: NetworkScalar>(
  _ shape: [Int], _ a: TensorOf<T>, _ b: TensorOf<T>,
  _ body: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void
) -> TensorOf<T> {
  var out = TensorOf<T>(shape: shape)
  a.data.withUnsafeBufferPointer { pa in
    b.data.withUnsafeBufferPointer { pb in
      out.data.withUnsafeMutableBufferPointer { body(pa.baseAddress!, pb.baseAddress!, $0.baseAddress!) }
    }
  }
  return out
}

/// The gradient with respect to a layer's own parameters: a Conv's weight `[M, C/g, kh, kw]` and bias `[M]` (its
/// fused activation undone first; in float32 any BatchNormalization folded into it is part of the weight), or a
/// Gemm's or MatMul's constant B (and Gemm's C). Per image and group `dW_g += dZ_g colsᵀ`, `db = sum of dZ`.
func layerParameterGradients<T: NetworkScalar>(_ op: Operation, x: [TensorOf<T>], y: TensorOf<T>, dy: TensorOf<T>)
  throws
  -> (weight: TensorOf<T>, bias: TensorOf<T>?)
{
  switch op {
  case .conv(let spec):
    let dz = clampBackward(dy, y, spec.activation)
    let (n, c, g) = try convGeometry(x[0].shape, spec)
    let (m, groups) = (spec.outChannels, spec.group)
    let (cg, mg) = (c / groups, m / groups)
    let (k, plane, inPlane) = (cg * g.kh * g.kw, g.outH * g.outW, g.inH * g.inW)
    var columns = [T](repeating: 0, count: k * plane)
    var dw = TensorOf<T>(shape: spec.weight.shape)
    x[0].data.withUnsafeBufferPointer { input in
      dz.data.withUnsafeBufferPointer { gz in
        dw.data.withUnsafeMutableBufferPointer { gw in
          columns.withUnsafeMutableBufferPointer { cols in
            for image in 0..<n {
              for group in 0..<groups {
                im2col(
                  input.baseAddress! + (image * c + group * cg) * inPlane, channels: cg, g, into: cols.baseAddress!)
                T.gemm(
                  transA: false, transB: true, m: mg, n: k, k: plane, alpha: 1,
                  a: gz.baseAddress! + (image * m + group * mg) * plane, lda: plane, b: cols.baseAddress!, ldb: plane,
                  beta: 1, c: gw.baseAddress! + group * mg * k, ldc: k)
              }
            }
          }
        }
      }
    }
    var db = TensorOf<T>(shape: [m])
    for i in dz.data.indices { db.data[(i / plane) % m] += dz.data[i] }
    return (dw, db)
  case .gemm(let alpha, let beta, let transA, let transB):
    let wanted = [false, true, x.count > 2]
    let result = gemmBackward(x, dy: dy, alpha: T(alpha), beta: T(beta), transA: transA, transB: transB, wanted: wanted)
    return (result[1]!, x.count > 2 ? result[2] : nil)
  case .matMul:
    return (try matMulBackward(x[0], x[1], dy: dy, wanted: [false, true])[1]!, nil)
  default:
    throw ShapeError("has no weights of its own: parameter gradients are for Conv, Gemm and MatMul nodes")
  }
}
