import ConfoundCore
import Foundation
import PlateMaps

/// Builds a `ReportModel` from a run folder as the audit leaves it: `run.sqlite` (run, plugins, inputs, sites,
/// units, measurements, findings), `findings.json` and `plots/` (the projections' coordinates and batch mixing).
/// Everything is read in a fixed order, so one folder always gives the same model (and the same HTML).
public struct ReportBuilder {
  public let folder: URL
  let store: RunStore
  let sites: [RunStore.SiteRecord]
  let measurements: [Int64: [String: Double]]
  /// One palette for every figure, over every covariate level of the screen: a category keeps its colour.
  public let palette: CategoryPalette

  /// Opens the run in `folder`; throws naming the folder when it holds no run store.
  public init(folder: URL) throws {
    self.folder = folder
    let storeURL = folder.appendingPathComponent("run.sqlite")
    guard FileManager.default.fileExists(atPath: storeURL.path) else {
      throw ReportError("\(folder.path) holds no run.sqlite: pass the --out folder of an audit")
    }
    store = try RunStore(url: storeURL)
    sites = try store.siteRecords()
    measurements = try store.allMeasurements()
    var levels: [String: Set<String>] = ["plate": Set(sites.map(\.key.plate))]
    for site in sites { for (k, v) in site.covariates { levels[k, default: []].insert(v) } }
    palette = CategoryPalette(covariates: levels.keys.sorted().map { ($0, Array(levels[$0]!)) })
  }

  /// The whole model: verdicts, the sections, failures, provenance.
  public func build() throws -> ReportModel {
    var model = ReportModel(title: "Confound audit: \(folder.lastPathComponent)")
    model.verdicts = try verdicts()
    model.summary = summary()
    let units = try store.unitRecords()
    model.failedUnits = units.filter { $0.status == "failed" }.map {
      FailedUnit(stage: $0.stage, key: $0.key, message: $0.message ?? "")
    }
    model.provenance = try provenance(units)
    let sections = ReportSections(builder: self, verdicts: model.verdicts)
    model[section: "design"] = try sections.design()
    model[section: "image-quality"] = try sections.imageQuality()
    model[section: "density"] = try sections.density()
    model[section: "nuisance"] = sections.nuisance()
    model[section: "projections"] = try sections.projections()
    model[section: "target-probe"] = sections.targetProbe()
    model[section: "explanations"] = try sections.explanations()
    model[section: "samples"] = try sections.samples()
    model.skippedStages = skipped(model, units: units)
    return model
  }

  /// The figure of the design on the plates (target, unit, controls per well), as the report's design section
  /// shows it; nil when the run has nothing to colour by.
  public func designFigure() throws -> ReportFigure? {
    let sections = ReportSections(builder: self, verdicts: [])
    return try sections.designFigure(sections.designMembers())
  }

  /// The findings, from `findings.json` when present (it carries the newest schema), else the store's table.
  func verdicts() throws -> [Verdict] {
    let file = folder.appendingPathComponent("findings.json")
    if let data = try? Data(contentsOf: file) { return try FindingReader.read(data, file: file.path) }
    // The store keeps each finding's whole record (the findings.json object) in `record`.
    let records = try store.findingRecords()
    return try FindingReader.read(Data(("[" + records.joined(separator: ",") + "]").utf8), file: store.url.path)
  }

  func summary() -> [String] {
    let plates = Set(sites.map(\.key.plate))
    let wells = Set(sites.map { "\($0.key.plate)/\($0.key.well)" })
    return ["Audited \(sites.count) sites in \(wells.count) wells on \(plates.count) plate\(plates.count == 1 ? "" : "s")."]
  }

