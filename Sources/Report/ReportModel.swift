import PlateMaps

/// Everything one audit report shows, in the order of the audit and the paper: the verdicts ranked by what they
/// threaten, then the sections (design, image quality, density, nuisance probes, projections and mixing, target
/// probe, explanations, sample images), the failed units and skipped stages, and the provenance. A value: the
/// audit builds it at its end, `ReportBuilder` builds it from a run folder, `ReportHTML` renders it.
public struct ReportModel {
  public var title: String
  /// One-sentence summary under the title ("Audited 384 sites in 192 wells on 2 plates ...").
  public var summary: [String]
  public var verdicts: [Verdict]
  /// The sections in `Section.order`; a section with nothing in it is shown with its `note`.
  public var sections: [Section]
  public var failedUnits: [FailedUnit]
  public var skippedStages: [SkippedStage]
  public var provenance: Provenance

  public init(title: String, summary: [String] = [], verdicts: [Verdict] = [], sections: [Section] = Section.standard(),
              failedUnits: [FailedUnit] = [], skippedStages: [SkippedStage] = [], provenance: Provenance = Provenance()) {
    self.title = title
    self.summary = summary
    self.verdicts = verdicts
    self.sections = sections
    self.failedUnits = failedUnits
    self.skippedStages = skippedStages
    self.provenance = provenance
  }

  /// The section with `id`, to add to.
  public subscript(section id: String) -> Section {
    get { sections.first { $0.id == id } ?? Section(id: id, title: id) }
    set {
      if let i = sections.firstIndex(where: { $0.id == id }) { sections[i] = newValue } else { sections.append(newValue) }
    }
  }

  /// Verdicts in the order they are shown: by `Verdict.threat`, then as given.
  public var rankedVerdicts: [Verdict] {
    verdicts.enumerated().sorted { ($0.element.threat, $0.offset) < ($1.element.threat, $1.offset) }.map(\.element)
  }
}

/// One finding in plain words with its numbers. Every number may be absent: a finding is shown with what it has.
public struct Verdict: Sendable, Equatable {
  /// The finding's kind as the audit names it: `confound-alert`, `nuisance`, `spatial`, `density`, `edge-effect`,
  /// `target-probe`, `nuisance-probe` ...
  public var kind: String
  /// The sentence the audit wrote.
  public var text: String
  public var covariate: String?
  public var measure: String?
  public var metric: Metric?
  public var baseline: Metric?
  /// The unit of replication the p-value counts (`wells`, 192; `cell lines`, 8).
  public var units: Units?
  public var pValue: Double?
  /// How `pValue` was corrected for multiple tests ("Holm over 6 tests").
  public var correction: String?
  /// Short lines of evidence (figures, tables, counts) the finding rests on.
  public var evidence: [String]
  public var plates: [String]
  /// Id of the section that shows the finding's figures.
  public var section: String
  /// Per-fold results of a probe, when the finding has them (the target probe's Figure 4).
  public var folds: [Fold]

  public init(kind: String, text: String, covariate: String? = nil, measure: String? = nil, metric: Metric? = nil,
              baseline: Metric? = nil, units: Units? = nil, pValue: Double? = nil, correction: String? = nil,
              evidence: [String] = [], plates: [String] = [], section: String? = nil, folds: [Fold] = []) {
    self.kind = kind
    self.text = text
    self.covariate = covariate
    self.measure = measure
    self.metric = metric
    self.baseline = baseline
    self.units = units
    self.pValue = pValue
    self.correction = correction
    self.evidence = evidence
    self.plates = plates
    self.section = section ?? Verdict.section(forKind: kind)
    self.folds = folds
  }

  /// A named number with its interval.
  public struct Metric: Sendable, Equatable {
    public var name: String
    public var value: Double?
    public var ciLow: Double?
    public var ciHigh: Double?
    public init(name: String, value: Double?, ciLow: Double? = nil, ciHigh: Double? = nil) {
      self.name = name
      self.value = value
      self.ciLow = ciLow
      self.ciHigh = ciHigh
    }
  }

  /// The unit of replication and how many there were.
  public struct Units: Sendable, Equatable {
    public var name: String
    public var count: Int?
    public init(name: String, count: Int?) {
      self.name = name
      self.count = count
    }
  }

  /// One cross-validation fold: its score and what it held out (a source lab, a cell-line pair).
  public struct Fold: Sendable, Equatable {
    public var value: Double
    public var composition: String
    public init(value: Double, composition: String) {
      self.value = value
      self.composition = composition
    }
  }

  /// Whether the finding passed its test (p < 0.05 after correction), or is an alert by construction.
  public var significant: Bool {
    if kind == "confound-alert" { return true }
    return (pValue ?? 1) < 0.05
  }

  /// Rank by what the finding threatens, lowest first: confound alerts, nuisances that predict the target,
  /// significant nuisance / batch / plate findings, significant image-quality and density effects, the target
  /// probe itself, then everything that did not reach significance.
  public var threat: Int {
    if kind == "confound-alert" { return 0 }
    guard significant else { return 10 }
    switch kind {
    case "nuisance" where covariate != nil && ["disease", "target"].contains(covariate!): return 1
    case "nuisance", "nuisance-probe": return 2
    case "spatial", "edge-effect", "focus": return 3
    case "density": return 4
    case "target-probe": return 6
    default: return 5
    }
  }

