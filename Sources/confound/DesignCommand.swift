import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound design --platemap FILE --target COL`: from the layout alone, which covariates the target follows.
struct DesignCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "design", abstract: "Audit a platemap: association of the target with every other column.")
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
