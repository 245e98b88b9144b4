import COpenBLAS

/// 2-D convolution, NCHW. Dense groups run as sgemm (straight on the input for 1x1 stride-1 unpadded
/// kernels, through im2col otherwise); depthwise convolutions (one input channel per group) run as a direct loop.
/// Bias and the fused activation are applied in one pass while the output is still in cache.
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
        if spec.isDepthwise {
          depthwise(input.baseAddress!, weight.baseAddress!, output.baseAddress!, spec, geometry, n: n, c: c)
        } else {
          dense(input.baseAddress!, weight.baseAddress!, output.baseAddress!, spec, geometry, n: n, c: c)
        }
      }
    }
  }
}

/// One sgemm per image and group: `Y_g[M/g, OH*OW] = W_g[M/g, K] * cols[K, OH*OW]`, K = C/g * kh * kw.
private func dense(
  _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
  _ spec: ConvSpec, _ g: ResolvedWindow, n: Int, c: Int
) {
  let m = spec.outChannels
  let groups = spec.group
  let cg = c / groups
  let mg = m / groups
  let k = cg * g.kh * g.kw
  let inPlane = g.inH * g.inW
  let outPlane = g.outH * g.outW
  let pointwise =
    g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.padTop == 0 && g.padLeft == 0
    && g.outH == g.inH && g.outW == g.inW
  var columns = [Float](repeating: 0, count: pointwise ? 0 : k * outPlane)
  columns.withUnsafeMutableBufferPointer { cols in
    for image in 0..<n {
      for group in 0..<groups {
        let src = x + (image * c + group * cg) * inPlane
        let dst = y + (image * m + group * mg) * outPlane
        let b: UnsafePointer<Float>
        if pointwise {
          b = src
        } else {
          im2col(src, channels: cg, g, into: cols.baseAddress!)
          b = UnsafePointer(cols.baseAddress!)
        }
        spec.bias.withUnsafeBufferPointer { bias in
          gemmBiasActivate(
            w + group * mg * k, b, dst, rows: mg, columns: outPlane, depth: k, bias: bias.baseAddress! + group * mg,
            spec.activation)
        }
      }
    }
  }
}

/// `C[rows, columns] = clamp(A[rows, depth] * B[depth, columns] + bias[row])`, all row-major and dense.
///
/// Cut into column blocks small enough that a block of C stays in cache from the bias fill through sgemm to
/// the clamp; C starts as the bias, so sgemm adds to it (beta 1) instead of zeroing it first.
func gemmBiasActivate(
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
  rows: Int, columns: Int, depth: Int, bias: UnsafePointer<Float>, _ activation: Activation
) {
  let width = min(columns, max(64, (blockFloats / rows) / 16 * 16))
  for column in stride(from: 0, to: columns, by: width) {
    let count = min(width, columns - column)
    for row in 0..<rows { (c + row * columns + column).update(repeating: bias[row], count: count) }
    cblas_sgemm(
      CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(count), Int32(depth),
      1, a, Int32(depth), b + column, Int32(columns), 1, c + column, Int32(columns))
    if activation != .none {
      for row in 0..<rows { biasActivate(c + row * columns + column, count: count, bias: 0, activation) }
    }
  }
}

/// Floats of output per sgemm call in `dense` (128 KB, well inside a core's L2 cache).
private let blockFloats = 32 * 1024

/// Lays out every kernel tap of `channels` planes as a row of `outH * outW` samples, zero where the tap
/// falls in the padding: row `(ch * kh + ky) * kw + kx`, matching the weight layout `[M, C/g, kh, kw]`.
private func im2col(
  _ x: UnsafePointer<Float>, channels: Int, _ g: ResolvedWindow, into cols: UnsafeMutablePointer<Float>
) {
  let outPlane = g.outH * g.outW
  for ch in 0..<channels {
    let plane = x + ch * g.inH * g.inW
    for ky in 0..<g.kh {
      for kx in 0..<g.kw {
        let row = cols + ((ch * g.kh + ky) * g.kw + kx) * outPlane
        let xOffset = kx * g.dw - g.padLeft
        let valid = validRange(count: g.outW, stride: g.sw, offset: xOffset, extent: g.inW)
        for oy in 0..<g.outH {
          let dst = row + oy * g.outW
          let iy = oy * g.sh - g.padTop + ky * g.dh
          guard iy >= 0 && iy < g.inH else {
            dst.update(repeating: 0, count: g.outW)
            continue
          }
          let src = plane + iy * g.inW + xOffset
          dst.update(repeating: 0, count: valid.lowerBound)
          if g.sw == 1 {
            (dst + valid.lowerBound).update(from: src + valid.lowerBound, count: valid.count)
          } else {
            for ox in valid { dst[ox] = src[ox * g.sw] }
          }
          (dst + valid.upperBound).update(repeating: 0, count: g.outW - valid.upperBound)
        }
      }
    }
  }
}

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
