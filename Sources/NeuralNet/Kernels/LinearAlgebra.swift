/// Gemm: `alpha * A' * B' + beta * C`, A' = transA ? Aᵀ : A (likewise B'), C broadcast to `[M, N]`.
@_specialize(where T == Float)
@_specialize(where T == Double)
func gemm<T: NetworkScalar>(_ inputs: [TensorOf<T>], alpha: Float, beta: Float, transA: Bool, transB: Bool) throws
  -> TensorOf<T>
{
  guard inputs.count >= 2 else { throw ShapeError("needs inputs A and B") }
  let a = inputs[0]
  let b = inputs[1]
  guard a.shape.count == 2, b.shape.count == 2 else {
    throw ShapeError("expects 2-D A and B, received \(describe(shape: a.shape)) and \(describe(shape: b.shape))")
  }
  let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
  let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
  guard k == kb else {
    throw ShapeError(
      "inner dimensions differ: A \(describe(shape: a.shape)) transA=\(transA), "
        + "B \(describe(shape: b.shape)) transB=\(transB)"
    )
  }
  var out = TensorOf<T>(shape: [m, n], repeating: 0)
  var cWeight: T = 0
  if inputs.count > 2 && beta != 0 {
    out = try binary(out, inputs[2], +)
    guard out.shape == [m, n] else {
      throw ShapeError("C \(describe(shape: inputs[2].shape)) does not broadcast to [\(m),\(n)]")
    }
    cWeight = T(beta)
  }
  a.data.withUnsafeBufferPointer { pa in
    b.data.withUnsafeBufferPointer { pb in
      out.data.withUnsafeMutableBufferPointer { pc in
        T.gemm(
          transA: transA, transB: transB, m: m, n: n, k: k, alpha: T(alpha), a: pa.baseAddress!, lda: a.shape[1],
          b: pb.baseAddress!, ldb: b.shape[1], beta: cWeight, c: pc.baseAddress!, ldc: n)
      }
    }
  }
  return out
}

/// MatMul with numpy semantics: 1-D operands are promoted and the added axis removed; leading (batch) axes
/// broadcast.
@_specialize(where T == Float)
@_specialize(where T == Double)
func matMul<T: NetworkScalar>(_ a: TensorOf<T>, _ b: TensorOf<T>) throws -> TensorOf<T> {
  guard !a.shape.isEmpty, !b.shape.isEmpty else { throw ShapeError("MatMul does not take scalars") }
  let sa = a.shape.count == 1 ? [1, a.shape[0]] : a.shape
  let sb = b.shape.count == 1 ? [b.shape[0], 1] : b.shape
  let (m, k) = (sa[sa.count - 2], sa[sa.count - 1])
  let (kb, n) = (sb[sb.count - 2], sb[sb.count - 1])
  guard k == kb else {
    throw ShapeError("inner dimensions differ: \(describe(shape: a.shape)) x \(describe(shape: b.shape))")
  }
  let batchA = Array(sa.dropLast(2))
  let batchB = Array(sb.dropLast(2))
  guard let batch = broadcastShape(batchA, batchB) else {
    throw ShapeError("batch axes do not broadcast: \(describe(shape: a.shape)) x \(describe(shape: b.shape))")
  }
  let (indexA, indexB) = try matrixPairs(batchA, batchB, batch)
  var shape = batch + [m, n]
  var out = TensorOf<T>(shape: shape)
  a.data.withUnsafeBufferPointer { pa in
    b.data.withUnsafeBufferPointer { pb in
      out.data.withUnsafeMutableBufferPointer { pc in
        for i in indexA.indices {
          T.gemm(
            transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress! + indexA[i] * m * k, lda: k,
            b: pb.baseAddress! + indexB[i] * k * n, ldb: n, beta: 0, c: pc.baseAddress! + i * m * n, ldc: n)
        }
      }
    }
  }
  if a.shape.count == 1 { shape.remove(at: shape.count - 2) }
  if b.shape.count == 1 { shape.removeLast() }
  return TensorOf(shape: shape, data: out.data)
}

/// Which matrix of A and of B each output matrix of a batched MatMul uses, by broadcasting matrix indices.
func matrixPairs(_ batchA: [Int], _ batchB: [Int], _ batch: [Int]) throws -> ([Int], [Int]) {
  let count = batch.reduce(1, *)
  var indexA = [Int](repeating: 0, count: count)
  var indexB = [Int](repeating: 0, count: count)
  forEachBroadcast(batchA, batchB, batch) { o, i, j in (indexA[o], indexB[o]) = (i, j) }
  return (indexA, indexB)
}