  /// Stages with no output, and why: from what the sections found missing.
  func skipped(_ model: ReportModel, units: [RunStore.UnitRecord]) -> [SkippedStage] {
    var out: [SkippedStage] = []
    let stages = Set(units.map(\.stage))
    let names = Set(measurements.values.flatMap(\.keys))
    if !names.contains("Count_Nuclei") {
      out.append(SkippedStage(stage: "segment", reason: "no nucleus counts in the store (no segmenter plugin loaded, "
                                + "or the stage was not asked for)"))
    }
    if !stages.contains(where: { $0.hasPrefix("embed") }) {
      out.append(SkippedStage(stage: "embed", reason: "no cell embeddings in the store (no embedder model: "
                                + "run .ci/setup-models, or the stage was not asked for)"))
    }
    if !model.verdicts.contains(where: { $0.kind == "target-probe" }) {
      out.append(SkippedStage(stage: "target probe", reason: "no target-probe finding (no probe plugin, no two-level "
                                + "target, or fewer than 8 wells)"))
    }
    if model[section: "explanations"].isEmpty {
      out.append(SkippedStage(stage: "explain", reason: "no explanation in this run (no explainer plugin ran)"))
    }
    return out
  }

  func provenance(_ units: [RunStore.UnitRecord]) throws -> Provenance {
    var p = Provenance()
    if let run = try store.runRecord() {
      p.runStarted = run.created
      let parameters = (try? JSONSerialization.jsonObject(with: Data(run.parameters.utf8))) ?? [:]
      p.parameters = Self.flatten(parameters)
      p.seeds = p.parameters.filter { $0.0.lowercased().contains("seed") }
      if let command = p.parameters.first(where: { $0.0 == "command" })?.1 { p.command = command }
      if let host = p.parameters.first(where: { $0.0 == "hostVersion" })?.1 { p.hostVersion = host }
    }
    p.inputs = try store.inputRecords().map { ($0.path, $0.sha256, $0.size) }
    p.plugins = try store.pluginRecords().map { ($0.id, $0.version, $0.abi) }
    let stages = Dictionary(grouping: units, by: \.stage)
    let formatter = ISO8601DateFormatter()
    p.stages = stages.keys.sorted().map { name in
      let list = stages[name]!
      let times = list.compactMap { formatter.date(from: $0.finishedAt) }
      // The store keeps when each unit finished: first to last is a lower bound of the stage's time.
      let span = times.count >= 2 ? times.max()!.timeIntervalSince(times.min()!) : nil
      return StageTime(name: name, done: list.filter { $0.status == "done" }.count,
                       failed: list.filter { $0.status == "failed" }.count, seconds: span)
    }
    return p
  }

  /// A JSON value as sorted `a.b.c` -> text pairs.
  static func flatten(_ value: Any, prefix: String = "") -> [(String, String)] {
    if let o = value as? [String: Any] {
      return o.keys.sorted().flatMap { flatten(o[$0]!, prefix: prefix.isEmpty ? $0 : "\(prefix).\($0)") }
    }
    if let a = value as? [Any] {
      return [(prefix, a.map { flatten($0).first?.1 ?? "" }.joined(separator: ", "))]
    }
    if let s = value as? String { return [(prefix, s)] }
    if let n = value as? NSNumber { return [(prefix, n.stringValue)] }
    return [(prefix, "null")]
  }

  // MARK: data the sections read

  /// Site records grouped by plate name, sorted.
  var plates: [(name: String, sites: [RunStore.SiteRecord])] {
    Dictionary(grouping: sites, by: \.key.plate).sorted { naturalLess($0.key, $1.key) }.map { ($0.key, $0.value) }
  }

  /// The batch of a plate's sites, when a covariate names it.
  func batch(_ sites: [RunStore.SiteRecord]) -> String? {
    for key in ["batch", "Batch", "Metadata_Batch"] { if let b = sites.first?.covariates[key] { return b } }
    return nil
  }

  /// Measurement names present for at least one site, sorted.
  var measurementNames: [String] { Array(Set(measurements.values.flatMap(\.keys))).sorted() }

  func value(_ site: RunStore.SiteRecord, _ name: String) -> Double? { measurements[site.id]?[name] }
}

/// Numbers by value, names alphabetically ("P2" before "P10" by their digits).
func naturalLess(_ a: String, _ b: String) -> Bool { a.compare(b, options: [.numeric]) == .orderedAscending }
