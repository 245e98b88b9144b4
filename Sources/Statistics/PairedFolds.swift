extension CrossValidation {
  /// The disease-versus-healthy design's folds: each test fold holds exactly one healthy group and one disease
  /// group (cell line, donor), and neither appears in that fold's training rows.
  ///
  /// Healthy and disease groups are each shuffled with `seed`, then paired in order. With unequal numbers the
  /// shorter list is reused cyclically, so every group is tested at least once and there are
  /// `max(healthy, disease)` folds.
  /// - Parameters:
  ///   - groups: the group of each row.
  ///   - disease: for each row, whether its group is a disease group; must be constant within a group.
  public static func pairedFolds<G: Hashable & Comparable>(groups: [G], disease: [Bool], seed: UInt64) throws
    -> [Fold]
  {
    guard groups.count == disease.count else {
      throw StatisticsError.shape("pairedFolds: \(disease.count) disease flags for \(groups.count) group entries")
    }
    let (unique, inverse) = uniqueInverse(groups)
    var status = [Bool?](repeating: nil, count: unique.count)
    for (r, g) in inverse.enumerated() {
      if let s = status[g], s != disease[r] {
        throw StatisticsError.invalidArgument(
          "pairedFolds: group \(unique[g]) has both healthy and disease rows; a group must be one or the other")
      }
      status[g] = disease[r]
    }
    var healthy = unique.indices.filter { status[$0] == false }
    var sick = unique.indices.filter { status[$0] == true }
    guard !healthy.isEmpty, !sick.isEmpty, healthy.count + sick.count >= 3 else {
      throw StatisticsError.invalidArgument(
        "pairedFolds: need healthy and disease groups with at least 3 in total (found \(healthy.count) healthy, "
          + "\(sick.count) disease), or training would be empty")
    }
    var generator = SeededGenerator(seed: seed)
    generator.shuffle(&healthy)
    generator.shuffle(&sick)
    let count = max(healthy.count, sick.count)
    return (0..<count).map { i in
      let pair: Set = [healthy[i % healthy.count], sick[i % sick.count]]
      return Fold(testing: inverse.indices.filter { pair.contains(inverse[$0]) }, of: inverse.count)
    }
  }
}
