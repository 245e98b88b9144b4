/// The column layout shared by the forward convolution (im2col then gemm) and its backward pass (gemm then
/// col2im): row `(ch * kh + ky) * kw + kx` of the columns holds kernel tap `(ky, kx)` of channel `ch` for every
/// output position, matching the weight layout `[M, C/g, kh, kw]`. Generic so that the float64 evaluation of a
/// graph runs the same code as the float32 one.

/// Lays out every kernel tap of `channels` planes as a row of `outH * outW` samples, zero where the tap
/// falls in the padding.
@_specialize(where T == Float)
@_specialize(where T == Double)
func im2col<T: NetworkScalar>(
  _ x: UnsafePointer<T>, channels: Int, _ g: ResolvedWindow, into cols: UnsafeMutablePointer<T>
) {
  forEachTapRow(channels: channels, g) { plane, row, oy, valid, xOffset in
    let dst = cols + row + oy * g.outW
    guard let iy = valid.row else {
      dst.update(repeating: 0, count: g.outW)
      return
    }
    let src = x + plane + iy * g.inW + xOffset
    let cols = valid.columns
    dst.update(repeating: 0, count: cols.lowerBound)
    if g.sw == 1 {
      (dst + cols.lowerBound).update(from: src + cols.lowerBound, count: cols.count)
    } else {
      for ox in cols { dst[ox] = src[ox * g.sw] }
    }
    (dst + cols.upperBound).update(repeating: 0, count: g.outW - cols.upperBound)
  }
}

/// The adjoint of `im2col`: adds every column sample back onto the input position it was read from
/// (taps in the padding are dropped). `x` is accumulated into, not overwritten.
@_specialize(where T == Float)
@_specialize(where T == Double)
func col2im<T: NetworkScalar>(
  _ cols: UnsafePointer<T>, channels: Int, _ g: ResolvedWindow, addingInto x: UnsafeMutablePointer<T>
) {
  forEachTapRow(channels: channels, g) { plane, row, oy, valid, xOffset in
    guard let iy = valid.row else { return }
    let src = cols + row + oy * g.outW
    let dst = x + plane + iy * g.inW + xOffset
    if g.sw == 1 {
      for ox in valid.columns { dst[ox] += src[ox] }
    } else {
      for ox in valid.columns { dst[ox * g.sw] += src[ox] }
    }
  }
}

/// The input gradient of one depthwise plane: col2im of the columns `weight[tap] * dy`, without making them.
@_specialize(where T == Float)
@_specialize(where T == Double)
func scatterDepthwise<T: NetworkScalar>(
  _ dy: UnsafePointer<T>, weight: [T], _ g: ResolvedWindow, into x: UnsafeMutablePointer<T>
) {
  forEachTapRow(channels: 1, g) { _, row, oy, valid, xOffset in
    guard let iy = valid.row else { return }
    let w = weight[row / (g.outH * g.outW)]
    let src = dy + oy * g.outW
    let dst = x + iy * g.inW + xOffset
    if g.sw == 1 {
      for ox in valid.columns { dst[ox] += w * src[ox] }
    } else {
      for ox in valid.columns { dst[ox * g.sw] += w * src[ox] }
    }
  }
}

/// Calls `body(planeOffset, rowOffset, oy, (input row or nil in the padding, valid output columns), xOffset)`
/// for every channel, tap and output row, in column order.
@inline(__always) private func forEachTapRow(
  channels: Int, _ g: ResolvedWindow,
  _ body: (Int, Int, Int, (row: Int?, columns: Range<Int>), Int) -> Void
) {
  let outPlane = g.outH * g.outW
  for ch in 0..<channels {
    let plane = ch * g.inH * g.inW
    for ky in 0..<g.kh {
      for kx in 0..<g.kw {
        let row = ((ch * g.kh + ky) * g.kw + kx) * outPlane
        let xOffset = kx * g.dw - g.padLeft
        let columns = validRange(count: g.outW, stride: g.sw, offset: xOffset, extent: g.inW)
        for oy in 0..<g.outH {
          let iy = oy * g.sh - g.padTop + ky * g.dh
          body(plane, row, oy, (iy >= 0 && iy < g.inH ? iy : nil, columns), xOffset)
        }
      }
    }
  }
}
