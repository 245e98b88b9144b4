import CConfoundPlugin

/// Element types of tensors, with the ABI's numbering (`cf_dtype`) and NumPy's names.
public enum DType: UInt32, Sendable, CaseIterable {
  case uint8 = 1, uint16 = 2, uint32 = 3, int32 = 4, int64 = 5, float32 = 6, float64 = 7

  public var size: Int {
    switch self {
    case .uint8: return 1
    case .uint16: return 2
    case .uint32, .int32, .float32: return 4
    case .int64, .float64: return 8
    }
  }

  /// NumPy's dtype string, e.g. "<f4".
  public var numpy: String {
    switch self {
    case .uint8: return "|u1"
    case .uint16: return "<u2"
    case .uint32: return "<u4"
    case .int32: return "<i4"
    case .int64: return "<i8"
    case .float32: return "<f4"
    case .float64: return "<f8"
    }
  }

  public init?(numpy: String) {
    guard let match = DType.allCases.first(where: { $0.numpy == numpy || $0.numpy.dropFirst() == numpy.dropFirst() })
    else { return nil }
    self = match
  }
}

/// A borrowed, read-only view of a tensor the host passed in. Valid only during the call.
public struct TensorView {
  public let name: String
  public let dtype: DType
  public let shape: [Int]
  public let data: UnsafeRawPointer

  public var count: Int { shape.reduce(1, *) }

  /// The elements as float32, or nil when the tensor is of another type.
  public var floats: UnsafeBufferPointer<Float>? {
    dtype == .float32 ? UnsafeBufferPointer(start: data.assumingMemoryBound(to: Float.self), count: count) : nil
  }

  /// The elements as float64, or nil when the tensor is of another type.
  public var doubles: UnsafeBufferPointer<Double>? {
    dtype == .float64 ? UnsafeBufferPointer(start: data.assumingMemoryBound(to: Double.self), count: count) : nil
  }

  /// The elements converted to float64, whatever the tensor's type.
  public func toDoubles() -> [Double] {
    let n = count
    switch dtype {
    case .uint8: return (0..<n).map { Double(data.load(fromByteOffset: $0, as: UInt8.self)) }
    case .uint16: return (0..<n).map { Double(data.load(fromByteOffset: $0 * 2, as: UInt16.self)) }
    case .uint32: return (0..<n).map { Double(data.load(fromByteOffset: $0 * 4, as: UInt32.self)) }
    case .int32: return (0..<n).map { Double(data.load(fromByteOffset: $0 * 4, as: Int32.self)) }
    case .int64: return (0..<n).map { Double(data.load(fromByteOffset: $0 * 8, as: Int64.self)) }
    case .float32: return floats!.map(Double.init)
    case .float64: return Array(doubles!)
    }
  }

  init(_ tensor: cf_tensor) throws {
    guard let dtype = DType(rawValue: tensor.dtype) else {
      throw PluginError.invalidParams("tensor has unknown dtype \(tensor.dtype)")
    }
    let ndim = Int(min(tensor.ndim, UInt32(CF_MAX_DIMS)))
    let shape = withUnsafeBytes(of: tensor.shape) { raw in (0..<ndim).map { Int(raw.load(fromByteOffset: $0 * 8, as: Int64.self)) } }
    guard shape.allSatisfy({ $0 >= 0 }), UInt64(shape.reduce(1, *) * dtype.size) == tensor.nbytes else {
      throw PluginError.invalidParams("tensor shape \(shape) does not match its \(tensor.nbytes) bytes")
    }
    self.name = tensor.name.map { String(cString: $0) } ?? ""
    self.dtype = dtype
    self.shape = shape
    self.data = UnsafeRawPointer(tensor.data ?? UnsafeMutableRawPointer(bitPattern: 8)!)
  }
}

/// An owned tensor a plugin returns. Its bytes are copied once into plugin-owned memory for the host.
public struct Tensor {
  public let name: String
  public let dtype: DType
  public let shape: [Int]
  public let bytes: [UInt8]

  public init(name: String, shape: [Int], floats: [Float]) {
    precondition(shape.reduce(1, *) == floats.count, "tensor \(name): shape \(shape) does not hold \(floats.count) values")
    self.init(name: name, dtype: .float32, shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
  }

  public init(name: String, shape: [Int], doubles: [Double]) {
    precondition(shape.reduce(1, *) == doubles.count, "tensor \(name): shape \(shape) does not hold \(doubles.count) values")
    self.init(name: name, dtype: .float64, shape: shape, bytes: doubles.withUnsafeBytes { Array($0) })
  }

  public init(name: String, shape: [Int], int32: [Int32]) {
    precondition(shape.reduce(1, *) == int32.count, "tensor \(name): shape \(shape) does not hold \(int32.count) values")
    self.init(name: name, dtype: .int32, shape: shape, bytes: int32.withUnsafeBytes { Array($0) })
  }

  public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
    self.name = name
    self.dtype = dtype
    self.shape = shape
    self.bytes = bytes
  }
}
