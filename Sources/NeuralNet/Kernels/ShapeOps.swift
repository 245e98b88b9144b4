/// Concat along `axis` (negative counts from the end); all other axes must agree.
@_specialize(where T == Float)
@_specialize(where T == Double)
func concat<T: NetworkScalar>(_ parts: [TensorOf<T>], axis rawAxis: Int) throws -> TensorOf<T> {
  guard let first = parts.first else { throw ShapeError("has no inputs") }
  let rank = first.shape.count
  let axis = rawAxis < 0 ? rawAxis + rank : rawAxis
  guard axis >= 0 && axis < rank else { throw ShapeError("axis \(rawAxis) is outside rank \(rank)") }
  var shape = first.shape
  shape[axis] = 0
  for part in parts {
    var other = part.shape
    guard other.count == rank else {
      throw ShapeError("inputs differ in rank: \(parts.map { describe(shape: $0.shape) })")
    }
    shape[axis] += other[axis]
    other[axis] = first.shape[axis]
    guard other == first.shape else {
      throw ShapeError("inputs differ off axis \(axis): \(parts.map { describe(shape: $0.shape) })")
    }
  }
  let outer = shape.prefix(axis).reduce(1, *)
  var data = [T]()
  data.reserveCapacity(shape.reduce(1, *))
  for o in 0..<outer {
    for part in parts {
      let block = part.shape.suffix(from: axis).reduce(1, *)
      data += part.data[(o * block)..<((o + 1) * block)]
    }
  }
  return TensorOf(shape: shape, data: data)
}

/// Flatten: `[prod(shape[..<axis]), prod(shape[axis...])]`.
func flatten<T: NetworkScalar>(_ x: TensorOf<T>, axis rawAxis: Int) throws -> TensorOf<T> {
  let axis = rawAxis < 0 ? rawAxis + x.shape.count : rawAxis
  guard axis >= 0 && axis <= x.shape.count else { throw ShapeError("axis \(rawAxis) is outside rank \(x.shape.count)") }
  return TensorOf(shape: [x.shape.prefix(axis).reduce(1, *), x.shape.suffix(from: axis).reduce(1, *)], data: x.data)
}

/// Reshape: 0 copies the input extent (unless `allowZero`), one -1 takes what is left.
func reshape<T: NetworkScalar>(_ x: TensorOf<T>, to target: [Int], allowZero: Bool) throws -> TensorOf<T> {
  var shape = target
  for (axis, extent) in target.enumerated() where extent == 0 && !allowZero {
    guard axis < x.shape.count else {
      throw ShapeError("shape \(target) copies axis \(axis) of \(describe(shape: x.shape))")
    }
    shape[axis] = x.shape[axis]
  }
  let unknown = shape.indices.filter { shape[$0] == -1 }
  guard unknown.count <= 1, shape.allSatisfy({ $0 >= -1 }) else { throw ShapeError("invalid target shape \(target)") }
  if let axis = unknown.first {
    let known = shape.filter { $0 != -1 }.reduce(1, *)
    guard known > 0, x.count % known == 0 else {
      throw ShapeError("cannot reshape \(describe(shape: x.shape)) to \(target)")
    }
    shape[axis] = x.count / known
  }
  guard shape.reduce(1, *) == x.count else {
    throw ShapeError("cannot reshape \(describe(shape: x.shape)) to \(target)")
  }
  return TensorOf(shape: shape, data: x.data)
}
