import CNeuralKernels

/// A 1x1 "expand" convolution followed by a depthwise convolution (the first half of an inverted residual
/// block), computed a few channels at a time: each block of expanded channels is made by sgemm into a
/// scratch buffer that stays in cache and consumed by the depthwise kernel at once, so the expanded tensor,
/// the largest activation of such networks, never goes to memory.
///
/// Planes of up to 128 x 128 take blocks of 16 channels or more, laid out channel-last (sgemm writes the transposed
/// product at no cost) for the C kernel that vectorises across channels: the NCHW kernel's rows of eight outputs
/// waste most of their lanes on planes of 7 x 7 or 2 x 2, and its Swift SIMD is built for SSE2 only. Larger planes
/// keep the NCHW blocks.
func expandDepthwise(_ x: Tensor, expand: ConvSpec, depthwise spec: ConvSpec) throws -> Tensor {
  let (n, c, h, w) = try nchw(x)
  guard c == expand.inChannels else {
    throw ShapeError(
      "weight \(describe(shape: expand.weight.shape)) expects \(expand.inChannels) input channels, "
        + "received \(describe(shape: x.shape))")
  }
  let g = try ResolvedWindow(spec.window, inH: h, inW: w)
  return x.data.withUnsafeBufferPointer { input in
    Tensor(shape: [n, expand.outChannels, g.outH, g.outW]) { output in
      if h * w * 16 <= lastBlockFloats {
        channelLast(input.baseAddress!, output.baseAddress!, n: n, c: c, plane: h * w, expand, spec, g)
      } else {
        channelFirst(input.baseAddress!, output.baseAddress!, n: n, c: c, plane: h * w, expand, spec, g)
      }
    }
  }
}

/// Blocks of a multiple of 4 channels, NCHW, one image at a time: sgemm then the NCHW depthwise kernel.
private func channelFirst(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, c: Int, plane: Int, _ expand: ConvSpec,
  _ spec: ConvSpec, _ g: ResolvedWindow
) {
  let mid = expand.outChannels
  let block = min(mid, max(4, (blockFloats / plane) / 4 * 4))
  let taps = g.kh * g.kw
  var scratch = [Float](repeating: 0, count: block * plane)
  withOperands(expand, spec, &scratch) { expandWeight, expandBias, depthwiseWeight, _, expanded in
    for image in 0..<n {
      for first in stride(from: 0, to: mid, by: block) {
        let count = min(block, mid - first)
        gemmBiasActivate(
          expandWeight + first * c, x + image * c * plane, expanded, rows: count, columns: plane, depth: c,
          bias: expandBias + first, expand.activation)
        var part = spec
        part.bias = Array(spec.bias[first..<(first + count)])
        depthwise(
          expanded, depthwiseWeight + first * taps, y + (image * mid + first) * g.outH * g.outW, part, g, n: 1,
          c: count)
      }
    }
  }
}

/// Blocks of a multiple of 16 channels, channel-last, one image at a time: sgemm writes the block transposed
/// (`E[plane, count] = X^T W_block^T`), then the C depthwise kernel reads E and writes its NCHW output. Each image
/// has a gemm of its own, so that an image's values never depend on the others of its batch.
private func channelLast(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, c: Int, plane: Int, _ expand: ConvSpec,
  _ spec: ConvSpec, _ g: ResolvedWindow
) {
  let mid = expand.outChannels
  let block = min(mid, max(16, (lastBlockFloats / plane) / 16 * 16))
  let (taps, outPlane) = (g.kh * g.kw, g.outH * g.outW)
  let window = cf_window(g)
  var scratch = [Float](repeating: 0, count: block * plane)
  var tile = [Float](repeating: 0, count: cf_depthwise_hwc_scratch(window))
  withOperands(expand, spec, &scratch) { expandWeight, expandBias, depthwiseWeight, depthwiseBias, expanded in
    tile.withUnsafeMutableBufferPointer { tile in
      for image in 0..<n {
        for first in stride(from: 0, to: mid, by: block) {
          let count = min(block, mid - first)
          expandChannelLast(
            x + image * c * plane, expandWeight + first * c, expandBias + first, expanded, channels: count,
            plane: plane, depth: c, expand.activation)
          cf_depthwise_hwc(
            expanded, Int32(count), depthwiseWeight + first * taps, depthwiseBias + first, window,
            spec.activation.lower, spec.activation.upper, y + (image * mid + first) * outPlane, outPlane,
            tile.baseAddress!)
        }
      }
    }
  }
}

/// Calls `body` with the weights and biases of both convolutions and the scratch buffer as pointers.
private func withOperands(
  _ expand: ConvSpec, _ spec: ConvSpec, _ scratch: inout [Float],
  _ body: (
    _ expandWeight: UnsafePointer<Float>, _ expandBias: UnsafePointer<Float>, _ depthwiseWeight: UnsafePointer<Float>,
    _ depthwiseBias: UnsafePointer<Float>, _ scratch: UnsafeMutablePointer<Float>
  ) -> Void
) {
  expand.weight.data.withUnsafeBufferPointer { expandWeight in
    expand.bias.withUnsafeBufferPointer { expandBias in
      spec.weight.data.withUnsafeBufferPointer { depthwiseWeight in
        spec.bias.withUnsafeBufferPointer { depthwiseBias in
          scratch.withUnsafeMutableBufferPointer { scratch in
            body(
              expandWeight.baseAddress!, expandBias.baseAddress!, depthwiseWeight.baseAddress!,
              depthwiseBias.baseAddress!, scratch.baseAddress!)
          }
        }
      }
    }
  }
}

/// Floats of expanded values per NCHW block (256 KB, well inside a core's L2 cache).
private let blockFloats = 64 * 1024
/// The same for channel-last blocks (1 MB: 16 channels of 128 x 128), whose kernel reads 16 adjacent floats per tap.
private let lastBlockFloats = 256 * 1024

/// `y[p * channels + j] = clamp(bias[j] + sum_k w[j * depth + k] * x[k * plane + p])`: the expand convolution of
/// one image for `channels` output channels, transposed (channel-last) by sgemm itself. (Weights transposed once
/// per call, so that sgemm reads them untransposed, made Lite0 2% faster at 64 px and 20% slower at 224.)
private func expandChannelLast(
  _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
  channels: Int, plane: Int, depth: Int, _ activation: Activation
) {
  cf_fill_rows(y, plane, Int32(channels), bias)
  Float.gemm(
    transA: true, transB: true, m: plane, n: channels, k: depth, alpha: 1, a: x, lda: plane, b: w, ldb: depth,
    beta: 1, c: y, ldc: channels)
  if activation != .none { cf_clamp(y, plane * channels, activation.lower, activation.upper) }
}

extension cf_window {
  /// The C kernels' copy of a resolved window.
  init(_ g: ResolvedWindow) {
    self.init(
      inH: Int32(g.inH), inW: Int32(g.inW), outH: Int32(g.outH), outW: Int32(g.outW), kh: Int32(g.kh),
      kw: Int32(g.kw), sh: Int32(g.sh), sw: Int32(g.sw), dh: Int32(g.dh), dw: Int32(g.dw), padTop: Int32(g.padTop),
      padLeft: Int32(g.padLeft))
  }
}
