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
func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
  let padded = [Int](repeating: 1, count: outShape.count - shape.count) + shape
  var strides = [Int](repeating: 0, count: padded.count)
  var step = 1
  for axis in stride(from: padded.count - 1, through: 0, by: -1) {
    strides[axis] = padded[axis] == 1 ? 0 : step
    step *= padded[axis]
  }
  return strides
}

/// Calls `body(outputOffset, offsetInA, offsetInB)` for every element of the broadcast of shapes `a` and `b`
/// (`shape`), in output order with the innermost axis as the inner loop. The backward pass uses the same walk
/// to add each output gradient back onto the operand element it came from.
@inline(__always) func forEachBroadcast(_ a: [Int], _ b: [Int], _ shape: [Int], _ body: (Int, Int, Int) -> Void) {
  let total = shape.reduce(1, *)
  guard total > 0 else { return }
  if a == b {
    for i in 0..<total { body(i, i, i) }
    return
  }
  let sa = broadcastStrides(a, to: shape)
  let sb = broadcastStrides(b, to: shape)
  let inner = shape.last ?? 1
  let ia = sa.last ?? 0
  let ib = sb.last ?? 0
  var index = [Int](repeating: 0, count: max(shape.count - 1, 0))
  var offset = 0
  while offset < total {
    var pa = 0
    var pb = 0
    for axis in 0..<index.count {
      pa += index[axis] * sa[axis]
      pb += index[axis] * sb[axis]
    }
    for i in 0..<inner { body(offset + i, pa + i * ia, pb + i * ib) }
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

/// `a op b` with broadcasting.
@_specialize(where T == Float)
@_specialize(where T == Double)
func binary<T: NetworkScalar>(_ a: TensorOf<T>, _ b: TensorOf<T>, _ op: (T, T) -> T) throws -> TensorOf<T> {
  guard let shape = broadcastShape(a.shape, b.shape) else {
    throw ShapeError("cannot broadcast \(describe(shape: a.shape)) with \(describe(shape: b.shape))")
  }
  var out = TensorOf<T>(shape: shape)
  a.data.withUnsafeBufferPointer { x in
    b.data.withUnsafeBufferPointer { y in
      out.data.withUnsafeMutableBufferPointer { z in
        forEachBroadcast(a.shape, b.shape, shape) { o, i, j in z[o] = op(x[i], y[j]) }
      }
    }
  }
  return out
}

/// Applies `f` to every element.
@_specialize(where T == Float)
@_specialize(where T == Double)
func unary<T: NetworkScalar>(_ x: TensorOf<T>, _ f: (T) -> T) -> TensorOf<T> {
  TensorOf(shape: x.shape, data: x.data.map(f))
}

func sigmoid<T: NetworkScalar>(_ x: TensorOf<T>) -> TensorOf<T> { unary(x, T.logistic) }

/// Clamps every element to the activation's bounds; written with comparisons rather than `min`/`max` so it
/// vectorises.
@_specialize(where T == Float)
@_specialize(where T == Double)
func activate<T: NetworkScalar>(_ x: TensorOf<T>, _ a: Activation) -> TensorOf<T> {
  guard a != .none else { return x }
  let (lower, upper) = (T(a.lower), T(a.upper))
  return unary(x) { v in
    let low = v < lower ? lower : v
    return low > upper ? upper : low
  }
}

/// Inference BatchNormalization on axis 1: `x * scale[c] + shift[c]`.
@_specialize(where T == Float)
@_specialize(where T == Double)
func batchNorm<T: NetworkScalar>(_ x: TensorOf<T>, scale: [Float], shift: [Float]) throws -> TensorOf<T> {
  let plane = try channelPlane(x.shape, channels: scale.count)
  guard plane > 0 else { return x }
  var y = x
  y.data.withUnsafeMutableBufferPointer { p in
    for start in stride(from: 0, to: p.count, by: plane) {
      let channel = (start / plane) % scale.count
      let s = T(scale[channel])
      let t = T(shift[channel])
      for i in start..<(start + plane) { p[i] = p[i] * s + t }
    }
  }
  return y
}

/// The elements per channel of an `[N, C, ...]` value, after checking C.
func channelPlane(_ shape: [Int], channels: Int) throws -> Int {
  guard shape.count >= 2, shape[1] == channels else {
    throw ShapeError("expects \(channels) channels on axis 1, received \(describe(shape: shape))")
  }
  return shape.dropFirst(2).reduce(1, *)
}
