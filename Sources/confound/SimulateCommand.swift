import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound simulate --out DIR [--seed N] ...`: renders a simulated screen with planted confounders through the host
/// (`screen/simulate`). The same options and seed give byte-identical files.
struct SimulateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate", abstract: "Render a simulated screen (TIFFs, LoadData CSV, platemaps, truth.json).")
  @OptionGroup var hostOptions: HostOptions
  @Option(help: "Output folder.") var out: String
  @Option(help: "Random seed (same seed, same bytes).") var seed: Int?
  @Option(help: "Plates (default 4).") var plates: Int?
  @Option(help: "Batches, at most the number of plates (default 2).") var batches: Int?
  @Option(help: "Wells per plate: 96 or 384.") var wells: Int?
  @Option(help: "Sites per well (default 2).") var sites: Int?
  @Option(help: "Channels, 1 to 5, from DNA, ER, RNA, AGP, Mito (default 3).") var channels: Int?
  @Option(help: "Image width in pixels (default 256).") var width: Int?
  @Option(help: "Image height in pixels (default 256).") var height: Int?
  @Option(help: "Confounders to plant, e.g. focus-gradient:0.7,density:0.6, or none.") var plant: String?
  @Option(name: .customLong("lines-per-class"), help: "Cell lines per disease class (default 12).") var linesPerClass: Int?
  @Flag(help: "Print the screen/simulate response as JSON.") var json = false

  func run() throws {
    let params = SimulateRequest.Params(
      out: URL(fileURLWithPath: out).path, seed: seed, plates: plates, batches: batches, wells: wells, sites: sites,
      channels: channels, width: width, height: height, plant: plant, linesPerClass: linesPerClass)
    let response = try withHost(hostOptions) { try $0.request(SimulateRequest.self, params, progressTitle: "simulate") }
    if json {
      printJSON(try JSONCodec.encode(response))
      return
    }
    print(
      "\(response.plates.count) plate(s) in \(response.batches.count) batch(es), \(response.wells) wells, "
        + "\(response.sites) sites, \(response.images) images (\(response.channels.joined(separator: ", "))) in "
        + String(format: "%.1f s", response.seconds))
    print(response.planted.isEmpty ? "planted: nothing" : "planted:")
    for p in response.planted {
      print("  \(p.kind) \(p.strength) on \(p.covariate): \(p.effect)")
    }
    print("LoadData: \(response.loadData)\nplatemaps: \(response.barcodePlatemap)\ntruth: \(response.truth)")
  }
}
