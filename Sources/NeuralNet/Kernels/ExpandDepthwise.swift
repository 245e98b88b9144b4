/// A 1x1 "expand" convolution followed by a depthwise convolution (the first half of an inverted residual
/// block), computed a few channels at a time: each block of expanded channels is made by sgemm into a
/// scratch buffer that stays in cache and consumed by the depthwise kernel at once, so the expanded tensor,
/// the largest activation of such networks, never goes to memory.
func expandDepthwise(_ x: Tensor, expand: ConvSpec, depthwise spec: ConvSpec) throws -> Tensor {
  let (n, c, h, w) = try nchw(x)
  guard c == expand.inChannels else {
    throw ShapeError(
      "weight \(describe(shape: expand.weight.shape)) expects \(expand.inChannels) input channels, "
        + "received \(describe(shape: x.shape))")
  }
  let mid = expand.outChannels
  let g = try ResolvedWindow(spec.window, inH: h, inW: w)
  let plane = h * w
  // Channels per block: about 256 KB of expanded values, a multiple of 4 so sgemm tiles stay full.
  let block = min(mid, max(4, (64 * 1024 / plane) / 4 * 4))
  let taps = g.kh * g.kw
  var scratch = [Float](repeating: 0, count: block * plane)
  return x.data.withUnsafeBufferPointer { input in
    expand.weight.data.withUnsafeBufferPointer { expandWeight in
      expand.bias.withUnsafeBufferPointer { expandBias in
        spec.weight.data.withUnsafeBufferPointer { depthwiseWeight in
          scratch.withUnsafeMutableBufferPointer { expanded in
            Tensor(shape: [n, mid, g.outH, g.outW]) { output in
              for image in 0..<n {
                for first in stride(from: 0, to: mid, by: block) {
                  let count = min(block, mid - first)
                  gemmBiasActivate(
                    expandWeight.baseAddress! + first * c, input.baseAddress! + image * c * plane,
                    expanded.baseAddress!, rows: count, columns: plane, depth: c,
                    bias: expandBias.baseAddress! + first, expand.activation)
                  var part = spec
                  part.bias = Array(spec.bias[first..<(first + count)])
                  depthwise(
                    expanded.baseAddress!, depthwiseWeight.baseAddress! + first * taps,
                    output.baseAddress! + (image * mid + first) * g.outH * g.outW, part, g, n: 1, c: count)
                }
              }
            }
          }
        }
      }
    }
  }
}
