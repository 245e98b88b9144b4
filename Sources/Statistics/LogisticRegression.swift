import Foundation

/// L2-regularised logistic regression with an unpenalised intercept, fitted by L-BFGS.
///
/// The objective is scikit-learn's `LogisticRegression(solver="lbfgs", C=C)`: the sum of log-losses plus
/// `||W||^2 / (2C)`, minimised (like scikit-learn) after division by the number of rows, which changes the scale
/// of the gradient tolerance but not the solution. Two classes use one coefficient vector (sigmoid); more use one
/// vector per class (softmax, "multinomial"), with intercepts summing to zero.
public struct LogisticRegression: Sendable {
  /// The distinct labels seen in training, ascending; column `k` of `probabilities` belongs to `classes[k]`.
  public let classes: [Int]
  /// Coefficients as scikit-learn's `coef_`: one row per output (1 for binary, else one per class), one column
  /// per feature.
  public let coefficients: FeatureMatrix
  /// scikit-learn's `intercept_`: one per row of `coefficients`.
  public let intercepts: [Double]
  /// How the minimiser ended (iterations, stopping reason, final objective divided by the row count).
  public let optimisation: LBFGSResult

  /// Fits on `features` (one row per observation) and integer `labels`.
  /// - Parameters:
  ///   - c: inverse regularisation strength, as scikit-learn's `C`.
  ///   - options: defaults to scikit-learn's `max_iter=100, tol=1e-4`, on one thread.
  public static func fit(features x: FeatureMatrix, labels: [Int], c: Double = 1,
                         options: LBFGSOptions = LBFGSOptions()) throws -> LogisticRegression {
    guard labels.count == x.rows else {
      throw StatisticsError.shape("LogisticRegression.fit: \(labels.count) labels for \(x.rows) feature rows")
    }
    guard c > 0, c.isFinite else { throw StatisticsError.invalidArgument("LogisticRegression.fit: C must be > 0") }
    guard x.values.allSatisfy(\.isFinite) else {
      throw StatisticsError.numerical("LogisticRegression.fit: features contain NaN or infinity; impute them first")
    }
    let classes = Array(Set(labels)).sorted()
    guard classes.count >= 2 else {
      throw StatisticsError.invalidArgument(
        "LogisticRegression.fit: labels hold \(classes.count) class; need 2 or more")
    }
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    let loss = LogLoss(x: x, target: labels.map { index[$0]! }, classCount: classes.count, c: c,
                       threads: options.threads)
    let outputs = loss.outputs
    let result = minimizeLBFGS(from: [Double](repeating: 0, count: (x.columns + 1) * outputs), options: options) {
      loss.evaluate($0, gradient: &$1)
    }
    var coef = FeatureMatrix(zeros: outputs, x.columns)
    for j in 0..<x.columns { for k in 0..<outputs { coef[k, j] = result.x[j * outputs + k] } }
    var intercepts = Array(result.x[(x.columns * outputs)...])
    if outputs > 1 {  // Only differences of intercepts are identified; report the zero-sum representative.
      let mean = intercepts.reduce(0, +) / Double(outputs)
      intercepts = intercepts.map { $0 - mean }
    }
    return LogisticRegression(classes: classes, coefficients: coef, intercepts: intercepts, optimisation: result)
  }

  /// Linear scores `X coef^T + intercept`, one column per output (scikit-learn's `decision_function`).
  public func decisionFunction(_ x: FeatureMatrix) throws -> FeatureMatrix {
    guard x.columns == coefficients.columns else {
      throw StatisticsError.shape(
        "LogisticRegression: model has \(coefficients.columns) features, rows have \(x.columns)")
    }
    let outputs = coefficients.rows
    var z = FeatureMatrix(zeros: x.rows, outputs)
    x.values.withUnsafeBufferPointer { px in
      coefficients.values.withUnsafeBufferPointer { pw in
        z.values.withUnsafeMutableBufferPointer { pz in
          gemm(transposeA: false, transposeB: true, m: x.rows, n: outputs, k: x.columns, alpha: 1,
               a: px.baseAddress!, lda: x.columns, b: pw.baseAddress!, ldb: x.columns,
               beta: 0, c: pz.baseAddress!, ldc: outputs)
          for r in 0..<x.rows { for k in 0..<outputs { pz[r * outputs + k] += intercepts[k] } }
        }
      }
    }
    return z
  }

  /// Class probabilities, one column per entry of `classes` (scikit-learn's `predict_proba`).
  public func probabilities(_ x: FeatureMatrix) throws -> FeatureMatrix {
    try probabilities(decision: try decisionFunction(x))
  }

  /// Class probabilities from linear scores `z` (one column per output, as `decisionFunction` gives): the sigmoid
  /// for two classes, the softmax for more. Partial dependence moves one feature's term of `z` without refitting.
  public func probabilities(decision z: FeatureMatrix) throws -> FeatureMatrix {
    guard z.columns == coefficients.rows else {
      throw StatisticsError.shape("LogisticRegression: \(z.columns) decision columns for \(coefficients.rows) outputs")
    }
    var p = FeatureMatrix(zeros: z.rows, classes.count)
    for r in 0..<z.rows {
      if z.columns == 1 {
        let q = sigmoid(z[r, 0])
        p[r, 0] = 1 - q
        p[r, 1] = q
      } else {
        let m = (0..<z.columns).map { z[r, $0] }.max()!
        var sum = 0.0
        for k in 0..<z.columns { sum += exp(z[r, k] - m) }
        for k in 0..<z.columns { p[r, k] = exp(z[r, k] - m) / sum }
      }
    }
    return p
  }

  /// The most probable class of each row (ties go to the first class, as numpy's argmax).
  public func predict(_ x: FeatureMatrix) throws -> [Int] {
    let p = try probabilities(x)
    return (0..<p.rows).map { r in
      var best = 0
      for k in 1..<p.columns where p[r, k] > p[r, best] { best = k }
      return classes[best]
    }
  }
}

@inline(__always) func sigmoid(_ z: Double) -> Double {
  z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
}
