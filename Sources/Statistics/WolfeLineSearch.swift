/// A point visited by the line search: step length, position, value and gradient there.
struct LinePoint {
  var step: Double
  var x: [Double]
  var value: Double
  var gradient: [Double]
  var slope: Double
}

/// Strong-Wolfe line search along `direction` (Nocedal & Wright, Algorithms 3.5 and 3.6): bracket a step that
/// satisfies f(a) <= f(0) + c1 a f'(0) and |f'(a)| <= c2 |f'(0)|, then shrink the bracket by safeguarded cubic
/// interpolation. Returns nil when no such step is found within `maxEvaluations`.
struct WolfeLineSearch {
  let origin: [Double]
  let value: Double
  let gradient: [Double]
  let direction: [Double]
  let slope: Double
  let maxEvaluations: Int
  let objective: LBFGSObjective
  let c1 = 1e-4
  let c2 = 0.9
  private(set) var evaluations = 0
  /// The lowest sufficient-decrease point seen, returned when the budget runs out before the curvature condition.
  private var fallback: LinePoint?

  init(origin: [Double], value: Double, gradient: [Double], direction: [Double], slope: Double,
       maxEvaluations: Int, objective: @escaping LBFGSObjective) {
    self.origin = origin
    self.value = value
    self.gradient = gradient
    self.direction = direction
    self.slope = slope
    self.maxEvaluations = maxEvaluations
    self.objective = objective
  }

  mutating func evaluate(_ step: Double) -> LinePoint {
    evaluations += 1
    var x = origin
    axpy(step, direction, &x)
    var g = [Double](repeating: 0, count: x.count)
    let f = objective(x, &g)
    let point = LinePoint(step: step, x: x, value: f, gradient: g, slope: dot(g, direction))
    if sufficientDecrease(point), point.value < (fallback?.value ?? value) { fallback = point }
    return point
  }

  func sufficientDecrease(_ p: LinePoint) -> Bool { p.value <= value + c1 * p.step * slope }
  func curvature(_ p: LinePoint) -> Bool { abs(p.slope) <= -c2 * slope }

  mutating func run(initialStep: Double) -> LinePoint? {
    var previous = LinePoint(step: 0, x: origin, value: value, gradient: gradient, slope: slope)
    var step = initialStep
    while evaluations < maxEvaluations {
      let p = evaluate(step)
      guard p.value.isFinite else {  // Overshot into overflow: come back halfway.
        step = (previous.step + step) / 2
        continue
      }
      if !sufficientDecrease(p) || (previous.step > 0 && p.value >= previous.value) {
        return zoom(low: previous, high: p)
      }
      if curvature(p) { return p }
      if p.slope >= 0 { return zoom(low: p, high: previous) }
      previous = p
      step *= 4
    }
    return fallback
  }

  /// Invariant: `low` satisfies sufficient decrease with the lowest value so far, and the slope at `low` points
  /// towards `high`, so the interval between them holds a strong-Wolfe step.
  mutating func zoom(low startLow: LinePoint, high startHigh: LinePoint) -> LinePoint? {
    var low = startLow
    var high = startHigh
    while evaluations < maxEvaluations {
      let width = abs(high.step - low.step)
      if width <= 1e-16 * max(1, abs(high.step)) { break }
      let lo = min(low.step, high.step)
      let hi = max(low.step, high.step)
      var step = cubicMinimizer(low, high) ?? (lo + hi) / 2
      // Keep the trial away from the ends so the bracket shrinks geometrically.
      step = min(max(step, lo + 0.1 * width), hi - 0.1 * width)
      let p = evaluate(step)
      if !p.value.isFinite || !sufficientDecrease(p) || p.value >= low.value {
        high = p
      } else {
        if curvature(p) { return p }
        if p.slope * (high.step - low.step) >= 0 { high = low }
        low = p
      }
    }
    return fallback
  }

  /// The minimiser of the cubic through two points with their values and slopes, or nil if it has none.
  func cubicMinimizer(_ a: LinePoint, _ b: LinePoint) -> Double? {
    let d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.step - b.step)
    let radicand = d1 * d1 - a.slope * b.slope
    guard radicand >= 0 else { return nil }
    let d2 = (b.step > a.step ? 1.0 : -1.0) * radicand.squareRoot()
    let t = b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2)
    return t.isFinite ? t : nil
  }
}
