import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost
import Report

/// Runs `audit/run`: screen -> run store -> the stages of `AuditPlan`, in order -> findings, corrected over every
/// test of the audit, in the store and in `findings.json`.
///
/// Every per-site result is one unit of work in the store, written in one transaction, so a run killed at any
/// moment loses nothing finished and `resume` redoes only what is missing (and what the store claims done but no
/// longer holds). Images that fail (corrupt, missing) are recorded as failed units with their message and
/// skipped; the audit goes on, and says so.
final class Audit {
  let params: AuditRequest.Params
  let plugins: any PluginRunner
  let context: RequestContext
  let out: URL
  let input: AuditInput
  let store: RunStore
  let design: AuditDesign
  /// Site ids of every site of the screen in the store.
  let siteIDs: [SiteKey: Int64]
  /// The sites the per-site stages work on (a shard's plates, or every site).
  let sites: [ScreenSite]
  private(set) var summaries: [AuditRequest.StageSummary] = []
  private(set) var skipped: [AuditRequest.SkippedStage] = []
  private(set) var drafts: [FindingDraft] = []
  /// Summary sentences of stages that are not findings (batch mixing, a stage's own notes).
  private(set) var notes: [String] = []
  private var finalizers: [(inout [AuditFinding]) -> Void] = []
  private var cachedWells: WellTable?
  /// The reduced feature sets' principal-component scores over the current well table.
  let components = ComponentScores()
  /// The running stage's place among the stages that run, to report its progress as the audit's.
  private var stageSpan = (position: 0, count: 1)

  var screen: Screen { input.screen }

  /// Reports `fraction` (0 to 1) of the running stage as the audit's progress, (position + fraction) / stages,
  /// so the percentage a client shows only grows from stage to stage.
  func reportStageProgress(_ fraction: Double, _ message: String) {
    context.reportProgress((Double(stageSpan.position) + min(max(fraction, 0), 1)) / Double(stageSpan.count), message)
  }

  init(params: AuditRequest.Params, plugins: any PluginRunner, context: RequestContext) throws {
    self.params = params
    self.plugins = plugins
    self.context = context
    out = URL(fileURLWithPath: params.out).standardizedFileURL
    let storeURL = out.appendingPathComponent("run.sqlite")
    let exists = FileManager.default.fileExists(atPath: storeURL.path)
    if exists && params.resume != true {
      throw ResponseError(.invalidParams, "\(out.path) already holds a run: pass resume (--resume) to continue it, or choose another --out",
                          data: ["field": "out"])
    }
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    var simulated: AuditRequest.StageSummary?
    input = try AuditInput.load(params, out: out, context: context, simulated: &simulated)
    if let simulated { summaries.append(simulated) }
    do {
      store = try RunStore(url: storeURL)
    } catch {
      throw ResponseError(.badInputFile, "\(storeURL.path) cannot be opened as a run store (\(error)): it is damaged or not a run; "
                            + "audit into another --out, or delete it and start again", data: ["file": .string(storeURL.path)])
    }
    // A run.sqlite with no run in it (created and left empty, or emptied) has nothing to resume: say so.
    let emptyStore = try exists && store.runParametersJSON() == nil
    design = try AuditDesign.resolve(params, screen: input.screen, context: context)
    for file in input.files where !Self.isFolder(file) { try store.recordInput(file) }
    try store.recordRun(parametersJSON: JSONWriter.string(try JSONCodec.encode(params)))
    try store.recordDesign(json: JSONWriter.string(try JSONCodec.encode(design.members)))
    siteIDs = try store.registerSites(of: input.screen)
    sites = try input.sitesToProcess(params)
    if emptyStore {
      let line = "\(storeURL.path) held no run (an empty store): the audit started anew instead of resuming."
      context.log(.warning, line)
      notes.append(line)
    }
  }

