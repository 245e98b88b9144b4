import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound export RUN_DIR --out DIR [--level site|well]`: a run's profiles as a CellProfiler-style CSV and a
/// float64 `.npy` feature matrix (`store/export`).
struct ExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export", abstract: "Export a run's per-site or per-well profiles (CSV with Metadata_ columns, .npy).")
  @OptionGroup var hostOptions: HostOptions
  @Argument(help: "A run folder (holding run.sqlite) or the run.sqlite file.") var runDirectory: String
  @Option(help: "Output folder.") var out: String
  @Option(help: "site (one row per site) or well (median of its sites).") var level: String = "site"
  @Flag(help: "Print the store/export response as JSON.") var json = false

  func run() throws {
    guard let level = ExportRequest.Level(rawValue: level) else {
      throw ValidationError("--level takes site or well, got \(level)")
    }
    let params = ExportRequest.Params(
      store: URL(fileURLWithPath: runDirectory).path, out: URL(fileURLWithPath: out).path, level: level)
    let response = try withHost(hostOptions) { try $0.request(ExportRequest.self, params, progressTitle: "export") }
    if json {
      printJSON(try JSONCodec.encode(response))
      return
    }
    print("\(response.rows) \(level.rawValue) profile(s), \(response.features.count) feature(s)")
    print("CSV: \(response.csv)\nmatrix: \(response.matrix)")
  }
}
