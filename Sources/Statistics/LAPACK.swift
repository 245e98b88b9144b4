#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// LAPACK's `dsyevd` (eigen-decomposition of a symmetric matrix, divide and conquer) as exported by OpenBLAS,
/// which bundles LAPACK on Debian but ships no `lapacke.h`. The Fortran symbol is looked up at run time and called
/// through a C function pointer, so the calling convention is the platform's C one: every argument by
/// reference, 32-bit integers (LP64 OpenBLAS) and the two hidden lengths of the character arguments at the end.
enum LAPACK {
  typealias SymmetricEigen = @convention(c) (
    UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafePointer<Int32>, UnsafeMutablePointer<Double>,
    UnsafePointer<Int32>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafePointer<Int32>,
    UnsafeMutablePointer<Int32>, UnsafePointer<Int32>, UnsafeMutablePointer<Int32>, Int, Int
  ) -> Void

  /// `dsyevd_` from the process (OpenBLAS is linked through COpenBLAS), or nil when this OpenBLAS lacks LAPACK.
  static let dsyevd: SymmetricEigen? = {
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "dsyevd_") else { return nil }
    return unsafeBitCast(symbol, to: SymmetricEigen.self)
  }()

  /// Eigenvalues (ascending) and eigenvectors of the symmetric `n x n` matrix `a`; on return `a` holds the
  /// eigenvectors, eigenvector k in `a[k * n ..< (k + 1) * n]` (a symmetric input reads the same in either
  /// storage order; the output is column-major, so each vector is contiguous).
  static func symmetricEigen(_ a: inout [Double], n: Int) throws -> [Double] {
    guard let dsyevd else {
      throw StatisticsError.numerical("PCA: this OpenBLAS exports no LAPACK dsyevd_; install Debian's libopenblas0")
    }
    var values = [Double](repeating: 0, count: n)
    var size = Int32(n)
    var info: Int32 = 0
    var workSize = 0.0
    var iworkSize: Int32 = 0
    var query: Int32 = -1
    let v = Int8(UInt8(ascii: "V"))
    let u = Int8(UInt8(ascii: "U"))
    var jobz = v
    var uplo = u
    dsyevd(&jobz, &uplo, &size, &a, &size, &values, &workSize, &query, &iworkSize, &query, &info, 1, 1)
    var lwork = Int32(workSize)
    var liwork = iworkSize
    var work = [Double](repeating: 0, count: Int(lwork))
    var iwork = [Int32](repeating: 0, count: Int(liwork))
    dsyevd(&jobz, &uplo, &size, &a, &size, &values, &work, &lwork, &iwork, &liwork, &info, 1, 1)
    guard info == 0 else { throw StatisticsError.numerical("PCA: LAPACK dsyevd failed with info = \(info)") }
    return values
  }
}
