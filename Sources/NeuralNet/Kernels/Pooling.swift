/// MaxPool or AveragePool over each NCHW plane.
///
/// AveragePool divides by the taps inside the input, or with `countIncludePad` by the taps inside the
/// padded input (explicit pads only: taps past the pads that ceil_mode adds are never counted), as
/// ONNX Runtime does.
func pool(_ x: Tensor, _ window: Window, average: Bool, countIncludePad: Bool = false) throws -> Tensor {
  let (n, c, h, w) = try nchw(x)
  let g = try ResolvedWindow(window, inH: h, inW: w)
  let padBottom = window.autoPad == "NOTSET" ? window.pads[2] : 0
  let padRight = window.autoPad == "NOTSET" ? window.pads[3] : 0
  return x.data.withUnsafeBufferPointer { input in
    Tensor(shape: [n, c, g.outH, g.outW]) { out in
      for plane in 0..<(n * c) {
        let src = input.baseAddress! + plane * h * w
        let dst = out.baseAddress! + plane * g.outH * g.outW
        for oy in 0..<g.outH {
          let y0 = oy * g.sh - g.padTop
          let rows = validRange(count: g.kh, stride: g.dh, offset: y0, extent: h)
          for ox in 0..<g.outW {
            let x0 = ox * g.sw - g.padLeft
            let cols = validRange(count: g.kw, stride: g.dw, offset: x0, extent: w)
            var acc: Float = average ? 0 : -.infinity
            for ky in rows {
              let row = src + (y0 + ky * g.dh) * w + x0
              for kx in cols {
                let v = row[kx * g.dw]
                if average { acc += v } else if v > acc { acc = v }
              }
            }
            if average {
              var divisor = rows.count * cols.count
              if countIncludePad {
                let spanH = min(y0 + (g.kh - 1) * g.dh + 1, h + padBottom) - y0
                let spanW = min(x0 + (g.kw - 1) * g.dw + 1, w + padRight) - x0
                divisor = ((spanH - 1) / g.dh + 1) * ((spanW - 1) / g.dw + 1)
              }
              acc = divisor > 0 ? acc / Float(divisor) : 0
            }
            dst[oy * g.outW + ox] = acc
          }
        }
      }
    }
  }
}

/// GlobalAveragePool: the mean of each NCHW plane, shape `[N, C, 1, 1]`.
func globalAveragePool(_ x: Tensor) throws -> Tensor {
  let (n, c, h, w) = try nchw(x)
  let plane = h * w
  return x.data.withUnsafeBufferPointer { input in
    Tensor(shape: [n, c, 1, 1]) { out in
      for p in 0..<(n * c) {
        var sum: Float = 0
        let src = input.baseAddress! + p * plane
        for i in 0..<plane { sum += src[i] }
        out[p] = sum / Float(plane)
      }
    }
  }
}
