import ArgumentParser
import Foundation
import Report

/// `confound report RUN_DIR [--out FILE]`: rebuilds the run's one-page HTML report from its store (and
/// findings.json, plots/), with each figure's data as CSV (and PDF) beside it. Reads the run folder directly: the
/// report needs no plugin, so no host is started.
struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report", abstract: "Rebuild a run's self-contained report.html from its run store.")
  @Argument(help: "A run folder (the --out of an audit, holding run.sqlite).") var runDirectory: String
  @Option(help: "The HTML file to write (default RUN_DIR/report.html); figure data goes to FILE-stem-data/.")
  var out: String?
  @Flag(help: "Leave out the report's generation time, so two builds of one run are byte for byte equal.")
  var noTimestamp = false

  func run() throws {
    let folder = URL(fileURLWithPath: runDirectory)
    let file = out.map { URL(fileURLWithPath: $0) } ?? folder.appendingPathComponent("report.html")
    do {
      let written = try AuditReport.write(runFolder: folder, to: file, generated: noTimestamp ? nil : Date())
      print("report: \(written.html.path) (\(written.bytes) bytes); figure data: \(written.data.path)")
    } catch let error as ReportError {
      throw ValidationError(error.description)
    }
  }
}
