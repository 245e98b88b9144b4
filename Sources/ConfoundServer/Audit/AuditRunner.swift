import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

/// Runs `audit/run`: screen -> run store -> per-site stages through plugins -> analyses -> findings.
///
/// Every per-site result is one unit of work in the store, written in one transaction, so a run killed at any
/// moment loses nothing finished and `resume` redoes only what is missing. Images that fail (corrupt, missing)
/// are recorded as failed units with their message and skipped; the audit goes on.
final class AuditRunner {
  let params: AuditRequest.Params
  let registry: PluginRegistry
  let context: RequestContext
  let out: URL
  private var stages: [AuditRequest.StageSummary] = []
  /// The files that describe the screen (LoadData CSV, platemaps), hashed into the store with the images.
  private var spec: [URL] = []

  init(params: AuditRequest.Params, registry: PluginRegistry, context: RequestContext) {
    self.params = params
    self.registry = registry
    self.context = context
    self.out = URL(fileURLWithPath: params.out).standardizedFileURL
  }

  func run() throws -> AuditRequest.Response {
    let storeURL = out.appendingPathComponent("run.sqlite")
    if FileManager.default.fileExists(atPath: storeURL.path) && params.resume != true {
      throw ResponseError(.invalidParams, "\(out.path) already holds a run: pass resume (--resume) to continue it, or choose another --out",
                          data: ["field": "out"])
    }
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let screen = try loadScreen()
    let store = try RunStore(url: storeURL)
    for file in spec { try store.recordInput(file) }
    let parameters = try JSONCodec.encode(params)
    try store.recordRun(parametersJSON: JSONWriter.string(parameters))
    let sites = try store.registerSites(of: screen)

    context.beginProgress("audit")
    // `stages: ["segment"]` (confound segment SCREEN --out): the segment stage and its density finding only.
    if params.stages == ["segment"] {
      let density = try SegmentStage(runner: self, store: store, screen: screen, siteIDs: sites).runIfLoaded()
      try writeFindings(density)
      context.endProgress()
      return AuditRequest.Response(out: out.path, plates: screen.plates.count, wells: screen.wellCount,
                                   sites: screen.siteCount, channels: screen.channels, stages: stages,
                                   findings: density, summary: summary(density, screen: screen))
    }
    let focus = try FocusStage(runner: self, store: store, screen: screen, siteIDs: sites).run()
    stages.append(focus)
    try context.checkCancellation()
    let spatialMeasure = params.focusMeasure ?? "ImageQuality_TenengradNormalized_\(screen.channels.first ?? "")"
    for file in try FocusPlateMaps(store: store, screen: screen, siteIDs: sites).write(into: out, spatial: spatialMeasure) {
      context.log(.info, "plate map: \(file.path)")
    }
    let analysis = SpatialAnalysis(store: store, screen: screen, siteIDs: sites, measure: spatialMeasure)
    var findings = try analysis.findings()
    var projectionSummary: [String] = []
    // `stages: ["focus"]` (confound focus SCREEN --out) stops after the focus stage's own outputs.
    if params.stages.map({ $0.contains { $0 != "focus" } }) ?? true {
      let density = try SegmentStage(runner: self, store: store, screen: screen, siteIDs: sites).runIfLoaded()
      try EmbedStage(runner: self, store: store, screen: screen, siteIDs: sites).runIfLoaded()
      try context.checkCancellation()
      let probeStage = ProbeStage(runner: self, store: store, screen: screen, siteIDs: sites)
      let probes = try probeStage.findings()
      let nuisance = try NuisanceAnalysis(runner: self, store: store, screen: screen, siteIDs: sites).findings()
      findings += density + probes + nuisance
      projectionSummary = try ProjectionStage(runner: self, store: store, screen: screen, siteIDs: sites).run()
    }
    try writeFindings(findings)
    context.endProgress()
    return AuditRequest.Response(
      out: out.path, plates: screen.plates.count, wells: screen.wellCount, sites: screen.siteCount, channels: screen.channels,
      stages: stages, findings: findings, summary: summary(findings, screen: screen) + projectionSummary)
  }

  /// The screen named by `params.screen`, or a freshly simulated one (kept on resume).
  private func loadScreen() throws -> Screen {
    var loadData = params.screen.map { URL(fileURLWithPath: $0) }
    if loadData == nil {
      let dir = out.appendingPathComponent("screen")
      let csv = dir.appendingPathComponent("load_data.csv")
      if !FileManager.default.fileExists(atPath: csv.path) {
        context.log(.info, "simulating a screen into \(dir.path)")
        let started = Date()
        let output = try Simulator(try simulationConfig()).render(to: dir)
        stages.append(.init(name: "simulate", computed: output.sites, resumed: 0, failed: 0, failures: [], seconds: Date().timeIntervalSince(started)))
      }
      loadData = csv
    }
    do {
      var (screen, problems) = try LoadDataReader.read(loadData!)
      // A Broad-style barcode -> platemap table beside the LoadData CSV supplies the well covariates.
      let barcodes = loadData!.deletingLastPathComponent().appendingPathComponent("barcode_platemap.csv")
      if let table = try? BarcodePlatemap(contentsOf: barcodes) { problems += screen.join(table) }
      spec = [loadData!] + (FileManager.default.fileExists(atPath: barcodes.path) ? [barcodes] : [])
      for problem in problems.prefix(20) { context.log(.warning, "\(problem)") }
      guard screen.siteCount > 0 else {
        throw ResponseError(.badInputFile, "\(loadData!.path) lists no sites: check its FileName_/PathName_/Metadata_ columns", data: ["file": .string(loadData!.path)])
      }
      return screen
    } catch let error as ResponseError {
      throw error
    } catch {
      throw ResponseError(.badInputFile, "\(loadData!.path): \(error)", data: ["file": .string(loadData!.path)])
    }
  }

  func simulationConfig() throws -> SimulationConfig {
    let o = params.simulate ?? AuditRequest.SimulateOptions()
    var config = SimulationConfig()
    config.seed = UInt64(o.seed ?? 1)
    config.plates = o.plates ?? 2
    config.batches = o.batches ?? min(2, config.plates)
    config.wells = o.wells ?? 96
    config.sites = o.sites ?? 2
    config.channels = o.channels ?? 3
    config.width = o.size ?? 256
    config.height = o.size ?? 256
    do {
      config.plant = try SimulationConfig.parsePlantList(o.plant ?? "focus-gradient:0.7,density:0.6")
    } catch {
      throw ResponseError(.invalidParams, "\(error)", data: ["field": "simulate.plant"])
    }
    return config
  }

  func record(stage: AuditRequest.StageSummary) { stages.append(stage) }

  private func writeFindings(_ findings: [AuditFinding]) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    try encoder.encode(findings).write(to: out.appendingPathComponent("findings.json"))
  }

  private func summary(_ findings: [AuditFinding], screen: Screen) -> [String] {
    var lines = ["Audited \(screen.siteCount) sites in \(screen.wellCount) wells on \(screen.plates.count) plates, channels \(screen.channels.joined(separator: ", "))."]
    for stage in stages where stage.failed > 0 {
      lines.append("\(stage.name): \(stage.failed) units failed and were skipped, e.g. \(stage.failures.first ?? "")")
    }
    if findings.isEmpty {
      lines.append("No finding reached significance (each test at p < 0.05 after correcting for the number of plates and tests).")
    }
    lines += findings.map(\.verdict)
    return lines
  }
}
