import Foundation

/// Special functions behind the p-values of the module.
public enum SpecialFunctions {
  /// The regularised upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a), for a > 0 and x >= 0: the power
  /// series of P = 1 - Q below x = a + 1, where it converges fast, and the continued fraction of Q above it
  /// (evaluated by the modified Lentz method), where the series would need many terms and Q is small.
  public static func regularizedUpperGamma(_ a: Double, _ x: Double) -> Double {
    precondition(a > 0 && x >= 0, "regularizedUpperGamma needs a > 0 and x >= 0")
    if x == 0 { return 1 }
    let logPrefactor = -x + a * log(x) - lgamma(a)
    if x < a + 1 {
      var term = 1 / a
      var sum = term
      var n = 1.0
      while abs(term) > abs(sum) * 1e-17 && n < 10_000 {
        term *= x / (a + n)
        sum += term
        n += 1
      }
      return max(0, 1 - sum * exp(logPrefactor))
    }
    let tiny = 1e-300
    var b = x + 1 - a
    var c = 1 / tiny
    var d = 1 / b
    var h = d
    for i in 1...10_000 {
      let an = -Double(i) * (Double(i) - a)
      b += 2
      d = an * d + b
      if abs(d) < tiny { d = tiny }
      c = b + an / c
      if abs(c) < tiny { c = tiny }
      d = 1 / d
      let delta = d * c
      h *= delta
      if abs(delta - 1) < 1e-16 { break }
    }
    return exp(logPrefactor) * h
  }

  /// P(X >= x) for X chi-square distributed with `degreesOfFreedom` (scipy's `chi2.sf`).
  public static func chiSquareSurvival(_ x: Double, degreesOfFreedom k: Int) -> Double {
    x <= 0 ? 1 : regularizedUpperGamma(Double(k) / 2, x / 2)
  }

  /// log C(n, k).
  public static func logChoose(_ n: Int, _ k: Int) -> Double {
    lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
  }
}
