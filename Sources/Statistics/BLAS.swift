import COpenBLAS

/// C = alpha * op(A) * op(B) + beta * C for row-major buffers, through OpenBLAS. `m x k` times `k x n`.
/// Leading dimensions are the stored row lengths, so a transposed operand passes its own column count.
func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
          a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
          beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
  cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
              blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
}

/// The number of threads OpenBLAS uses for every call in the process. Set it once, from an executable
/// (the style guide keeps globals there); exposed here so tools and benchmarks need not import COpenBLAS.
public enum BLASThreads {
  public static var count: Int { Int(openblas_get_num_threads()) }
  public static func set(_ count: Int) { openblas_set_num_threads(Int32(count)) }
}
