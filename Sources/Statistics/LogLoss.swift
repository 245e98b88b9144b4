import Foundation

/// The penalised mean log-loss of a linear model and its gradient, with the two matrix products on OpenBLAS.
///
/// Parameters are packed as `[W (features x outputs, row-major), b (outputs)]` so that `Z = X W` is one dgemm
/// and the gradient `X^T G` another. Scratch buffers live in the class so an evaluation allocates nothing large.
final class LogLoss {
  let x: FeatureMatrix
  let target: [Int]
  let outputs: Int
  /// scikit-learn's `l2_reg_strength = 1 / (C n)`, the penalty after dividing the objective by n.
  let l2: Double
  private var z: [Double]

  init(x: FeatureMatrix, target: [Int], classCount: Int, c: Double) {
    self.x = x
    self.target = target
    outputs = classCount == 2 ? 1 : classCount
    l2 = 1 / (c * Double(x.rows))
    z = [Double](repeating: 0, count: x.rows * outputs)
  }

  func evaluate(_ theta: [Double], gradient: inout [Double]) -> Double {
    let n = x.rows
    let d = x.columns
    let m = outputs
    var loss = 0.0
    theta.withUnsafeBufferPointer { pt in
      x.values.withUnsafeBufferPointer { px in
        z.withUnsafeMutableBufferPointer { pz in
          gemm(transposeA: false, transposeB: false, m: n, n: m, k: d, alpha: 1, a: px.baseAddress!, lda: d,
               b: pt.baseAddress!, ldb: m, beta: 0, c: pz.baseAddress!, ldc: m)
          let bias = pt.baseAddress! + d * m
          // Turn scores into residuals G = P - Y in place, summing the losses on the way.
          if m == 1 {
            for r in 0..<n { loss += binaryResidual(&pz[r], bias: bias[0], label: target[r]) }
          } else {
            for r in 0..<n { loss += softmaxResidual(pz.baseAddress! + r * m, m, bias: bias, label: target[r]) }
          }
        }
      }
    }
    let scale = 1 / Double(n)
    var penalty = 0.0
    for i in 0..<(d * m) { penalty += theta[i] * theta[i] }
    z.withUnsafeBufferPointer { pz in
      x.values.withUnsafeBufferPointer { px in
        gradient.withUnsafeMutableBufferPointer { pg in
          gemm(transposeA: true, transposeB: false, m: d, n: m, k: n, alpha: scale, a: px.baseAddress!, lda: d,
               b: pz.baseAddress!, ldb: m, beta: 0, c: pg.baseAddress!, ldc: m)
          for i in 0..<(d * m) { pg[i] += l2 * theta[i] }
          for k in 0..<m {
            var sum = 0.0
            for r in 0..<n { sum += pz[r * m + k] }
            pg[d * m + k] = sum * scale
          }
        }
      }
    }
    return loss * scale + 0.5 * l2 * penalty
  }
}

/// Log-loss of one row with one score; replaces the score by its residual sigmoid(z) - y.
@inline(__always) func binaryResidual(_ z: inout Double, bias: Double, label: Int) -> Double {
  let s = z + bias
  let y = Double(label)
  // log(1 + e^s) - y s, written to avoid overflow for large |s|.
  let loss = max(s, 0) + log1p(exp(-abs(s))) - y * s
  z = sigmoid(s) - y
  return loss
}

/// Log-loss of one row with `m` scores; replaces the scores by residuals softmax(z) - onehot(label).
@inline(__always) func softmaxResidual(_ z: UnsafeMutablePointer<Double>, _ m: Int, bias: UnsafePointer<Double>,
                                       label: Int) -> Double {
  var top = -Double.infinity
  for k in 0..<m {
    z[k] += bias[k]
    top = max(top, z[k])
  }
  var sum = 0.0
  for k in 0..<m { sum += exp(z[k] - top) }
  let logNormaliser = top + log(sum)
  let loss = logNormaliser - z[label]
  for k in 0..<m { z[k] = exp(z[k] - logNormaliser) }
  z[label] -= 1
  return loss
}
