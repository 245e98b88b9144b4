import CConfoundPlugin
import Foundation
import ConfoundKit
import ConfoundProtocol
import JSONRPC
import Statistics

/// The built-in probe: predicts a covariate (plate, row, column, batch) or the target from features with
/// grouped cross-validation and L2 logistic regression, against a column-permuted baseline, with a
/// label-permutation p-value at the unit of replication. A thin adapter over `Statistics` (see ProbeAnalysis).
final class LogisticProbe: ProbePlugin {
  static let manifest = PluginManifest(
    id: "confound.probe", name: "Logistic-regression probe", kind: .probe, version: "0.1.0",
    abiVersion: Int(CONFOUND_ABI_VERSION),
    description: "Predicts a covariate or the target from features with grouped cross-validation (standardised "
      + "inside each training fold), reports per-fold metrics, a column-permuted baseline, a leakage score with a "
      + "bootstrap interval over units and a label-permutation p-value that permutes whole units.",
    parameters: [
      ParameterSpec(name: "cv", type: .string, default: "group-kfold", choices: ProbeFolds.names,
                    description: "Cross-validation splitter; every one keeps each group on one side of every fold."),
      ParameterSpec(name: "folds", type: .integer, default: 5, minimum: 2, maximum: 1000,
                    description: "Folds for the k-fold splitters (capped at the number of groups)."),
      ParameterSpec(name: "c", type: .number, default: 1.0, minimum: 1e-12,
                    description: "Inverse L2 strength, as scikit-learn's LogisticRegression C."),
      ParameterSpec(name: "nested_c", type: .boolean, default: false,
                    description: "Choose C per fold by grouped cross-validation inside its training rows over c_grid "
                      + "(accuracy, first best on ties, as GridSearchCV); each fold reports its C. Multiplies the cost "
                      + "of every fit, permutations included, by the grid size times inner_folds."),
      ParameterSpec(name: "c_grid", type: .string, default: "0.001,0.01,0.1,1,10,100",
                    description: "Comma-separated C values for nested_c."),
      ParameterSpec(name: "inner_folds", type: .integer, default: 3, minimum: 2, maximum: 100,
                    description: "Group folds of the inner cross-validation for nested_c."),
      ParameterSpec(name: "permutations", type: .integer, default: 199, minimum: 1, maximum: 100_000,
                    description: "Label permutations for the p-value (all arrangements when fewer exist)."),
      ParameterSpec(name: "metric", type: .string, default: "balanced_accuracy", choices: ["balanced_accuracy", "roc_auc"],
                    description: "The score reported with its own bootstrap interval, compared with its column-permuted "
                      + "and label-permuted baselines, and tested by label permutation (roc_auc: binary targets only)."),
      ParameterSpec(name: "bootstraps", type: .integer, default: 200, minimum: 1, maximum: 100_000,
                    description: "Bootstrap replicates over units for the leakage score's 95% interval."),
      ParameterSpec(name: "threads", type: .integer, default: 0, minimum: 0, maximum: 256,
                    description: "Threads each fit splits its rows among (same result for any count); 0: one thread "
                      + "per fit below \(ProbeSettings.threadedEntries) feature values, the permutations' fits then run "
                      + "side by side on all cores; all cores per fit above. Fits under 8,192 rows use one thread "
                      + "whatever is asked."),
      ParameterSpec(name: "seed", type: .integer, default: 0, minimum: 0,
                    description: "Seed of the permuted baseline, permutations, bootstrap and paired folds."),
    ],
    outputs: [
      OutputSpec(name: "probabilities", type: .tensor, description: "out-of-fold class probabilities [N, K]"),
      OutputSpec(name: "verdict", type: .json, description: "one plain sentence with the numbers"),
    ])

  init() {
    // The fits split their rows among threads of their own; OpenBLAS's threads only slow these thin products.
    BLASThreads.set(1)
  }

  func fit(features: ConfoundKit.FeatureMatrix, context: CallContext) throws -> AnalysisResult {
    var settings = ProbeSettings()
    settings.cv = context.string("cv") ?? settings.cv
    settings.folds = context.integer("folds") ?? settings.folds
    settings.c = context.number("c") ?? settings.c
    settings.nestedC = context.bool("nested_c") ?? false
    settings.innerFolds = context.integer("inner_folds") ?? settings.innerFolds
    if let grid = context.string("c_grid") {
      let values = grid.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
      guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 && $0!.isFinite }) else {
        throw PluginError.invalidParams("parameter c_grid must be comma-separated positive numbers, got \"\(grid)\"")
      }
      settings.cGrid = values.map { $0! }
    }
    settings.permutations = context.integer("permutations") ?? settings.permutations
    settings.bootstraps = context.integer("bootstraps") ?? settings.bootstraps
    settings.metric = context.string("metric") ?? settings.metric
    settings.seed = UInt64(max(0, context.integer("seed") ?? 0))
    func strings(_ key: String) throws -> [String]? {
      guard let values = context.context[key]?.arrayValue else { return nil }
      guard values.count == features.rows else {
        throw PluginError.invalidParams("context.\(key) has \(values.count) values for \(features.rows) rows")
      }
      return values.map { $0.stringValue ?? JSONWriter.string($0) }
    }
    let threads = context.integer("threads") ?? 0
    settings.threads = threads > 0 ? threads : features.rows * features.columns >= ProbeSettings.threadedEntries
      ? ProcessInfo.processInfo.activeProcessorCount : 1
    // Small fits are too short to split by rows; the permutations, each an independent fit, share the cores instead.
    settings.permutationWorkers = threads == 0 && settings.threads == 1 ? ProcessInfo.processInfo.activeProcessorCount : 1
    guard let groups = features.groups else {
      throw PluginError.invalidParams("context.groups is required: the identity (well, plate, cell line) each row "
        + "belongs to, kept on one side of every fold")
    }
    do {
      let x = try Statistics.FeatureMatrix(rows: features.rows, columns: features.columns, values: features.values)
      let data = ProbeData(
        x: x, labels: features.labels, groups: groups,
        units: try strings("units") ?? (0..<features.rows).map { String($0) }, strata: try strings("strata"),
        disease: context.context["disease"]?.stringValue, target: context.context["target"]?.stringValue ?? "the label")
      let analysis = try ProbeAnalysis(data: data, settings: settings)
      let (summary, probabilities) = try analysis.run(check: { try context.checkCancellation() },
                                                      progress: { context.progress($0) })
      return AnalysisResult(summary: summary, outputs: [
        Tensor(name: "probabilities", shape: [probabilities.rows, probabilities.columns], doubles: probabilities.values)
      ])
    } catch let error as ProbeInputError {
      throw PluginError.invalidParams(error.description)
    } catch let error as StatisticsError {
      throw PluginError.badInput("\(error)")
    }
  }
}

@_cdecl("confound_plugin_entry")
public func confoundPluginEntry(_ hostABI: UInt32) -> UnsafePointer<cf_plugin>? {
  PluginExport.entry(LogisticProbe.self, hostABI: hostABI)
}
