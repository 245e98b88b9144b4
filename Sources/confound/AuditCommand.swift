import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound audit [SCREEN] --out DIR [--resume]`: the end-to-end audit. Without SCREEN it simulates a screen with
/// planted confounders and audits that (the README's demo).
struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Audit a screen for bias and confounding; without one, a simulated screen.",
    discussion: """
      SCREEN is a CellProfiler LoadData CSV, a folder of images (with --template; a folder written by
      `confound simulate` needs none), or a profiles table with no pixels (a per-site CellProfiler Image.csv,
      pycytominer per-well profiles as CSV or CSV.gz, a CellProfiler / cytominer-database SQLite).

      The design is named in the screen's own columns (Metadata_ prefixes may be left out): --target disease
      --unit cell_line --control 'Metadata_control_type=negcon' (or COL!=VALUE, or 'COL in A,B'). What is not given
      is inferred from the usual names and printed; `confound design init SCREEN` writes a design file to edit.
      Stages: \(AuditRequest.stageNames.joined(separator: ", ")).
      """)
  @OptionGroup var hostOptions: HostOptions
  @Argument(help: "A LoadData CSV, a folder of images, or a profiles table. Absent: simulate a screen with planted confounders.")
  var screen: String?
  @Option(help: "Output folder: run.sqlite, findings.json, plots/ (and the simulated screen).") var out: String
  @Flag(help: "Continue the run in --out, redoing only unfinished units.") var resume = false
  @Flag(help: "Print the audit/run response as JSON.") var json = false
  @Option(help: "For a folder of images: a file-name template or preset (see confound screen).") var template: String?
  @Option(help: "A platemap (well -> covariates) to join.") var platemap: String?
  @Option(name: .customLong("barcode-platemap"), help: "A barcode -> platemap table (Broad style).") var barcodePlatemap: String?
  @Option(help: "A design file (TOML or JSON); flags override its members.") var design: String?
  @Option(help: "The target column (the biology: disease, genotype, treatment).") var target: String?
  @Option(help: "The unit of replication the target belongs to (cell line, donor, compound).") var unit: String?
  @Option(help: "The column pairing units (healthy/disease pairs).") var pair: String?
  @Option(help: "Which wells are controls: COL=VALUE, COL!=VALUE or 'COL in A,B'.") var control: String?
  @Option(help: "The batch column.") var batch: String?
  @Option(help: "More nuisance columns to probe, comma-separated.") var covariates: String?
  @Option(help: "Only these stages, comma-separated, in the audit's order.") var stages: String?
  @Option(help: "Audit shard K of N (K/N): the plates, sorted by name, dealt in turn; then `confound merge`.") var shard: String?
  @Option(help: "Audit only these plates, comma-separated.") var plates: String?
  @Option(help: "Simulation seed.") var seed: Int?
  @Option(name: .customLong("sim-plates"), help: "Simulation plates.") var simPlates: Int?
  @Option(help: "Simulation sites per well.") var sites: Int?
  @Option(help: "Simulated confounders, e.g. focus-gradient:0.7,density:0.6, or none.") var plant: String?

  func run() throws {
    let list = { (text: String?) in text.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } }
    let simulate = screen == nil ? AuditRequest.SimulateOptions(seed: seed, plates: simPlates, sites: sites, plant: plant) : nil
    let declared = AuditRequest.DesignParams(target: target, unit: unit, pair: pair, control: control, batch: batch,
                                             covariates: list(covariates))
    let absolute = { (path: String?) in path.map { URL(fileURLWithPath: $0).path } }
    let params = AuditRequest.Params(
      screen: absolute(screen), out: URL(fileURLWithPath: out).path, resume: resume, simulate: simulate,
      stages: list(stages), template: template, platemap: absolute(platemap), barcodePlatemap: absolute(barcodePlatemap),
      design: declared == AuditRequest.DesignParams() ? nil : declared, designFile: absolute(design),
      plates: list(plates), shard: shard)
    let response = try withHost(hostOptions) { try $0.request(AuditRequest.self, params, progressTitle: "audit") }
    if json {
      printJSON(try JSONCodec.encode(response))
      return
    }
    printStagesAndSummary(response)
    print("Findings: \(response.out)/findings.json; every result: \(response.out)/run.sqlite")
  }
}
