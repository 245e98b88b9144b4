import COpenBLAS

/// Gemm: `alpha * A' * B' + beta * C`, A' = transA ? Aᵀ : A (likewise B'), C broadcast to `[M, N]`.
func gemm(_ inputs: [Tensor], alpha: Float, beta: Float, transA: Bool, transB: Bool) throws -> Tensor {
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
  var out = Tensor(shape: [m, n], repeating: 0)
  var cWeight: Float = 0
  if inputs.count > 2 && beta != 0 {
    out = try binary(out, inputs[2], +)
    guard out.shape == [m, n] else {
      throw ShapeError("C \(describe(shape: inputs[2].shape)) does not broadcast to [\(m),\(n)]")
    }
    cWeight = beta
  }
  a.data.withUnsafeBufferPointer { pa in
    b.data.withUnsafeBufferPointer { pb in
      out.data.withUnsafeMutableBufferPointer { pc in
        cblas_sgemm(
          CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
          Int32(m), Int32(n), Int32(k), alpha, pa.baseAddress, Int32(a.shape[1]), pb.baseAddress, Int32(b.shape[1]),
          cWeight, pc.baseAddress, Int32(n))
      }
    }
  }
  return out
}

/// MatMul with numpy semantics: 1-D operands are promoted and the added axis removed; leading (batch) axes
/// broadcast.
func matMul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
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
  let count = batch.reduce(1, *)
  // Which matrix of A and of B each output matrix uses, by broadcasting matrix indices.
  let indexA = try binary(Tensor(shape: batch, repeating: 0), indexTensor(batchA), +).data.map { Int($0) }
  let indexB = try binary(Tensor(shape: batch, repeating: 0), indexTensor(batchB), +).data.map { Int($0) }
  var shape = batch + [m, n]
  let out = a.data.withUnsafeBufferPointer { pa in
    b.data.withUnsafeBufferPointer { pb in
      Tensor(shape: shape) { pc in
        for i in 0..<count {
          cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
            pa.baseAddress! + indexA[i] * m * k, Int32(k), pb.baseAddress! + indexB[i] * k * n, Int32(n),
            0, pc.baseAddress! + i * m * n, Int32(n))
        }
      }
    }
  }
  if a.shape.count == 1 { shape.remove(at: shape.count - 2) }
  if b.shape.count == 1 { shape.removeLast() }
  return Tensor(shape: shape, data: out.data)
}

/// A tensor whose elements are their own flat indices (exact in Float for the small counts of batch axes).
private func indexTensor(_ shape: [Int]) -> Tensor {
  Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map(Float.init))
}