  /// The section a finding of `kind` belongs to.
  public static func section(forKind kind: String) -> String {
    switch kind {
    case "spatial", "edge-effect", "focus", "image-quality": return "image-quality"
    case "density": return "density"
    case "nuisance", "nuisance-probe": return "nuisance"
    case "target-probe", "confound-alert": return "target-probe"
    case "explanation", "saliency", "sanity-check": return "explanations"
    case "design": return "design"
    case "mixing", "projection": return "projections"
    default: return "design"
    }
  }
}

/// One section of the report: prose, tables and figures.
public struct Section {
  public var id: String
  public var title: String
  public var paragraphs: [String]
  public var tables: [Table]
  public var figures: [ReportFigure]
  /// Shown when the section has no table or figure (a stage that did not run, and why).
  public var note: String?

  public init(id: String, title: String, paragraphs: [String] = [], tables: [Table] = [], figures: [ReportFigure] = [],
              note: String? = nil) {
    self.id = id
    self.title = title
    self.paragraphs = paragraphs
    self.tables = tables
    self.figures = figures
    self.note = note
  }

  /// Ids and titles in the order of the audit and the paper.
  public static let order: [(id: String, title: String)] = [
    ("design", "Design"), ("image-quality", "Image quality"), ("density", "Cell density"),
    ("nuisance", "Nuisance probes"), ("projections", "Projections and batch mixing"), ("target-probe", "Target probe"),
    ("explanations", "Explanations"), ("samples", "Sample images"),
  ]

  /// The empty standard sections.
  public static func standard() -> [Section] { order.map { Section(id: $0.id, title: $0.title) } }

  public var isEmpty: Bool { paragraphs.isEmpty && tables.isEmpty && figures.isEmpty }
}

/// A table: a header and rows of text; `sortable` adds click-to-sort on the header.
public struct Table: Sendable, Equatable {
  public var caption: String
  public var header: [String]
  public var rows: [[String]]
  public var sortable: Bool
  public init(caption: String, header: [String], rows: [[String]], sortable: Bool = true) {
    self.caption = caption
    self.header = header
    self.rows = rows
    self.sortable = sortable
  }
}

/// A figure of the report, with its id (the file names of its data beside the report) and caption.
public struct ReportFigure {
  public var id: String
  public var caption: String
  public var figure: any Figure
  /// The data behind the figure as CSV, written beside the report.
  public var csv: String
  /// `csv` defaults to the figure's own data.
  public init(id: String, caption: String, figure: any Figure, csv: String? = nil) {
    self.id = id
    self.caption = caption
    self.figure = figure
    self.csv = csv ?? figure.csv()
  }
}

/// A unit of work that failed, with its reason.
public struct FailedUnit: Sendable, Equatable {
  public var stage: String
  public var key: String
  public var message: String
  public init(stage: String, key: String, message: String) {
    self.stage = stage
    self.key = key
    self.message = message
  }
}

/// A stage that did not run, and why (no model, no plugin of its kind, too few wells).
public struct SkippedStage: Sendable, Equatable {
  public var stage: String
  public var reason: String
  public init(stage: String, reason: String) {
    self.stage = stage
    self.reason = reason
  }
}

/// What was run on what: the command, the parameters, the inputs' hashes, the plugins, seeds, the host's version,
/// and each stage's counts and time.
public struct Provenance: Sendable, Equatable {
  public var command: String?
  public var parameters: [(String, String)]
  public var inputs: [(path: String, sha256: String, bytes: Int64)]
  public var plugins: [(id: String, version: String, abi: Int)]
  public var seeds: [(String, String)]
  public var hostVersion: String?
  public var stages: [StageTime]
  /// When the run was first recorded (from the store; not the report's own time).
  public var runStarted: String?

  public init(command: String? = nil, parameters: [(String, String)] = [], inputs: [(path: String, sha256: String,
              bytes: Int64)] = [], plugins: [(id: String, version: String, abi: Int)] = [], seeds: [(String, String)] = [],
              hostVersion: String? = nil, stages: [StageTime] = [], runStarted: String? = nil) {
    self.command = command
    self.parameters = parameters
    self.inputs = inputs
    self.plugins = plugins
    self.seeds = seeds
    self.hostVersion = hostVersion
    self.stages = stages
    self.runStarted = runStarted
  }

  public static func == (a: Provenance, b: Provenance) -> Bool {
    a.command == b.command && a.parameters.elementsEqual(b.parameters, by: ==)
      && a.inputs.elementsEqual(b.inputs, by: { $0.path == $1.path && $0.sha256 == $1.sha256 && $0.bytes == $1.bytes })
      && a.plugins.elementsEqual(b.plugins, by: { $0.id == $1.id && $0.version == $1.version && $0.abi == $1.abi })
      && a.seeds.elementsEqual(b.seeds, by: ==) && a.hostVersion == b.hostVersion && a.stages == b.stages
      && a.runStarted == b.runStarted
  }
}

/// A stage's units and time; `seconds` is nil when only the store's unit times are known.
public struct StageTime: Sendable, Equatable {
  public var name: String
  public var done: Int
  public var failed: Int
  public var seconds: Double?
  public init(name: String, done: Int, failed: Int, seconds: Double?) {
    self.name = name
    self.done = done
    self.failed = failed
    self.seconds = seconds
  }
}
