/// Floor division that rounds towards minus infinity (Swift's `/` truncates towards zero).
@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int {
  a >= 0 ? a / b : -((-a + b - 1) / b)
}

/// The output positions `o` for which `o * stride + offset` falls inside `0..<extent`, clipped to `0..<count`.
/// Hot loops run over this range without per-element bounds tests.
@inline(__always) func validRange(count: Int, stride: Int, offset: Int, extent: Int) -> Range<Int> {
  let lo = max(0, floorDiv(-offset + stride - 1, stride))
  let hi = min(count, floorDiv(extent - 1 - offset, stride) + 1)
  return lo..<max(lo, hi)
}

/// A window resolved against one input size: pads in effect and the output extent.
struct ResolvedWindow {
  let window: Window
  let inH: Int, inW: Int
  let padTop: Int, padLeft: Int
  let outH: Int, outW: Int

  var kh: Int { window.kernel.h }
  var kw: Int { window.kernel.w }
  var sh: Int { window.strides.h }
  var sw: Int { window.strides.w }
  var dh: Int { window.dilations.h }
  var dw: Int { window.dilations.w }

  /// Follows the ONNX Conv/Pool output-size rules, including auto_pad SAME_UPPER/SAME_LOWER (extra pixel at
  /// the end for UPPER, at the start for LOWER) and ceil_mode (a last window must start inside the input or
  /// its leading pad).
  init(_ window: Window, inH: Int, inW: Int) throws {
    self.window = window
    self.inH = inH
    self.inW = inW
    func axis(_ size: Int, k: Int, s: Int, d: Int, begin: Int, end: Int) -> (pad: Int, out: Int) {
      let span = (k - 1) * d + 1
      switch window.autoPad {
      case "VALID": return (0, (size - span) / s + 1)
      case "SAME_UPPER", "SAME_LOWER":
        let out = (size + s - 1) / s
        let total = max(0, (out - 1) * s + span - size)
        return (window.autoPad == "SAME_UPPER" ? total / 2 : (total + 1) / 2, out)
      default:
        let room = size + begin + end - span
        guard window.ceilMode else { return (begin, floorDiv(room, s) + 1) }
        var out = (room + s - 1) / s + 1
        if (out - 1) * s >= size + begin { out -= 1 }
        return (begin, out)
      }
    }
    let p = window.pads
    let v = axis(inH, k: window.kernel.h, s: window.strides.h, d: window.dilations.h, begin: p[0], end: p[2])
    let h = axis(inW, k: window.kernel.w, s: window.strides.w, d: window.dilations.w, begin: p[1], end: p[3])
    guard v.out > 0, h.out > 0 else {
      throw ShapeError("window \(window.kernel) is larger than the padded input \(inH)x\(inW)")
    }
    (padTop, outH, padLeft, outW) = (v.pad, v.out, h.pad, h.out)
  }
}

/// A shape problem found while running a node; the executor adds the node's name and operator.
struct ShapeError: Error {
  let message: String
  init(_ message: String) { self.message = message }
}

/// Reads `[N, C, H, W]` from a 4-D activation or throws naming the rank received.
func nchw(_ x: Tensor) throws -> (n: Int, c: Int, h: Int, w: Int) {
  guard x.shape.count == 4 else { throw ShapeError("expects a 4-D NCHW input, received \(describe(shape: x.shape))") }
  return (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
}
