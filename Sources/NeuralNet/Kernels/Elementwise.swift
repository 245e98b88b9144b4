import Foundation

/// Numpy-style broadcast of two shapes (trailing axes aligned; an axis of 1 stretches), or nil if incompatible.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
  let rank = max(a.count, b.count)
  let pa = [Int](repeating: 1, count: rank - a.count) + a
  let pb = [Int](repeating: 1, count: rank - b.count) + b
  var out = [Int]()
  for (x, y) in zip(pa, pb) {
    guard x == y || x == 1 || y == 1 else { return nil }
    out.append(x == 1 ? y : x)
  }
  return out
}

/// Element strides of `shape` read as `outShape` (0 along stretched axes).
private func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
  let padded = [Int](repeating: 1, count: outShape.count - shape.count) + shape
  var strides = [Int](repeating: 0, count: padded.count)
  var step = 1
  for axis in stride(from: padded.count - 1, through: 0, by: -1) {
    strides[axis] = padded[axis] == 1 ? 0 : step
    step *= padded[axis]
  }
  return strides
}

/// `a op b` with broadcasting. Equal shapes and a per-row constant take flat loops; other cases walk the
/// output with the innermost axis as the inner loop.
func binary(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) throws -> Tensor {
  guard let shape = broadcastShape(a.shape, b.shape) else {
    throw ShapeError("cannot broadcast \(describe(shape: a.shape)) with \(describe(shape: b.shape))")
  }
  if a.shape == b.shape {
    return a.data.withUnsafeBufferPointer { x in
      b.data.withUnsafeBufferPointer { y in
        Tensor(shape: shape) { out in for i in 0..<out.count { out[i] = op(x[i], y[i]) } }
      }
    }
  }
  let sa = broadcastStrides(a.shape, to: shape)
  let sb = broadcastStrides(b.shape, to: shape)
  let rank = shape.count
  return a.data.withUnsafeBufferPointer { x in
    b.data.withUnsafeBufferPointer { y in
      Tensor(shape: shape) { out in
        guard out.count > 0 else { return }
        let inner = shape.last ?? 1
        let ia = sa.last ?? 0
        let ib = sb.last ?? 0
        var index = [Int](repeating: 0, count: max(rank - 1, 0))
        var offset = 0
        while offset < out.count {
          var pa = 0
          var pb = 0
          for axis in 0..<index.count {
            pa += index[axis] * sa[axis]
            pb += index[axis] * sb[axis]
          }
          for i in 0..<inner { out[offset + i] = op(x[pa + i * ia], y[pb + i * ib]) }
          offset += inner
          var axis = index.count - 1
          while axis >= 0 {
            index[axis] += 1
            if index[axis] < shape[axis] { break }
            index[axis] = 0
            axis -= 1
          }
        }
      }
    }
  }
}

/// Applies `f` to every element.
func unary(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
  x.data.withUnsafeBufferPointer { input in
    Tensor(shape: x.shape) { out in for i in 0..<out.count { out[i] = f(input[i]) } }
  }
}

func sigmoid(_ x: Tensor) -> Tensor { unary(x) { 1 / (1 + expf(-$0)) } }

func activate(_ x: Tensor, _ a: Activation) -> Tensor {
  var y = x
  y.data.withUnsafeMutableBufferPointer { biasActivate($0.baseAddress!, count: $0.count, bias: 0, a) }
  return y
}

/// Inference BatchNormalization on axis 1: `x * scale[c] + shift[c]`.
func batchNorm(_ x: Tensor, scale: [Float], shift: [Float]) throws -> Tensor {
  guard x.shape.count >= 2, x.shape[1] == scale.count else {
    throw ShapeError("expects \(scale.count) channels on axis 1, received \(describe(shape: x.shape))")
  }
  let c = scale.count
  let plane = x.shape.dropFirst(2).reduce(1, *)
  guard plane > 0 else { return x }
  var y = x
  y.data.withUnsafeMutableBufferPointer { p in
    for start in stride(from: 0, to: p.count, by: plane) {
      let channel = (start / plane) % c
      let s = scale[channel]
      let t = shift[channel]
      for i in start..<(start + plane) { p[i] = p[i] * s + t }
    }
  }
  return y
}
