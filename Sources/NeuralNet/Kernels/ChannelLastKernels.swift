import CNeuralKernels

// The channel-last steps' kernels (see `ChannelLastStep`): each takes `[N, H, W, C]` values, or NCHW ones where it
// says so, and returns `[N, H', W', M]`, except the pool, whose `[N, C, 1, 1]` is the same bytes in both layouts.

/// `[N, H, W, C]` checked against the Conv's input channels.
private func channelLastShape(_ x: Tensor, _ spec: ConvSpec) throws -> (n: Int, h: Int, w: Int, c: Int) {
  let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  guard c == spec.inChannels else {
    throw ShapeError(
      "weight \(describe(shape: spec.weight.shape)) with group \(spec.group) expects \(spec.inChannels) input "
        + "channels, received \(describe(shape: [n, c, h, w]))")
  }
  return (n, h, w, c)
}

func pointwiseChannelLast(_ x: Tensor, _ spec: ConvSpec, _ packed: [Float], residual: Tensor?) throws -> Tensor {
  let (n, h, w, c) = try channelLastShape(x, spec)
  let m = spec.outChannels
  let rows = n * h * w
  if let residual, residual.shape != [n, h, w, m] {
    throw ShapeError("cannot add \(describe(shape: residual.shape)) to the Conv's [\(n),\(h),\(w),\(m)] (NHWC)")
  }
  return Tensor(shape: [n, h, w, m]) { out in
    x.data.withUnsafeBufferPointer { input in
      packed.withUnsafeBufferPointer { packed in
        spec.bias.withUnsafeBufferPointer { bias in
          withOptionalPointer(residual?.data) { r in
            cf_pointwise(
              input.baseAddress!, rows, c, Int32(c), packed.baseAddress!, Int32(m), bias.baseAddress!,
              spec.activation.lower, spec.activation.upper, r, m, out.baseAddress!, m)
          }
        }
      }
    }
  }
}

