import COpenBLAS
import Foundation

/// The floating-point types the gradient engine runs in: `Float` for speed (the forward pass then uses the same
/// kernels as `Network.run`), `Double` for checks (finite differences of a float32 network are too noisy to check
/// a gradient against; a float64 evaluation of the same graph agrees with itself to about 1e-8).
public protocol NetworkScalar: BinaryFloatingPoint, Sendable {
  /// `C = alpha * op(A) * op(B) + beta * C`, row-major, through OpenBLAS (sgemm or dgemm).
  static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
    b: UnsafePointer<Self>, ldb: Int, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
  /// `1 / (1 + e^-x)`.
  static func logistic(_ x: Self) -> Self
}

extension Float: NetworkScalar {
  public static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
      Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
  public static func logistic(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
}

extension Double: NetworkScalar {
  public static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
    b: UnsafePointer<Double>, ldb: Int, beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    cblas_dgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
      Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
  public static func logistic(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
}

/// A dense tensor of either precision, row-major, 4-D activations NCHW: what a `Tape` records and returns.
///
/// Invariant: `data.count == shape.reduce(1, *)`.
public struct TensorOf<Scalar: NetworkScalar>: Sendable, Equatable {
  public var shape: [Int]
  public var data: [Scalar]

  public init(shape: [Int], data: [Scalar]) {
    precondition(data.count == shape.reduce(1, *), "\(data.count) elements do not fill shape \(shape)")
    self.shape = shape
    self.data = data
  }

  /// A tensor of `shape` filled with `value`.
  public init(shape: [Int], repeating value: Scalar = 0) {
    self.init(shape: shape, data: [Scalar](repeating: value, count: shape.reduce(1, *)))
  }

  /// The same values in this precision (rounded when narrowing).
  public init<Other: NetworkScalar>(converting other: TensorOf<Other>) {
    self.init(shape: other.shape, data: other.data.map { Scalar($0) })
  }

  /// A float32 `Tensor`'s values in this precision.
  public init(_ tensor: Tensor) {
    self.init(
      shape: tensor.shape,
      data: Scalar.self == Float.self ? unsafeBitCast(tensor.data, to: [Scalar].self) : tensor.data.map { Scalar($0) })
  }

  public var count: Int { data.count }
}

extension Tensor {
  /// The values of a tensor of either precision as float32.
  public init<Scalar: NetworkScalar>(_ tensor: TensorOf<Scalar>) {
    self.init(
      shape: tensor.shape,
      data: Scalar.self == Float.self ? unsafeBitCast(tensor.data, to: [Float].self) : tensor.data.map { Float($0) })
  }
}
