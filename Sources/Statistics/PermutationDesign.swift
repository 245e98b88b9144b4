import Foundation

/// Who may swap labels with whom in a permutation test: rows belong to units of replication (wells, plates, cell
/// lines), every row of a unit shares the unit's label, and labels move between whole units, optionally only
/// within strata (batches, plates). Permuting rows instead of units would treat the sites of one well as
/// independent replicates and make p-values far too small.
public struct PermutationDesign: Sendable {
  /// For each row, the index of its unit.
  public let unitOfRow: [Int]
  /// The label of each unit.
  public let unitLabels: [Int]
  /// The units of each stratum; labels are only exchanged inside one of these lists.
  public let strata: [[Int]]

  /// - Parameters:
  ///   - units: the unit of each row; `labels`: the label of each row (constant within a unit).
  ///   - strata: optional stratum of each row (constant within a unit); nil means one stratum.
  public init<U: Hashable & Comparable>(units: [U], labels: [Int], strata: [String]? = nil) throws {
    guard units.count == labels.count, strata.map({ $0.count == units.count }) ?? true else {
      throw StatisticsError.shape("PermutationDesign: units, labels and strata must have one entry per row")
    }
    let (unique, inverse) = uniqueInverse(units)
    var label = [Int?](repeating: nil, count: unique.count)
    var stratum = [String?](repeating: nil, count: unique.count)
    for (r, u) in inverse.enumerated() {
      let s = strata?[r] ?? ""
      if let l = label[u], l != labels[r] {
        throw StatisticsError.invalidArgument(
          "PermutationDesign: unit \(unique[u]) has rows labelled \(l) and \(labels[r]); labels belong to units")
      }
      if let t = stratum[u], t != s {
        throw StatisticsError.invalidArgument("PermutationDesign: unit \(unique[u]) lies in strata \(t) and \(s)")
      }
      label[u] = labels[r]
      stratum[u] = s
    }
    unitOfRow = inverse
    unitLabels = label.map { $0! }
    let byStratum = Dictionary(grouping: unique.indices, by: { stratum[$0]! })
    self.strata = byStratum.keys.sorted().map { byStratum[$0]! }
  }

  /// log of the number of distinct label arrangements: per stratum the multinomial coefficient
  /// n! / prod(n_label!), multiplied over strata.
  public var logDistinctArrangements: Double {
    strata.reduce(0) { total, members in
      let counts = Dictionary(grouping: members, by: { unitLabels[$0] }).values.map(\.count)
      return total + lgamma(Double(members.count + 1)) - counts.reduce(0) { $0 + lgamma(Double($1 + 1)) }
    }
  }

  /// The number of distinct label arrangements (rounded; huge designs give huge or infinite values).
  public var distinctArrangements: Double { exp(logDistinctArrangements).rounded() }

  /// The smallest p-value the design can produce: one over the number of distinct arrangements, since the
  /// observed arrangement always counts. Three wells on a plate, one treated, give 1/3: p < 0.05 is unattainable.
  public var smallestAttainablePValue: Double { exp(-logDistinctArrangements) }

  /// Row labels when unit `u` carries `labels[u]`.
  public func rowLabels(_ labels: [Int]) -> [Int] { unitOfRow.map { labels[$0] } }
}
