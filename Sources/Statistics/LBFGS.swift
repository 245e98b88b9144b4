/// Settings of the L-BFGS minimiser. Stopping rules follow SciPy's L-BFGS-B (as scikit-learn drives it), so that a
/// fit stops where scikit-learn's does: `max|g| <= gradientTolerance`, or a relative decrease of the objective
/// `(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= functionTolerance`, or `maxIterations`.
public struct LBFGSOptions: Sendable {
  /// Number of correction pairs kept (SciPy's `maxcor`, 10 in scikit-learn).
  public var memory = 10
  public var maxIterations = 100
  public var gradientTolerance = 1e-4
  public var functionTolerance = 64 * Double.ulpOfOne
  /// Function evaluations allowed per line search (scikit-learn passes 50).
  public var maxLineSearchEvaluations = 50
  /// Threads the objective may use; the minimiser itself is serial. `LogisticRegression` splits its rows among
  /// them, with the same result for any count.
  public var threads = 1

  public init(maxIterations: Int = 100, gradientTolerance: Double = 1e-4, threads: Int = 1) {
    self.maxIterations = maxIterations
    self.gradientTolerance = gradientTolerance
    self.threads = threads
  }
}

/// Why the minimiser stopped.
public enum LBFGSStop: Sendable, Equatable {
  case gradientTolerance, functionTolerance, maxIterations
  /// The line search found no point satisfying the Wolfe conditions (usually: at machine precision already).
  case lineSearchFailed
}

/// The minimiser's answer: the point, the objective there, iterations used and the stopping reason.
public struct LBFGSResult: Sendable {
  public var x: [Double]
  public var value: Double
  public var iterations: Int
  public var evaluations: Int
  public var stop: LBFGSStop
}

/// The objective: fills `gradient` (same count as `x`) and returns the value at `x`.
public typealias LBFGSObjective = (_ x: [Double], _ gradient: inout [Double]) -> Double

/// Minimises a smooth function by limited-memory BFGS (Nocedal & Wright, Algorithms 7.4 and 7.5) with a line
/// search satisfying the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9; Algorithms 3.5 and 3.6).
public func minimizeLBFGS(
  from start: [Double], options: LBFGSOptions = LBFGSOptions(), objective: @escaping LBFGSObjective
) -> LBFGSResult {
  let n = start.count
  var x = start
  var g = [Double](repeating: 0, count: n)
  var f = objective(x, &g)
  var evaluations = 1
  var history = CorrectionHistory(capacity: options.memory)
  var iteration = 0
  while true {
    if maxAbs(g) <= options.gradientTolerance {
      return LBFGSResult(x: x, value: f, iterations: iteration, evaluations: evaluations, stop: .gradientTolerance)
    }
    if iteration >= options.maxIterations {
      return LBFGSResult(x: x, value: f, iterations: iteration, evaluations: evaluations, stop: .maxIterations)
    }
    var d = history.direction(gradient: g)
    var slope = dot(g, d)
    if !(slope < 0) {  // Not a descent direction (curvature information went stale): restart from -g.
      history.clear()
      d = g.map { -$0 }
      slope = dot(g, d)
    }
    // The first step has no curvature scale; SciPy starts it at 1/||d||.
    let initial = history.isEmpty ? min(1, 1 / norm(d)) : 1
    var search = WolfeLineSearch(origin: x, value: f, gradient: g, direction: d, slope: slope,
                                 maxEvaluations: options.maxLineSearchEvaluations, objective: objective)
    let accepted = search.run(initialStep: initial)
    evaluations += search.evaluations
    guard let point = accepted, point.value <= f else {
      return LBFGSResult(x: x, value: f, iterations: iteration, evaluations: evaluations, stop: .lineSearchFailed)
    }
    iteration += 1
    var s = [Double](repeating: 0, count: n)
    var y = [Double](repeating: 0, count: n)
    for i in 0..<n {
      s[i] = point.x[i] - x[i]
      y[i] = point.gradient[i] - g[i]
    }
    history.push(s: s, y: y)
    let previous = f
    x = point.x
    f = point.value
    g = point.gradient
    if (previous - f) / max(abs(previous), abs(f), 1) <= options.functionTolerance {
      let stop: LBFGSStop = maxAbs(g) <= options.gradientTolerance ? .gradientTolerance : .functionTolerance
      return LBFGSResult(x: x, value: f, iterations: iteration, evaluations: evaluations, stop: stop)
    }
  }
}

/// The last `capacity` pairs (s, y) and the two-loop recursion that applies the inverse Hessian estimate.
struct CorrectionHistory {
  let capacity: Int
  private var pairs: [(s: [Double], y: [Double], rho: Double)] = []

  init(capacity: Int) { self.capacity = max(1, capacity) }

  var isEmpty: Bool { pairs.isEmpty }
  mutating func clear() { pairs.removeAll() }

  /// Keeps the pair only when the curvature condition s'y > 0 holds, which keeps the estimate positive definite.
  mutating func push(s: [Double], y: [Double]) {
    let sy = dot(s, y)
    guard sy > Double.ulpOfOne * dot(y, y) else { return }
    if pairs.count == capacity { pairs.removeFirst() }
    pairs.append((s, y, 1 / sy))
  }

  func direction(gradient g: [Double]) -> [Double] {
    var q = g
    var alphas = [Double](repeating: 0, count: pairs.count)
    for k in pairs.indices.reversed() {
      alphas[k] = pairs[k].rho * dot(pairs[k].s, q)
      axpy(-alphas[k], pairs[k].y, &q)
    }
    if let last = pairs.last {
      let gamma = dot(last.s, last.y) / dot(last.y, last.y)
      for i in q.indices { q[i] *= gamma }
    }
    for k in pairs.indices {
      let beta = pairs[k].rho * dot(pairs[k].y, q)
      axpy(alphas[k] - beta, pairs[k].s, &q)
    }
    for i in q.indices { q[i] = -q[i] }
    return q
  }
}

func dot(_ a: [Double], _ b: [Double]) -> Double {
  var sum = 0.0
  a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in for i in pa.indices { sum += pa[i] * pb[i] } } }
  return sum
}

func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

func maxAbs(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }

func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
  x.withUnsafeBufferPointer { px in
    y.withUnsafeMutableBufferPointer { py in for i in px.indices { py[i] += alpha * px[i] } }
  }
}
