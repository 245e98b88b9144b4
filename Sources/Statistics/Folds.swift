/// One cross-validation split: row indices to train on and row indices to test on, both ascending.
public struct Fold: Sendable, Equatable {
  public let train: [Int]
  public let test: [Int]

  /// The split that tests `testRows` and trains on every other row of `rowCount`.
  public init(testing testRows: [Int], of rowCount: Int) {
    let test = testRows.sorted()
    var inTest = [Bool](repeating: false, count: rowCount)
    for r in test { inTest[r] = true }
    self.test = test
    self.train = (0..<rowCount).filter { !inTest[$0] }
  }
}

/// Distinct values of `values` in ascending order and, for each row, the index of its value in that list
/// (numpy's `unique(..., return_inverse=True)`, which scikit-learn's splitters start from).
func uniqueInverse<G: Hashable & Comparable>(_ values: [G]) -> (unique: [G], inverse: [Int]) {
  let unique = Array(Set(values)).sorted()
  let position = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($1, $0) })
  return (unique, values.map { position[$0]! })
}

/// Folds whose test sets are whole groups, given the fold of each group.
func folds(groupFold: [Int], inverse: [Int], count: Int) -> [Fold] {
  (0..<count).map { k in Fold(testing: inverse.indices.filter { groupFold[inverse[$0]] == k }, of: inverse.count) }
}

/// Splitters whose test folds never share a group (cell line, plate, well, donor) with their training rows.
public enum CrossValidation {
  /// scikit-learn's `GroupKFold(n_splits: folds)` without shuffling: groups, largest first (ties: the later group
  /// in sorted order first, as numpy's reversed stable argsort), each go to the fold holding fewest rows so far
  /// (ties: the lowest fold). The folds are identical to scikit-learn's.
  public static func groupKFold<G: Hashable & Comparable>(groups: [G], folds count: Int) throws -> [Fold] {
    let (unique, inverse) = uniqueInverse(groups)
    guard count >= 2, count <= unique.count else {
      throw StatisticsError.invalidArgument(
        "groupKFold: \(count) folds need between 2 and the number of groups (\(unique.count))")
    }
    var size = [Int](repeating: 0, count: unique.count)
    for g in inverse { size[g] += 1 }
    // Stable ascending sort by size, then reversed: the order numpy's argsort(kind="stable")[::-1] gives.
    let order = Array(size.indices.sorted { size[$0] < size[$1] || (size[$0] == size[$1] && $0 < $1) }.reversed())
    var load = [Int](repeating: 0, count: count)
    var groupFold = [Int](repeating: 0, count: unique.count)
    for g in order {
      let lightest = load.indices.min { load[$0] < load[$1] }!
      load[lightest] += size[g]
      groupFold[g] = lightest
    }
    return folds(groupFold: groupFold, inverse: inverse, count: count)
  }

  /// scikit-learn's `LeaveOneGroupOut`: one fold per group, in ascending group order.
  public static func leaveOneGroupOut<G: Hashable & Comparable>(groups: [G]) throws -> [Fold] {
    let (unique, inverse) = uniqueInverse(groups)
    guard unique.count >= 2 else {
      throw StatisticsError.invalidArgument("leaveOneGroupOut: needs at least 2 groups, found \(unique.count)")
    }
    return folds(groupFold: Array(unique.indices), inverse: inverse, count: unique.count)
  }
}
