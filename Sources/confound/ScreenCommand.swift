import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound screen SPEC [--template T] [--platemap F] [--barcode-platemap F] --check [--json]`: reads a screen and
/// decodes every image through the host (`screen/check`), printing what was found and every problem. Exits 1 when
/// there are problems, so scripts can stop before a long run.
struct ScreenCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "screen", abstract: "Check a screen (a LoadData CSV or a folder of images) before running on it.")
  @OptionGroup var hostOptions: HostOptions
  @Argument(help: "A CellProfiler LoadData CSV, or a folder of images.") var spec: String
  @Option(help: "For a folder: a preset (metaxpress, operetta, imagexpress, cellprofiler-example) or a template.")
  var template: String?
  @Option(help: "A platemap CSV/TSV (well_position + covariate columns) joined to every plate.") var platemap: String?
  @Option(name: .customLong("barcode-platemap"), help: "A barcode table naming each plate's platemap.")
  var barcodePlatemap: String?
  @Flag(help: "Read every image and report plates, wells, sites, channels, covariates and problems.") var check = false
  @Flag(help: "Print the screen/check response as JSON.") var json = false

  func validate() throws {
    guard check else { throw ValidationError("confound screen only checks for now: pass --check") }
  }

  func run() throws {
    let path = { (p: String) in URL(fileURLWithPath: p).path }
    let params = ScreenCheckRequest.Params(
      spec: path(spec), template: template, platemap: platemap.map(path), barcodePlatemap: barcodePlatemap.map(path))
    let report = try withHost(hostOptions) { try $0.request(ScreenCheckRequest.self, params, progressTitle: "check") }
    if json {
      printJSON(try JSONCodec.encode(report))
    } else {
      print(report.text, terminator: "")
    }
    if !report.problems.isEmpty { throw ExitCode(1) }
  }
}
