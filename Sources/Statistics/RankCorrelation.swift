/// Spearman's rank correlation: Pearson's correlation of the ranks, ties given their average rank (SciPy's
/// `spearmanr`). NaN when either vector is constant (the correlation is undefined).
public func spearmanCorrelation(_ a: [Double], _ b: [Double]) -> Double {
  precondition(a.count == b.count, "\(a.count) and \(b.count) values")
  let (ra, rb) = (midRanks(a), midRanks(b))
  let mean = Double(a.count + 1) / 2
  var (sab, saa, sbb) = (0.0, 0.0, 0.0)
  for i in ra.indices {
    let (x, y) = (ra[i] - mean, rb[i] - mean)
    sab += x * y
    saa += x * x
    sbb += y * y
  }
  return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : .nan
}

/// 1-based ranks, each run of tied values given the mean of the ranks it spans.
public func midRanks(_ values: [Double]) -> [Double] {
  let order = values.indices.sorted { values[$0] < values[$1] }
  var ranks = [Double](repeating: 0, count: values.count)
  var start = 0
  while start < order.count {
    var end = start
    while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
    for k in start...end { ranks[order[k]] = Double(start + end) / 2 + 1 }
    start = end + 1
  }
  return ranks
}
