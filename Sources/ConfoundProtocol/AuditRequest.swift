import JSONRPC

/// `audit/run`: audits a screen end to end and writes `out/run.sqlite` and `out/findings.json`.
///
/// With no `screen`, a screen is simulated into `out/screen` first (seeded, with planted confounders), which is
/// the README's demo. A run killed at any point continues with `resume: true`, redoing only unfinished units.
public enum AuditRequest: RequestType {
  public static let method = "audit/run"
  /// The values `stages` may take: the audits that run one stage alone.
  public static let partialAudits = [["focus"], ["segment"]]

  public struct Params: Codable, Sendable {
    /// A CellProfiler LoadData CSV; absent: simulate one.
    public var screen: String?
    public var out: String
    public var resume: Bool?
    public var simulate: SimulateOptions?
    /// The per-site measure whose spatial pattern is tested (default: normalised Tenengrad of the first channel).
    public var focusMeasure: String?
    /// Run only these stages (`["focus"]`: focus measures, the spatial finding and the focus plate maps, as
    /// `confound focus SCREEN --out` does; `["segment"]`, as `confound segment` does); absent: every stage. Any
    /// other list is an invalid-params error (see `partialAudits`).
    public var stages: [String]?
    /// A defocus weights file from `confound focus train` for the focus plugin; absent: the shipped model.
    public var focusModel: String?
    public init(screen: String? = nil, out: String, resume: Bool? = nil, simulate: SimulateOptions? = nil, focusMeasure: String? = nil,
                stages: [String]? = nil, focusModel: String? = nil) {
      self.screen = screen
      self.out = out
      self.resume = resume
      self.simulate = simulate
      self.focusMeasure = focusMeasure
      self.stages = stages
      self.focusModel = focusModel
    }
  }

  /// The simulated screen, when no screen is given. Unset members take the simulator's defaults.
  public struct SimulateOptions: Codable, Sendable {
    public var seed: Int?
    public var plates: Int?
    public var batches: Int?
    public var wells: Int?
    public var sites: Int?
    public var channels: Int?
    public var size: Int?
    /// e.g. "focus-gradient:0.7,density:0.6" or "none".
    public var plant: String?
    public init(seed: Int? = nil, plates: Int? = nil, batches: Int? = nil, wells: Int? = nil, sites: Int? = nil,
                channels: Int? = nil, size: Int? = nil, plant: String? = nil) {
      self.seed = seed
      self.plates = plates
      self.batches = batches
      self.wells = wells
      self.sites = sites
      self.channels = channels
      self.size = size
      self.plant = plant
    }
  }

  public struct Response: Codable, Sendable {
    public var out: String
    public var plates: Int
    public var wells: Int
    public var sites: Int
    public var channels: [String]
    public var stages: [StageSummary]
    public var findings: [AuditFinding]
    /// Plain sentences for a terminal.
    public var summary: [String]
    public init(out: String, plates: Int, wells: Int, sites: Int, channels: [String], stages: [StageSummary],
                findings: [AuditFinding], summary: [String]) {
      self.out = out
      self.plates = plates
      self.wells = wells
      self.sites = sites
      self.channels = channels
      self.stages = stages
      self.findings = findings
      self.summary = summary
    }
  }

  /// How many units a stage computed now, found done from an earlier run, or failed (with the first reasons).
  public struct StageSummary: Codable, Sendable {
    public var name: String
    public var computed: Int
    public var resumed: Int
    public var failed: Int
    public var failures: [String]
    public var seconds: Double
    public init(name: String, computed: Int, resumed: Int, failed: Int, failures: [String], seconds: Double) {
      self.name = name
      self.computed = computed
      self.resumed = resumed
      self.failed = failed
      self.failures = failures
      self.seconds = seconds
    }
  }
}

/// One finding: what depends on what, how much, how sure, in one sentence.
public struct AuditFinding: Codable, Sendable, Hashable {
  public var kind: String
  public var covariate: String
  public var measure: String
  public var effect: Double
  public var ciLow: Double
  public var ciHigh: Double
  public var pValue: Double
  public var verdict: String
  public var plates: [String]
  public init(kind: String, covariate: String, measure: String, effect: Double, ciLow: Double, ciHigh: Double,
              pValue: Double, verdict: String, plates: [String]) {
    self.kind = kind
    self.covariate = covariate
    self.measure = measure
    self.effect = effect
    self.ciLow = ciLow
    self.ciHigh = ciHigh
    self.pValue = pValue
    self.verdict = verdict
    self.plates = plates
  }
}
