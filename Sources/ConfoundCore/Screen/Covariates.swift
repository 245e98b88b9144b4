import Foundation

/// Where in the screen a covariate varies: once per plate, per well, or per site.
public enum CovariateLevel: String, Codable, Sendable, CaseIterable {
  case plate, well, site
}

/// How a covariate's values compare: as labels, or as numbers.
public enum CovariateKind: String, Codable, Sendable {
  case categorical, numeric

  /// Numeric when every non-empty value parses as a finite number (and there is at least one), else categorical.
  /// An empty value is "missing", which does not decide the kind.
  public static func infer(_ values: some Sequence<String>) -> CovariateKind {
    var sawNumber = false
    for value in values where !value.isEmpty {
      guard let number = Double(value), number.isFinite else { return .categorical }
      sawNumber = true
    }
    return sawNumber ? .numeric : .categorical
  }
}

/// One open-ended covariate column found in a screen: its name, level, kind and distinct values.
///
/// The set of covariates is whatever the platemap or metadata holds; nothing here lists them in advance.
public struct CovariateColumn: Codable, Sendable, Hashable {
  public let name: String
  public let level: CovariateLevel
  public let kind: CovariateKind
  /// Distinct non-empty values, sorted (numerically for numeric columns).
  public let values: [String]

  public init(name: String, level: CovariateLevel, values: some Sequence<String>) {
    self.name = name
    self.level = level
    let distinct = Set(values.filter { !$0.isEmpty })
    kind = CovariateKind.infer(distinct)
    self.values =
      kind == .numeric
      ? distinct.sorted { Double($0)! < Double($1)! }
      : distinct.sorted()
  }
}

/// A covariate value with its inferred kind, for callers that compute on it.
public enum CovariateValue: Hashable, Sendable {
  case category(String)
  case number(Double)
  case missing

  public init(_ raw: String?, kind: CovariateKind) {
    guard let raw, !raw.isEmpty else {
      self = .missing
      return
    }
    if kind == .numeric, let number = Double(raw) { self = .number(number) } else { self = .category(raw) }
  }
}
