import JSONRPC

/// One finding of the audit: what depends on what, measured how, against which baseline, how sure, at which unit
/// of replication, in one sentence. The interval is always the interval of `metric` itself.
public struct AuditFinding: Codable, Sendable, Hashable {
  /// `spatial`, `edge-effect`, `density`, `nuisance`, `target-probe`, `confound-alert`, `explanation`, ...
  public var kind: String
  /// The audit stage that made it (its section of the report).
  public var stage: String
  /// What the measure depends on (`disease`, `plate`, `well position`, `edge`).
  public var covariate: String
  public var measure: Measure
  public var metric: Metric
  /// What the metric was compared with (a permuted baseline, chance, the interior of the plate).
  public var baseline: Baseline?
  /// The test's own p-value, before correction.
  public var pValue: Double?
  /// The p-value corrected over every test of the audit (see `correction`); significance is decided on it.
  public var pAdjusted: Double?
  /// How it was corrected: "Holm over 23 tests of this audit".
  public var correction: String?
  public var units: Units
  public var plates: [String]
  /// Structured evidence: per-fold values and each fold's composition, adjusted effects, and the like.
  public var evidence: JSONValue?
  /// Whether it reached significance at the audit's level after correction (for tests), or the alert applies.
  public var significant: Bool
  public var verdict: String

  /// The measurement or feature set the finding is about, and its role (`focus`, `density`, `hand features`).
  public struct Measure: Codable, Sendable, Hashable {
    public var name: String
    public var role: String
    public init(name: String, role: String) {
      self.name = name
      self.role = role
    }
  }

  /// A named value with the 95% interval of that same value (nil ends when no interval was computed).
  public struct Metric: Codable, Sendable, Hashable {
    public var name: String
    public var value: Double
    public var ciLow: Double?
    public var ciHigh: Double?
    public init(name: String, value: Double, ciLow: Double? = nil, ciHigh: Double? = nil) {
      self.name = name
      self.value = value
      self.ciLow = ciLow.flatMap { $0.isFinite ? $0 : nil }
      self.ciHigh = ciHigh.flatMap { $0.isFinite ? $0 : nil }
    }
  }

  /// The comparison value: its name, value and spread (the standard deviation of a permuted baseline).
  public struct Baseline: Codable, Sendable, Hashable {
    public var name: String
    public var value: Double
    public var spread: Double?
    public init(name: String, value: Double, spread: Double? = nil) {
      self.name = name
      self.value = value
      self.spread = spread.flatMap { $0.isFinite ? $0 : nil }
    }
  }

  /// The unit of replication and how many of them the test had.
  public struct Units: Codable, Sendable, Hashable {
    public var name: String
    public var count: Int
    public init(name: String, count: Int) {
      self.name = name
      self.count = count
    }
  }

  public init(kind: String, stage: String, covariate: String, measure: Measure, metric: Metric, baseline: Baseline? = nil,
              pValue: Double? = nil, units: Units, plates: [String], evidence: JSONValue? = nil,
              significant: Bool, verdict: String) {
    self.kind = kind
    self.stage = stage
    self.covariate = covariate
    self.measure = measure
    self.metric = metric
    self.baseline = baseline
    self.pValue = pValue.flatMap { $0.isFinite ? $0 : nil }
    self.units = units
    self.plates = plates
    self.evidence = evidence
    self.significant = significant
    self.verdict = verdict
  }
}
