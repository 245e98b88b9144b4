import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound probe --table FILE --target COL ...`: can the features predict COL? With the permuted baseline,
/// the p-value at the unit of replication and a one-line verdict.
struct ProbeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "probe", abstract: "Predict a column of a feature table (CSV or CSV.gz) from its features.")
  @OptionGroup var hostOptions: HostOptions
  @Option(help: "The feature table (CellProfiler or pycytominer profiles).") var table: String
  @Option(help: "The column to predict (row and column are derived from a well column when absent).") var target: String
  @Option(help: "Column kept on one side of every fold (default: each table row).") var groups: String?
  @Option(help: "Column giving the unit of replication, permuted whole (default: each table row).") var units: String?
  @Option(help: "Permute labels only within this column's values.") var strata: String?
  @Option(help: "Feature column prefix or comma-separated list (default: numeric non-Metadata_ columns).")
  var features: String?
  @Option(help: "Use only rows matching COLUMN=VALUE, e.g. Metadata_broad_sample=DMSO.") var control: String?
  @Option(help: "Cross-validation: group-kfold, leave-one-group-out, paired, stratified-group-kfold.") var cv: String?
  @Option(help: "Label permutations for the p-value.") var permutations: Int?
  @Option(name: .customLong("c"), help: "Inverse L2 strength, as scikit-learn's C (default 1).") var regularisation: Double?
  @Flag(help: "Choose C per fold by grouped cross-validation inside its training rows (see --c-grid).")
  var nestedC = false
  @Option(help: "Comma-separated C values for --nested-c (default 0.001,0.01,0.1,1,10,100).") var cGrid: String?
  @Option(help: "A probe plugin id (default: the host's probe).") var plugin: String?
  @Flag(help: "Print the whole result as JSON.") var json = false

  func run() throws {
    var parameters = JSONObject()
    if let cv { parameters["cv"] = .string(cv) }
    if let permutations { parameters["permutations"] = .int(Int64(permutations)) }
    if let regularisation { parameters["c"] = .double(regularisation) }
    if nestedC { parameters["nested_c"] = true }
    if let cGrid { parameters["c_grid"] = .string(cGrid) }
    let params = ProbeTableRequest.Params(
      table: table, target: target, groups: groups, units: units, strata: strata, features: features, control: control,
      plugin: plugin, parameters: parameters.isEmpty ? nil : parameters)
    let response = try withHost(hostOptions) { try $0.request(ProbeTableRequest.self, params, progressTitle: "probe") }
    if json {
      var object: JSONObject = ["plugin": .string(response.plugin), "result": response.result,
                                "table": try JSONCodec.encode(response.table)]
      if let interpretation = response.interpretation { object["interpretation"] = .string(interpretation) }
      if let design = response.designAssociations { object["designAssociations"] = try JSONCodec.encode(design) }
      printJSON(.object(object))
      return
    }
    let t = response.table
    print("\(t.rowsUsed) of \(t.rows) rows, \(t.featuresUsed) features (\(t.featuresDropped) dropped for missing values)")
    let overall = response.result["metrics"]?["overall"]
    let base = response.result["baseline"]?["overall"]
    for key in ["accuracy", "balanced_accuracy", "auc"] {
      let v = overall?[key]?.doubleValue.map { String(format: "%.3f", $0) } ?? "-"
      let b = base?[key]?.doubleValue.map { String(format: "%.3f", $0) } ?? "-"
      print("\(key): \(v) (permuted baseline \(b))")
    }
    if nestedC {
      let chosen = (response.result["metrics"]?["folds"]?.arrayValue ?? []).map { $0["c"]?.doubleValue ?? .nan }
      print("C chosen per fold by inner grouped CV: \(chosen.map { String(format: "%g", $0) }.joined(separator: ", "))")
    }
    for leak in response.result["leaks"]?.arrayValue ?? [] { print("leak: \(leak.stringValue ?? "")") }
    print(response.result["verdict"]?.stringValue ?? "")
    if let interpretation = response.interpretation { print(interpretation) }
  }
}