  func run() throws -> AuditRequest.Response {
    context.beginProgress("audit")
    let available = try availableInStore()
    let stages = try AuditPlan.select(params.stages, available: available.union(input.profiles == nil ? [.pixels] : []))
    for (position, stage) in stages.enumerated() {
      try context.checkCancellation()
      let instance = stage.init()
      if let reason = instance.skipReason(self) {
        skipped.append(.init(name: stage.name, reason: reason))
        try store.recordStage(StoredStage(name: stage.name, status: "skipped", reason: reason), position: position)
        context.log(.info, "\(stage.name): skipped, \(reason)")
        continue
      }
      let started = Date()
      stageSpan = (position, stages.count)
      reportStageProgress(0, stage.name)
      let counts = try instance.run(self)
      let seconds = Date().timeIntervalSince(started)
      if !stage.produces.isEmpty {
        cachedWells = nil
        components.reset()
      }
      summaries.append(.init(name: stage.name, computed: counts.computed, resumed: counts.resumed, failed: counts.failed,
                             failures: Array(counts.failures.sorted().prefix(5)), seconds: seconds))
      try store.recordStage(StoredStage(name: stage.name, status: "done", computed: counts.computed, resumed: counts.resumed,
                                        failed: counts.failed, failures: Array(counts.failures.sorted().prefix(20)),
                                        seconds: seconds), position: position)
    }
    try checkSomethingAnalysed()
    let (findings, correction) = AuditCorrection.apply(drafts, finalizers: finalizers)
    try write(findings)
    writeReport()
    context.endProgress()
    return AuditRequest.Response(
      out: out.path, plates: screen.plates.count, wells: screen.wellCount, sites: screen.siteCount,
      channels: screen.channels, input: input.kind, design: design.members, stages: summaries, skipped: skipped,
      findings: findings, correction: correction, summary: summary(findings, correction: correction))
  }

  // MARK: shared state for stages

  /// The per-well table (built once, and again after a stage that stored new per-site results).
  func wells() throws -> WellTable {
    if let cachedWells { return cachedWells }
    var batches: [String: String] = [:]
    for batch in screen.batches { for plate in batch.plates { batches[plate.name] = batch.name } }
    var table = try WellTable.build(store: store, batches: batches)
    for variant in EmbedStage.variants {
      try table.attachEmbeddings(store: store, featureSet: variant.featureSet) {
        EmbedStage.wellArrayName(variant.prefix, plate: $0, well: $1)
      }
    }
    cachedWells = table
    return table
  }

  func add(_ draft: FindingDraft) { drafts.append(draft) }

  /// Runs after the correction, on the corrected findings: for findings derived from others (the confound alert).
  func afterCorrection(_ body: @escaping (inout [AuditFinding]) -> Void) { finalizers.append(body) }

  func note(_ sentence: String) { notes.append(sentence) }

  /// Registers a file under `out` as an artifact of `stage`.
  func artifact(_ file: URL, kind: String, stage: String, description: String) throws {
    let path = file.standardizedFileURL.path.replacingOccurrences(of: out.path + "/", with: "")
    try store.recordArtifact(Artifact(name: path, kind: kind, path: path, stage: stage, description: description))
  }

  /// Runs a plugin, cancelled with the audit.
  func runPlugin(_ request: PluginsRunRequest.Params) throws -> PluginsRunRequest.Response {
    try plugins.run(request, isCancelled: { [context] in context.token.isCancelled }, progress: { _, _ in }, log: { _, _ in })
  }

  func plugin(of kind: PluginKind) -> PluginInfo? { plugins.plugins.first { $0.manifest.kind == kind } }

  // MARK: private

