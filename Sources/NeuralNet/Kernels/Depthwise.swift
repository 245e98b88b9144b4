/// Depthwise convolution (one input and one output channel per group), NCHW, with bias and activation fused.
///
/// Each input plane is first copied into a zero-bordered buffer (small enough to stay in cache), so every
/// tap of every output is in bounds. The output plane is cut into units of eight columns of one row; four
/// units are computed at once in independent registers, so the adds do not wait on each other. Rows are
/// written straight to the output when the width is a multiple of eight, else through a scratch plane whose
/// rows are padded to a multiple of eight.
func depthwise(
  _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
  _ spec: ConvSpec, _ g: ResolvedWindow, n: Int, c: Int
) {
  switch g.sw {
  case 1: depthwise(x, w, y, spec, g, n: n, c: c, Contiguous())
  case 2: depthwise(x, w, y, spec, g, n: n, c: c, EvenLanes())
  default: depthwise(x, w, y, spec, g, n: n, c: c, Strided(stride: g.sw))
  }
}

private func depthwise<L: LaneLoader>(
  _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
  _ spec: ConvSpec, _ g: ResolvedWindow, n: Int, c: Int, _ L: L
) {
  let chunks = (g.outW + 7) / 8
  let pitch = chunks * 8
  // Padded extent: everything the units read, with 16 floats of slack for the stride-2 loads.
  let paddedH = max((g.outH - 1) * g.sh + (g.kh - 1) * g.dh + 1, g.padTop + g.inH)
  let paddedW = max(pitch * g.sw + (g.kw - 1) * g.dw + 16, g.padLeft + g.inW)
  let taps = g.kh * g.kw
  let offsets = (0..<taps).map { ($0 / g.kw) * g.dh * paddedW + ($0 % g.kw) * g.dw }
  var padded = [Float](repeating: 0, count: paddedH * paddedW)
  let direct = g.outW % 8 == 0
  var scratch = [Float](repeating: 0, count: direct ? 0 : g.outH * pitch)
  var weights = [SIMD8<Float>](repeating: .zero, count: taps)
  let activation = ClampSIMD(spec.activation)
  let units = g.outH * chunks
  padded.withUnsafeMutableBufferPointer { paddedBuffer in
    scratch.withUnsafeMutableBufferPointer { scratchBuffer in
      let p = UnsafePointer(paddedBuffer.baseAddress!)
      // Where unit u reads its first tap and where its eight results go (pitch `pitch` in the scratch plane).
      let origin = { (u: Int) in p + (u / chunks) * g.sh * paddedW + (u % chunks) * 8 * g.sw }
      for plane in 0..<(n * c) {
        let channel = plane % c
        let src = x + plane * g.inH * g.inW
        // Borders stay zero from the first fill: only the interior is rewritten for each plane.
        for iy in 0..<g.inH {
          (paddedBuffer.baseAddress! + (g.padTop + iy) * paddedW + g.padLeft).update(
            from: src + iy * g.inW, count: g.inW)
        }
        for t in 0..<taps { weights[t] = SIMD8(repeating: w[channel * taps + t]) }
        let bias = SIMD8<Float>(repeating: spec.bias[channel])
        let dst = direct ? y + plane * g.outH * g.outW : scratchBuffer.baseAddress!
        let store = { (u: Int, v: SIMD8<Float>) in
          UnsafeMutableRawPointer(dst + u * 8).storeBytes(of: activation(v), as: SIMD8<Float>.self)
        }
        var u = 0
        while u + 4 <= units {
          let (s0, s1, s2, s3) = (origin(u), origin(u + 1), origin(u + 2), origin(u + 3))
          var (a0, a1, a2, a3) = (bias, bias, bias, bias)
          for t in 0..<taps {
            let weight = weights[t]
            let offset = offsets[t]
            a0 += weight * L.load(s0 + offset)
            a1 += weight * L.load(s1 + offset)
            a2 += weight * L.load(s2 + offset)
            a3 += weight * L.load(s3 + offset)
          }
          store(u, a0)
          store(u + 1, a1)
          store(u + 2, a2)
          store(u + 3, a3)
          u += 4
        }
        while u < units {
          let s = origin(u)
          var a = bias
          for t in 0..<taps { a += weights[t] * L.load(s + offsets[t]) }
          store(u, a)
          u += 1
        }
        if !direct {
          let out = y + plane * g.outH * g.outW
          for oy in 0..<g.outH { (out + oy * g.outW).update(from: dst + oy * pitch, count: g.outW) }
        }
      }
    }
  }
}

/// An activation as a SIMD clamp; a no-op without bounds.
private struct ClampSIMD {
  let lower: SIMD8<Float>, upper: SIMD8<Float>, clamps: Bool

  init(_ a: Activation) {
    (lower, upper, clamps) = (SIMD8(repeating: a.lower), SIMD8(repeating: a.upper), a != .none)
  }

  @inline(__always) func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float> {
    guard clamps else { return v }
    var r = v
    r.replace(with: lower, where: r .< lower)
    r.replace(with: upper, where: r .> upper)
    return r
  }
}

/// Reads the eight input values that eight adjacent outputs of one tap need.
private protocol LaneLoader {
  func load(_ p: UnsafePointer<Float>) -> SIMD8<Float>
}

/// Stride 1: eight adjacent floats.
private struct Contiguous: LaneLoader {
  @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
  }
}

/// Stride 2: the even lanes of sixteen adjacent floats.
private struct EvenLanes: LaneLoader {
  @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self).evenHalf
  }
}

/// Any other stride: eight single loads. Only reached by unusual models.
private struct Strided: LaneLoader {
  let stride: Int
  func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    var v = SIMD8<Float>()
    for lane in 0..<8 { v[lane] = p[lane * stride] }
    return v
  }
}
