/// MaxPool or AveragePool over each NCHW plane.
///
/// AveragePool divides by the taps inside the input, or with `countIncludePad` by the taps inside the
/// padded input (explicit pads only: taps past the pads that ceil_mode adds are never counted), as
/// ONNX Runtime does.
@_specialize(where T == Float)
@_specialize(where T == Double)
func pool<T: NetworkScalar>(_ x: TensorOf<T>, _ window: Window, average: Bool, countIncludePad: Bool = false) throws
  -> TensorOf<T>
{
  let pools = try PoolWindows(x.shape, window, countIncludePad: countIncludePad)
  let g = pools.g
  var out = TensorOf<T>(shape: [x.shape[0], x.shape[1], g.outH, g.outW])
  x.data.withUnsafeBufferPointer { input in
    out.data.withUnsafeMutableBufferPointer { output in
      for plane in 0..<pools.planes {
        let src = input.baseAddress! + plane * g.inH * g.inW
        let dst = output.baseAddress! + plane * g.outH * g.outW
        pools.forEach { o, taps, divisor in
          var acc: T = average ? 0 : -.infinity
          for i in taps {
            let v = src[i]
            if average { acc += v } else if v > acc { acc = v }
          }
          if average { acc = divisor > 0 ? acc / T(divisor) : 0 }
          dst[o] = acc
        }
      }
    }
  }
  return out
}

/// The windows of a pool over one input size: for each output position, the input offsets of its taps in the
/// plane and the divisor an average uses.
struct PoolWindows {
  let g: ResolvedWindow
  let planes: Int
  let padBottom: Int, padRight: Int
  let countIncludePad: Bool

  init(_ shape: [Int], _ window: Window, countIncludePad: Bool) throws {
    guard shape.count == 4 else { throw ShapeError("expects a 4-D NCHW input, received \(describe(shape: shape))") }
    g = try ResolvedWindow(window, inH: shape[2], inW: shape[3])
    planes = shape[0] * shape[1]
    padBottom = window.autoPad == "NOTSET" ? window.pads[2] : 0
    padRight = window.autoPad == "NOTSET" ? window.pads[3] : 0
    self.countIncludePad = countIncludePad
  }

  /// Calls `body(outputIndex, tapOffsets, divisor)` for every output position of a plane, rows outer.
  @inline(__always) func forEach(_ body: (Int, [Int], Int) -> Void) {
    var taps: [Int] = []
    taps.reserveCapacity(g.kh * g.kw)
    for oy in 0..<g.outH {
      let y0 = oy * g.sh - g.padTop
      let rows = validRange(count: g.kh, stride: g.dh, offset: y0, extent: g.inH)
      for ox in 0..<g.outW {
        let x0 = ox * g.sw - g.padLeft
        let cols = validRange(count: g.kw, stride: g.dw, offset: x0, extent: g.inW)
        taps.removeAll(keepingCapacity: true)
        for ky in rows { for kx in cols { taps.append((y0 + ky * g.dh) * g.inW + x0 + kx * g.dw) } }
        var divisor = rows.count * cols.count
        if countIncludePad {
          let spanH = min(y0 + (g.kh - 1) * g.dh + 1, g.inH + padBottom) - y0
          let spanW = min(x0 + (g.kw - 1) * g.dw + 1, g.inW + padRight) - x0
          divisor = ((spanH - 1) / g.dh + 1) * ((spanW - 1) / g.dw + 1)
        }
        body(oy * g.outW + ox, taps, divisor)
      }
    }
  }
}

/// GlobalAveragePool: the mean of each NCHW plane, shape `[N, C, 1, 1]`.
@_specialize(where T == Float)
@_specialize(where T == Double)
func globalAveragePool<T: NetworkScalar>(_ x: TensorOf<T>) throws -> TensorOf<T> {
  guard x.shape.count == 4 else { throw ShapeError("expects a 4-D NCHW input, received \(describe(shape: x.shape))") }
  let plane = x.shape[2] * x.shape[3]
  var out = TensorOf<T>(shape: [x.shape[0], x.shape[1], 1, 1])
  x.data.withUnsafeBufferPointer { input in
    for p in 0..<out.count {
      var sum: T = 0
      let src = input.baseAddress! + p * plane
      for i in 0..<plane { sum += src[i] }
      out.data[p] = sum / T(plane)
    }
  }
  return out
}
