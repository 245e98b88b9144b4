/// A dense float32 tensor in row-major (C) order; 4-D activations are NCHW.
///
/// Invariant: `data.count == shape.reduce(1, *)`. A scalar has shape `[]` and one element.
public struct Tensor: Sendable, Equatable {
  /// The extent of each axis, outermost first.
  public var shape: [Int]
  /// The elements, row-major.
  public var data: [Float]

  /// Wraps `data` as a tensor of `shape`; the element count must match the shape.
  public init(shape: [Int], data: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative extent in shape \(shape)")
    precondition(data.count == shape.reduce(1, *), "\(data.count) elements do not fill shape \(shape)")
    self.shape = shape
    self.data = data
  }

  /// A tensor of `shape` filled with `value`.
  public init(shape: [Int], repeating value: Float = 0) {
    self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
  }

  /// A tensor whose elements are written by `fill` before it is read; the buffer starts uninitialised,
  /// so `fill` must write every element.
  init(shape: [Int], uninitialized fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
    let count = shape.reduce(1, *)
    self.shape = shape
    self.data = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      try fill(buffer)
      initialized = count
    }
  }

  /// The number of elements.
  public var count: Int { data.count }

  /// Rows `range` of the outermost axis (the batch, for activations), as a new tensor.
  public func slice(batch range: Range<Int>) -> Tensor {
    let row = shape.isEmpty || shape[0] == 0 ? 0 : count / shape[0]
    var newShape = shape
    newShape[0] = range.count
    return Tensor(shape: newShape, data: Array(data[(range.lowerBound * row)..<(range.upperBound * row)]))
  }

  /// Stacks tensors along the outermost axis; all must agree on the other axes.
  static func concatenate(batches parts: [Tensor]) -> Tensor {
    guard var result = parts.first else { return Tensor(shape: [0], data: []) }
    for part in parts.dropFirst() {
      precondition(Array(part.shape.dropFirst()) == Array(result.shape.dropFirst()), "batch parts disagree")
      result.shape[0] += part.shape[0]
      result.data += part.data
    }
    return result
  }
}

/// Formats a shape the way error messages show it: `[N,3,224,224]`.
func describe(shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }
