import Foundation

/// The NumPy dtypes `NPYArray` reads and writes (little-endian or byte-sized), by their `descr` string.
public enum NPYDType: String, Sendable, CaseIterable {
  case bool = "|b1"
  case uint8 = "|u1"
  case uint16 = "<u2"
  case uint32 = "<u4"
  case int32 = "<i4"
  case int64 = "<i8"
  case float32 = "<f4"
  case float64 = "<f8"

  /// Bytes per element.
  public var size: Int {
    switch self {
    case .bool, .uint8: 1
    case .uint16: 2
    case .uint32, .int32, .float32: 4
    case .int64, .float64: 8
    }
  }
}

/// A Swift number type that is the element type of one `NPYDType`.
public protocol NPYElement {
  static var npyDType: NPYDType { get }
}
extension UInt8: NPYElement { public static var npyDType: NPYDType { .uint8 } }
extension UInt16: NPYElement { public static var npyDType: NPYDType { .uint16 } }
extension UInt32: NPYElement { public static var npyDType: NPYDType { .uint32 } }
extension Int32: NPYElement { public static var npyDType: NPYDType { .int32 } }
extension Int64: NPYElement { public static var npyDType: NPYDType { .int64 } }
extension Float: NPYElement { public static var npyDType: NPYDType { .float32 } }
extension Double: NPYElement { public static var npyDType: NPYDType { .float64 } }
extension Bool: NPYElement { public static var npyDType: NPYDType { .bool } }

/// An n-dimensional NumPy array as stored in a `.npy` file (format 1.0 or 2.0, C order): shape, dtype and the
/// raw little-endian element bytes. Used for embeddings, model reference outputs and exports.
///
/// Invariant: `data.count == shape.reduce(1, *) * dtype.size`.
public struct NPYArray: Sendable, Equatable {
  /// Dimensions, outermost first; `[]` for a 0-d array (one element).
  public let shape: [Int]
  public let dtype: NPYDType
  /// The elements in C (row-major) order, little-endian.
  public let data: [UInt8]

  /// Wraps raw element bytes; `data.count` must match `shape` and `dtype` (a programming error otherwise).
  public init(shape: [Int], dtype: NPYDType, data: [UInt8]) {
    precondition(data.count == shape.reduce(1, *) * dtype.size, "\(data.count) bytes do not fit \(shape) \(dtype)")
    self.shape = shape
    self.dtype = dtype
    self.data = data
  }

  /// An array of `values` with `shape`; `values.count` must equal the product of `shape`.
  public init<T: NPYElement>(shape: [Int], values: [T]) {
    precondition(values.count == shape.reduce(1, *), "\(values.count) values do not fit shape \(shape)")
    // Every NPYElement is stored natively little-endian on the platforms Swift runs Confound on.
    let bytes = values.withUnsafeBytes { [UInt8]($0) }
    self.init(shape: shape, dtype: T.npyDType, data: bytes)
  }

  /// Number of elements.
  public var count: Int { shape.reduce(1, *) }

  /// The elements as `T`, which must be the array's own element type (no conversion).
  public func values<T: NPYElement>(as _: T.Type) -> [T]? {
    guard T.npyDType == dtype else { return nil }
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      // Empty arrays may have no base address; there is nothing to copy then.
      if let target = buffer.baseAddress {
        data.withUnsafeBytes { source in if let from = source.baseAddress { memcpy(target, from, data.count) } }
      }
      initialized = count
    }
  }

  /// The elements converted to `Float` (booleans as 0 and 1; 64-bit values rounded).
  public func floats() -> [Float] { converted { Float($0) } }

  /// The elements converted to `Double` (booleans as 0 and 1; int64 beyond 2^53 rounded).
  public func doubles() -> [Double] { converted { $0 } }

  private func converted<R>(_ transform: (Double) -> R) -> [R] {
    switch dtype {
    case .bool: return values(as: Bool.self)!.map { transform($0 ? 1 : 0) }
    case .uint8: return values(as: UInt8.self)!.map { transform(Double($0)) }
    case .uint16: return values(as: UInt16.self)!.map { transform(Double($0)) }
    case .uint32: return values(as: UInt32.self)!.map { transform(Double($0)) }
    case .int32: return values(as: Int32.self)!.map { transform(Double($0)) }
    case .int64: return values(as: Int64.self)!.map { transform(Double($0)) }
    case .float32: return values(as: Float.self)!.map { transform(Double($0)) }
    case .float64: return values(as: Double.self)!.map(transform)
    }
  }
}
