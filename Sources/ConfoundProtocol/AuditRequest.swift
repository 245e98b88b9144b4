import JSONRPC

/// `audit/run`: audits a screen end to end and writes `out/run.sqlite` and `out/findings.json`.
///
/// The screen is a CellProfiler LoadData CSV, a folder of images (with `template`, or a folder written by
/// `screen/simulate`, recognised by its `load_data.csv`), or a profiles table with no pixels (a per-site
/// CellProfiler `Image.csv`, pycytominer per-well profiles, a CellProfiler / cytominer-database SQLite). With no
/// `screen`, a screen is simulated into `out/screen` first (seeded, with planted confounders): the README's demo.
/// A run killed at any point continues with `resume: true`, redoing only unfinished units.
public enum AuditRequest: RequestType {
  public static let method = "audit/run"
  /// The audit's stages in the order they run: the names `stages` takes (the host's plan is tested to match).
  public static let stageNames = [
    "import", "design", "focus", "segment", "embed", "spatial", "density", "edge", "nuisance", "target", "supervised", "explain",
    "projection",
  ]

  public struct Params: Codable, Sendable {
    /// A LoadData CSV, a folder, or a profiles table; absent: simulate one.
    public var screen: String?
    public var out: String
    public var resume: Bool?
    public var simulate: SimulateOptions?
    /// The per-site measure whose spatial pattern is tested (default: normalised Tenengrad of the first channel).
    public var focusMeasure: String?
    /// Run only these stages, in the audit's order (`stageNames`); each stage's needs must be met by an
    /// earlier stage in the list or by the store of a resumed run. Absent: every stage that applies.
    public var stages: [String]?
    /// A defocus weights file from `confound focus train` for the focus plugin; absent: the shipped model.
    public var focusModel: String?
    /// For a folder of images: a file-name template or preset, as `screen/check` takes it.
    public var template: String?
    /// A platemap (well -> covariates) to join, as `screen/check` takes it.
    public var platemap: String?
    /// A barcode -> platemap table (Broad style); default: `barcode_platemap.csv` beside a LoadData CSV.
    public var barcodePlatemap: String?
    /// The study design in the lab's words (column names of the screen); unset members are inferred.
    public var design: DesignParams?
    /// A design file (TOML or JSON) with the same members as `design`; `design` overrides it member by member.
    public var designFile: String?
    /// Audit only these plates (per-site stages), for sharding a screen over machines.
    public var plates: [String]?
    /// "K/N": shard K (1-based) of N; the plates, sorted by name, dealt to the shards in turn.
    public var shard: String?

    public init(screen: String? = nil, out: String, resume: Bool? = nil, simulate: SimulateOptions? = nil,
                focusMeasure: String? = nil, stages: [String]? = nil, focusModel: String? = nil,
                template: String? = nil, platemap: String? = nil, barcodePlatemap: String? = nil,
                design: DesignParams? = nil, designFile: String? = nil, plates: [String]? = nil,
                shard: String? = nil) {
      self.screen = screen
      self.out = out
      self.resume = resume
      self.simulate = simulate
      self.focusMeasure = focusMeasure
      self.stages = stages
      self.focusModel = focusModel
      self.template = template
      self.platemap = platemap
      self.barcodePlatemap = barcodePlatemap
      self.design = design
      self.designFile = designFile
      self.plates = plates
      self.shard = shard
    }
  }

  /// A study's design: the biology (target), the unit it was assigned to, pairs, controls, batches and further
  /// nuisance columns. Every member names a column of the screen's metadata or platemap (`Metadata_` prefixes
  /// may be left out); `control` is an expression: `COL=VALUE`, `COL!=VALUE` or `COL in A,B`.
  public struct DesignParams: Codable, Sendable, Equatable {
    public var target: String?
    public var unit: String?
    public var pair: String?
    public var control: String?
    public var batch: String?
    public var covariates: [String]?
    public init(target: String? = nil, unit: String? = nil, pair: String? = nil, control: String? = nil,
                batch: String? = nil, covariates: [String]? = nil) {
      self.target = target
      self.unit = unit
      self.pair = pair
      self.control = control
      self.batch = batch
      self.covariates = covariates
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
    /// Cell lines per disease class (the unit of replication).
    public var linesPerClass: Int?
    /// e.g. "focus-gradient:0.7,density:0.6" or "none".
    public var plant: String?
    public init(seed: Int? = nil, plates: Int? = nil, batches: Int? = nil, wells: Int? = nil, sites: Int? = nil,
                channels: Int? = nil, size: Int? = nil, linesPerClass: Int? = nil, plant: String? = nil) {
      self.seed = seed
      self.plates = plates
      self.batches = batches
      self.wells = wells
      self.sites = sites
      self.channels = channels
      self.size = size
      self.linesPerClass = linesPerClass
      self.plant = plant
    }
  }

  public struct Response: Codable, Sendable {
    public var out: String
    public var plates: Int
    public var wells: Int
    public var sites: Int
    public var channels: [String]
    /// What the input was: `loaddata`, `folder`, `simulated`, or the profiles table's format.
    public var input: String
    /// The design the audit used: each member's column and whether it was declared or inferred.
    public var design: [DesignMember]
    public var stages: [StageSummary]
    /// Stages that did not run, with the reason (no pixels, no target, no plugin of the kind, no model...).
    public var skipped: [SkippedStage]
    public var findings: [AuditFinding]
    /// How the false-alarm rate is controlled over the findings' tests (method, number of tests, level).
    public var correction: String?
    /// Plain sentences for a terminal.
    public var summary: [String]
    public init(out: String, plates: Int, wells: Int, sites: Int, channels: [String], input: String,
                design: [DesignMember], stages: [StageSummary], skipped: [SkippedStage], findings: [AuditFinding],
                correction: String?, summary: [String]) {
      self.out = out
      self.plates = plates
      self.wells = wells
      self.sites = sites
      self.channels = channels
      self.input = input
      self.design = design
      self.stages = stages
      self.skipped = skipped
      self.findings = findings
      self.correction = correction
      self.summary = summary
    }
  }

  /// One member of the design: which column it is and how it was chosen.
  public struct DesignMember: Codable, Sendable, Equatable {
    /// `target`, `unit`, `pair`, `control`, `batch`, `covariate`.
    public var member: String
    /// The column (or, for `control`, the expression).
    public var value: String
    /// `declared` (flag or design file) or `inferred` (with the convention that matched).
    public var source: String
    public init(member: String, value: String, source: String) {
      self.member = member
      self.value = value
      self.source = source
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

  /// A stage that did not run, and why.
  public struct SkippedStage: Codable, Sendable, Equatable {
    public var name: String
    public var reason: String
    public init(name: String, reason: String) {
      self.name = name
      self.reason = reason
    }
  }
}
