import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound design`: the design audit of a platemap (the default), and `design init`, a design file to edit.
struct DesignCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "design", abstract: "The study design: audit a platemap, or draft a design file from a screen.",
    subcommands: [DesignAuditCommand.self, DesignInitCommand.self], defaultSubcommand: DesignAuditCommand.self)
}

/// `confound design init SCREEN [--out FILE]`: a design file drafted from the screen's columns, for `--design`.
struct DesignInitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "init", abstract: "Write a design file (TOML) from the columns a screen has, for confound audit --design.")
  @OptionGroup var hostOptions: HostOptions
  @Argument(help: "A LoadData CSV, a folder of images, or a profiles table.") var screen: String
  @Option(help: "For a folder of images: a file-name template or preset.") var template: String?
  @Option(help: "A platemap to join.") var platemap: String?
  @Option(name: .customLong("barcode-platemap"), help: "A barcode -> platemap table.") var barcodePlatemap: String?
  @Option(help: "Write the file here (default: print it).") var out: String?

  func run() throws {
    let absolute = { (path: String?) in path.map { URL(fileURLWithPath: $0).path } }
    let params = DesignInitRequest.Params(screen: URL(fileURLWithPath: screen).path, template: template,
                                          platemap: absolute(platemap), barcodePlatemap: absolute(barcodePlatemap),
                                          out: absolute(out))
    let response = try withHost(hostOptions) { try $0.request(DesignInitRequest.self, params, progressTitle: "design init") }
    if let written = response.out { print("wrote \(written): edit it, then confound audit SCREEN --design \(written)") } else {
      print(response.text, terminator: "")
    }
  }
}

/// `confound design --platemap FILE --target COL`: from the layout alone, which covariates the target follows.
struct DesignAuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit", abstract: "Audit a platemap: association of the target with every other column.")
  @OptionGroup var hostOptions: HostOptions
  @Option(help: "The platemap (CSV or TSV), with a well column such as well_position or Metadata_Well.") var platemap: String
  @Option(help: "The column to audit, e.g. a dose or treatment column.") var target: String
  @Option(help: "Only these covariates, comma-separated (row and column are derived from the well).") var covariates: String?
  @Flag(help: "Print the result as JSON.") var json = false

  func run() throws {
    let params = DesignAuditRequest.Params(
      platemap: platemap, target: target, covariates: covariates.map { $0.split(separator: ",").map(String.init) })
    let response = try withHost(hostOptions) { try $0.request(DesignAuditRequest.self, params, progressTitle: "design") }
    if json { return printJSON(try JSONCodec.encode(response)) }
    print("\(response.rows) wells; \(response.target) against \(response.associations.count) covariates")
    for a in response.associations { print(a.verdict) }
  }
}