  /// A folder named as the screen is not hashed itself: its images are, site by site, as they are read.
  private static func isFolder(_ url: URL) -> Bool {
    var folder: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &folder) && folder.boolValue
  }

  /// What a resumed run's store already holds, so a stage list without the per-site stages can still run.
  private func availableInStore() throws -> Set<AuditResource> {
    var have: Set<AuditResource> = []
    if !(try store.doneKeys(stage: FocusStage.name)).isEmpty { have.formUnion([.focus, .features]) }
    if !(try store.doneKeys(stage: SegmentStage.name)).isEmpty { have.formUnion([.density, .crops, .features]) }
    if !(try store.doneKeys(stage: ImportStage.name)).isEmpty { have.formUnion([.focus, .density, .features]) }
    if !(try store.doneKeys(stage: EmbedStage.variants[0].stage)).isEmpty { have.insert(.embeddings) }
    return have
  }

  /// An audit in which every site failed, or that stored no feature at all, has nothing to report: say so as an
  /// error rather than "no finding".
  private func checkSomethingAnalysed() throws {
    let perSite = summaries.filter { [FocusStage.name, SegmentStage.name, ImportStage.name].contains($0.name) }
    guard !perSite.isEmpty else { return }
    let stored = try store.measurementCounts().count
    if stored == 0 {
      let reasons = perSite.flatMap(\.failures).prefix(3).joined(separator: "; ")
      throw ResponseError(
        .badInputFile,
        "nothing to analyse: no site of \(screen.siteCount) has a result (\(perSite.map { "\($0.name): \($0.failed) failed" }.joined(separator: ", ")))"
          + (reasons.isEmpty ? "" : ", e.g. \(reasons)") + ". Fix the input (see the failures) and run again with --resume",
        data: ["file": .string(input.files.first?.path ?? out.path)])
    }
  }

  private func write(_ findings: [AuditFinding]) throws {
    let before = try store.findingCount()
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // Sorted keys: the same findings give the same record text, run after run and shard merge or not.
    let compact = JSONEncoder()
    compact.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let records = try findings.map { String(decoding: try compact.encode($0), as: UTF8.self) }
    try store.replaceFindings(zip(findings, records).map { f, record in
      StoredFinding(stage: f.stage, kind: f.kind, covariate: f.covariate, measure: f.measure.name, role: f.measure.role,
                    metric: f.metric.name, value: f.metric.value, ciLow: f.metric.ciLow, ciHigh: f.metric.ciHigh,
                    baseline: f.baseline?.value, pValue: f.pValue, pAdjusted: f.pAdjusted, units: f.units.name,
                    unitCount: f.units.count, significant: f.significant, verdict: f.verdict, plates: f.plates,
                    record: record)
    })
    if params.resume == true, findings.count < before {
      let line = "This resumed run has \(findings.count) findings where the store held \(before); the new list replaces the old."
      context.log(.warning, line)
      notes.append(line)
    }
    let file = out.appendingPathComponent("findings.json")
    try encoder.encode(findings).write(to: file)
    try artifact(file, kind: "table", stage: "audit", description: "every finding of the audit, as JSON")
  }

  /// `out/report.html`, rebuilt from the store and the files it registers (as `confound report` does). A report
  /// that cannot be drawn costs the audit nothing it computed: the failure is said in the summary.
  private func writeReport() {
    let file = out.appendingPathComponent("report.html")
    do {
      try store.recordArtifact(Artifact(name: "report.html", kind: "report", path: "report.html", stage: "report",
                                        description: "the audit's report: one self-contained page"))
      try AuditReport.write(runFolder: out, to: file)
      notes.append("Report: \(file.path)")
    } catch {
      context.log(.warning, "report: \(error)")
      notes.append("The report could not be written (\(error)); every result is in \(store.url.path): rebuild it with confound report \(out.path).")
    }
  }

  private func summary(_ findings: [AuditFinding], correction: String?) -> [String] {
    var lines = ["Audited \(screen.siteCount) sites in \(screen.wellCount) wells on \(screen.plates.count) plates"
                 + (screen.channels.isEmpty ? " (\(input.kind), no pixels)." : ", channels \(screen.channels.joined(separator: ", ")).")]
    lines += design.sentences
    for stage in summaries where stage.failed > 0 {
      lines.append("\(stage.name): \(stage.failed) units failed and were skipped, e.g. \(stage.failures.first ?? "")")
    }
    for stage in skipped { lines.append("\(stage.name): skipped, \(stage.reason).") }
    let significant = findings.filter(\.significant)
    if significant.isEmpty {
      lines.append("No finding reached significance" + (correction.map { " (\($0))." } ?? "."))
    } else if let correction {
      lines.append("\(significant.count) findings reached significance (\(correction)):")
    }
    lines += significant.map(\.verdict)
    lines += findings.filter { !$0.significant && $0.kind == "target-probe" }.map(\.verdict)
    return lines + notes
  }
}
