/// An identity (a cell line, a well, a site) found on both sides of one fold: the model can score well by
/// recognising it instead of learning the biology.
public struct Leak: Sendable, Equatable, CustomStringConvertible {
  public let fold: Int
  /// The identity column's name, e.g. "cell line".
  public let column: String
  public let identity: String
  /// Rows holding the identity on each side of the fold.
  public let trainRows: Int
  public let testRows: Int

  public var description: String {
    "fold \(fold): \(column) \"\(identity)\" is in training (\(trainRows) rows) and test (\(testRows) rows)"
  }
}

extension CrossValidation {
  /// Every identity that appears in both the training and the test rows of some fold, for each named identity
  /// column (`["cell line": ..., "well": ..., "site": ...]`, one entry per row). Empty means no leak. Results are
  /// ordered by fold, then column name, then identity. Pass globally unique identities (for example
  /// "plate/well" rather than "A01") where a bare name repeats across plates.
  public static func leakageLint(folds: [Fold], identities: [String: [String]]) throws -> [Leak] {
    var leaks: [Leak] = []
    for (f, fold) in folds.enumerated() {
      for column in identities.keys.sorted() {
        let values = identities[column]!
        guard (fold.train + fold.test).allSatisfy({ $0 >= 0 && $0 < values.count }) else {
          throw StatisticsError.shape("leakageLint: fold \(f) names rows beyond the \(values.count) of \(column)")
        }
        var trainCount: [String: Int] = [:]
        for r in fold.train { trainCount[values[r], default: 0] += 1 }
        var testCount: [String: Int] = [:]
        for r in fold.test { testCount[values[r], default: 0] += 1 }
        for (identity, n) in testCount.sorted(by: { $0.key < $1.key }) {
          if let m = trainCount[identity] {
            leaks.append(Leak(fold: f, column: column, identity: identity, trainRows: m, testRows: n))
          }
        }
      }
    }
    return leaks
  }
}