/// Calls `body` with a pointer to `values`, or NULL.
func withOptionalPointer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
  guard let values else { return body(nil) }
  return values.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Any other ungrouped Conv, image by image: the image copied once into a zero-bordered channel-last buffer (from
/// either layout: the graph's NCHW input needs no conversion of its own), then `cf_conv_taps` reads each output
/// pixel's window (`[kh][kw][C]`) where it lies in that buffer.
func denseChannelLast(_ x: Activations, _ spec: ConvSpec, _ packed: [Float]) throws -> Tensor {
  let s = x.tensor.shape
  let (n, h, w, c) = x.channelLast ? (s[0], s[1], s[2], s[3]) : (s[0], s[2], s[3], s[1])
  guard c == spec.inChannels else {
    throw ShapeError(
      "weight \(describe(shape: spec.weight.shape)) expects \(spec.inChannels) input channels, received "
        + "\(describe(shape: [n, c, h, w]))")
  }
  let g = try ResolvedWindow(spec.window, inH: h, inW: w)
  let m = spec.outChannels
  let depth = g.kh * g.kw * c
  let outPlane = g.outH * g.outW
  // Every row and column any window reaches, the input at (padTop, padLeft).
  let paddedH = max((g.outH - 1) * g.sh + (g.kh - 1) * g.dh + 1, g.padTop + h)
  let paddedW = max((g.outW - 1) * g.sw + (g.kw - 1) * g.dw + 1, g.padLeft + w)
  var image = [Float](repeating: 0, count: paddedH * paddedW * c)
  let starts = (0..<outPlane).map { r in ((r / g.outW) * g.sh * paddedW + (r % g.outW) * g.sw) * c }
  var offsets = [Int32](repeating: 0, count: depth)
  for ky in 0..<g.kh {
    for kx in 0..<g.kw {
      for ch in 0..<c {
        offsets[(ky * g.kw + kx) * c + ch] = Int32((ky * g.dh * paddedW + kx * g.dw) * c + ch)
      }
    }
  }
  return Tensor(shape: [n, g.outH, g.outW, m]) { out in
    x.tensor.data.withUnsafeBufferPointer { input in
      image.withUnsafeMutableBufferPointer { image in
        for index in 0..<n {
          let src = input.baseAddress! + index * h * w * c
          for iy in 0..<h {
            let row = image.baseAddress! + ((g.padTop + iy) * paddedW + g.padLeft) * c
            if x.channelLast {
              row.update(from: src + iy * w * c, count: w * c)
            } else {
              for ch in 0..<c {
                let plane = src + (ch * h + iy) * w
                for ix in 0..<w { row[ix * c + ch] = plane[ix] }
              }
            }
          }
          cf_conv_taps(
            image.baseAddress!, starts, outPlane, offsets, Int32(depth), packed, Int32(m), spec.bias,
            spec.activation.lower, spec.activation.upper, out.baseAddress! + index * outPlane * m, m)
        }
      }
    }
  }
}

func depthwiseChannelLast(_ x: Tensor, _ spec: ConvSpec, _ packed: [Float]) throws -> Tensor {
  let (n, h, w, c) = try channelLastShape(x, spec)
  let g = try ResolvedWindow(spec.window, inH: h, inW: w)
  let window = cf_window(g)
  return Tensor(shape: [n, g.outH, g.outW, c]) { out in
    x.data.withUnsafeBufferPointer { input in
      withDepthwiseOperands(packed, spec, window) { weight, bias, scratch in
        for image in 0..<n {
          cf_depthwise_nhwc(
            input.baseAddress! + image * h * w * c, Int32(c), weight, bias, window, spec.activation.lower,
            spec.activation.upper, out.baseAddress! + image * g.outH * g.outW * c, c, scratch)
        }
      }
    }
  }
}

/// Calls `body` with the packed depthwise weights, the bias and a scratch buffer for `cf_depthwise_nhwc` as pointers.
private func withDepthwiseOperands(
  _ packed: [Float], _ spec: ConvSpec, _ window: cf_window,
  _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
) {
  var scratch = [Float](repeating: 0, count: cf_depthwise_nhwc_scratch(window))
  packed.withUnsafeBufferPointer { weight in
    spec.bias.withUnsafeBufferPointer { bias in
      scratch.withUnsafeMutableBufferPointer { body(weight.baseAddress!, bias.baseAddress!, $0.baseAddress!) }
    }
  }
}

/// The expand convolution of a few images for a block of channels into a scratch buffer that stays in cache
/// (`[images][plane][block]`), then the depthwise convolution of each image's block into its columns of the output.
/// Images go one at a time on planes of 1,024 pixels or more, and together on smaller ones, so that the expand's
/// product has rows enough (a 2 x 2 plane has 4 per image) to fill its tiles.
func expandDepthwiseChannelLast(
  _ x: Tensor, _ expand: ConvSpec, _ packed: [Float], _ spec: ConvSpec, _ depthwisePacked: [Float]
) throws -> Tensor {
  let (n, h, w, c) = try channelLastShape(x, expand)
  let g = try ResolvedWindow(spec.window, inH: h, inW: w)
  let mid = expand.outChannels
  guard spec.inChannels == mid else {
    throw ShapeError("depthwise weight \(describe(shape: spec.weight.shape)) after \(mid) expanded channels")
  }
  let plane = h * w
  let outPlane = g.outH * g.outW
  let together = max(1, min(n, rowsTogether / plane))
  let block = min(mid, max(16, (blockFloats / (plane * together)) / 16 * 16))
  let taps = g.kh * g.kw
  let window = cf_window(g)
  var expanded = [Float](unsafeUninitializedCapacity: plane * together * block) { $1 = $0.count }
  return Tensor(shape: [n, g.outH, g.outW, mid]) { out in
    x.data.withUnsafeBufferPointer { input in
      packed.withUnsafeBufferPointer { packed in
        expand.bias.withUnsafeBufferPointer { expandBias in
          expanded.withUnsafeMutableBufferPointer { expanded in
            withDepthwiseOperands(depthwisePacked, spec, window) { weight, bias, scratch in
              for firstImage in stride(from: 0, to: n, by: together) {
                let images = min(together, n - firstImage)
                for first in stride(from: 0, to: mid, by: block) {
                  let count = min(block, mid - first)
                  cf_pointwise(
                    input.baseAddress! + firstImage * plane * c, images * plane, c, Int32(c),
                    packed.baseAddress! + first * c, Int32(count), expandBias.baseAddress! + first,
                    expand.activation.lower, expand.activation.upper, nil, 0, expanded.baseAddress!, count)
                  for image in 0..<images {
                    cf_depthwise_nhwc(
                      expanded.baseAddress! + image * plane * count, Int32(count), weight + first * taps, bias + first,
                      window, spec.activation.lower, spec.activation.upper,
                      out.baseAddress! + (firstImage + image) * outPlane * mid + first, mid, scratch)
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/// Pixels of the images whose expand runs as one product (see above).
private let rowsTogether = 1024
/// Floats of expanded values per block (1 MB: 16 channels of 128 x 128).
private let blockFloats = 256 * 1024

/// The mean of every channel over the plane, summed pixel by pixel in order (as the NCHW kernel sums), `[N, C, 1, 1]`.
func poolChannelLast(_ x: Tensor) -> Tensor {
  let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let plane = h * w
  return Tensor(shape: [n, c, 1, 1]) { out in
    x.data.withUnsafeBufferPointer { input in
      for image in 0..<n {
        let sums = out.baseAddress! + image * c
        sums.update(repeating: 0, count: c)
        for p in 0..<plane {
          let row = input.baseAddress! + (image * plane + p) * c
          for ch in 0..<c { sums[ch] += row[ch] }
        }
        for ch in 0..<c { sums[ch] /= Float(plane) }
      }
    }
  }
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
