import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound audit [SCREEN] --out DIR [--resume]`: the end-to-end audit. Without SCREEN it simulates a screen with
/// planted confounders and audits that (the README's demo).
struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit", abstract: "Audit a screen (a LoadData CSV) for bias and confounding; without one, a simulated screen.")
  @OptionGroup var hostOptions: HostOptions
  @Argument(help: "A CellProfiler LoadData CSV. Absent: simulate a screen with planted confounders.") var screen: String?
  @Option(help: "Output folder: run.sqlite, findings.json (and the simulated screen).") var out: String
  @Flag(help: "Continue the run in --out, redoing only unfinished units.") var resume = false
  @Flag(help: "Print the audit/run response as JSON.") var json = false
  @Option(help: "Simulation seed.") var seed: Int?
  @Option(help: "Simulation plates.") var plates: Int?
  @Option(help: "Simulation sites per well.") var sites: Int?
  @Option(help: "Simulated confounders, e.g. focus-gradient:0.7,density:0.6, or none.") var plant: String?

  func run() throws {
    let simulate = screen == nil ? AuditRequest.SimulateOptions(seed: seed, plates: plates, sites: sites, plant: plant) : nil
    let params = AuditRequest.Params(screen: screen.map { URL(fileURLWithPath: $0).path }, out: URL(fileURLWithPath: out).path,
                                     resume: resume, simulate: simulate)
    let response = try withHost(hostOptions) { try $0.request(AuditRequest.self, params, progressTitle: "audit") }
    if json {
      printJSON(try JSONCodec.encode(response))
      return
    }
    printStagesAndSummary(response)
    print("Findings: \(response.out)/findings.json; every result: \(response.out)/run.sqlite")
  }
}
