extension CrossValidation {
  /// scikit-learn's `StratifiedGroupKFold(n_splits: folds)` without shuffling: groups in decreasing order of the
  /// spread of their class counts go, one by one, to the fold that keeps the per-class fold fractions most even
  /// (mean over classes of the standard deviation across folds); near-ties (numpy's `isclose`) go to the fold
  /// with fewer rows. Matches scikit-learn's folds.
  public static func stratifiedGroupKFold<G: Hashable & Comparable>(labels: [Int], groups: [G], folds count: Int)
    throws -> [Fold]
  {
    guard labels.count == groups.count else {
      throw StatisticsError.shape("stratifiedGroupKFold: \(labels.count) labels for \(groups.count) group entries")
    }
    let (classes, classOf) = uniqueInverse(labels)
    let (unique, inverse) = uniqueInverse(groups)
    guard count >= 2, count <= unique.count else {
      throw StatisticsError.invalidArgument(
        "stratifiedGroupKFold: \(count) folds need between 2 and the number of groups (\(unique.count))")
    }
    let k = classes.count
    var perGroup = [[Double]](repeating: [Double](repeating: 0, count: k), count: unique.count)
    var classTotal = [Double](repeating: 0, count: k)
    for (r, g) in inverse.enumerated() {
      perGroup[g][classOf[r]] += 1
      classTotal[classOf[r]] += 1
    }
    let spread = perGroup.map { -populationStandardDeviation($0) }
    let order = perGroup.indices.sorted { spread[$0] < spread[$1] || (spread[$0] == spread[$1] && $0 < $1) }
    var perFold = [[Double]](repeating: [Double](repeating: 0, count: k), count: count)
    var groupFold = [Int](repeating: 0, count: unique.count)
    for g in order {
      let best = bestFold(perFold: perFold, classTotal: classTotal, adding: perGroup[g])
      for c in 0..<k { perFold[best][c] += perGroup[g][c] }
      groupFold[g] = best
    }
    return folds(groupFold: groupFold, inverse: inverse, count: count)
  }

  /// The fold whose taking `counts` leaves the class fractions most even across folds.
  static func bestFold(perFold: [[Double]], classTotal: [Double], adding counts: [Double]) -> Int {
    var best = 0
    var minEval = Double.infinity
    var minRows = Double.infinity
    for i in perFold.indices {
      var evaluation = 0.0
      for c in classTotal.indices {
        let fractions = perFold.indices.map { f in (perFold[f][c] + (f == i ? counts[c] : 0)) / classTotal[c] }
        evaluation += populationStandardDeviation(fractions)
      }
      evaluation /= Double(classTotal.count)
      let rows = perFold[i].reduce(0, +)
      let close = abs(evaluation - minEval) <= 1e-8 + 1e-5 * abs(minEval)  // numpy.isclose defaults
      if evaluation < minEval || (close && rows < minRows) {
        best = i
        minEval = evaluation
        minRows = rows
      }
    }
    return best
  }
}

/// Standard deviation with divisor n (numpy's `std` default).
func populationStandardDeviation(_ x: [Double]) -> Double {
  let mean = x.reduce(0, +) / Double(x.count)
  return (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)).squareRoot()
}
