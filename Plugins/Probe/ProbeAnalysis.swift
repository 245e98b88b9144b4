import Foundation
import JSONRPC
import Statistics

/// The probe's settings: the manifest's parameters with defaults filled in.
struct ProbeSettings {
  var cv = "group-kfold"
  var folds = 5
  var c = 1.0
  /// Choose C per outer fold by inner grouped CV over `cGrid` (then `c` is unused).
  var nestedC = false
  var cGrid = CrossValidation.defaultCGrid
  var innerFolds = 3
  var permutations = 199
  var bootstraps = 200
  /// `balanced_accuracy` or `roc_auc`: the score with its interval, baselines and permutation test.
  var metric = "balanced_accuracy"
  var seed: UInt64 = 0
  /// Threads each fit splits its rows among (BLAS itself stays on one thread).
  var threads = 1
  /// Permutations fitted at once, each on one thread (when the fits themselves use one); the result is the same
  /// for any number.
  var permutationWorkers = 1
  /// Feature matrices with at least this many values are fitted on every core (see bench_probe.py); below it one
  /// thread, since the host already runs two plugin workers side by side.
  static let threadedEntries = 4_000_000
}

/// What a probe predicts and from what: one row per observation (cell, site or well).
struct ProbeData {
  var x: FeatureMatrix
  /// What to predict, per row.
  var labels: [String]
  /// The identity kept on one side of every fold (cell line, plate, well).
  var groups: [String]
  /// The unit of replication per row: labels move between whole units in the permutation test and the bootstrap
  /// resamples whole units. Defaults to each row.
  var units: [String]
  /// Labels are permuted only within a stratum (batch, plate); nil: one stratum.
  var strata: [String]?
  /// For paired folds: the label value meaning disease.
  var disease: String?
  /// The covariate's name for the verdict ("plate", "row").
  var target: String
}

/// A probe run end to end: held-out metrics, the column-permuted baseline, the leakage score with a bootstrap
/// interval over units, the label-permutation p-value at the unit of replication, and a plain verdict.
struct ProbeAnalysis {
  /// Below this, the permutation p-value counts as evidence.
  static let alpha = 0.05

  let data: ProbeData
  let settings: ProbeSettings
  let classNames: [String]
  let truth: [Int]
  let folds: [Fold]

  init(data: ProbeData, settings: ProbeSettings) throws {
    self.data = data
    self.settings = settings
    classNames = Array(Set(data.labels)).sorted()
    guard classNames.count >= 2 else {
      throw ProbeInputError("context.labels hold \(classNames.count) distinct value; a probe needs at least 2")
    }
    let index = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
    truth = data.labels.map { index[$0]! }
    folds = try ProbeFolds.make(cv: settings.cv, folds: settings.folds, labels: truth, groups: data.groups,
                                disease: data.disease.map { d in data.labels.map { $0 == d } }, seed: settings.seed)
  }

  /// Identities found on both sides of a fold. A group there means the splitter is broken: refuse. A unit there
  /// (a well whose cells are split across folds) is reported, since its rows are not independent.
  func leaks() throws -> [Leak] {
    let groupLeaks = try CrossValidation.leakageLint(folds: folds, identities: ["group": data.groups])
    if let first = groupLeaks.first {
      throw ProbeInputError("the folds put a group in training and test (\(first)); use a grouped cv")
    }
    return try CrossValidation.leakageLint(folds: folds, identities: ["unit": data.units])
  }

  /// Folds for permuted `labels`: splitters that read the labels (paired, stratified) are rebuilt from them, so
  /// every permutation is cross-validated the way the observed labels were (paired folds kept from the observed
  /// labels would no longer pair healthy with disease, lowering the null and making p too small).
  func folds(for labels: [Int]) throws -> [Fold] {
    guard labels != truth, settings.cv == "paired" || settings.cv == "stratified-group-kfold" else { return folds }
    let disease = data.disease.flatMap { d in classNames.firstIndex(of: d) }
    return try ProbeFolds.make(cv: settings.cv, folds: settings.folds, labels: labels, groups: data.groups,
                               disease: disease.map { d in labels.map { $0 == d } }, seed: settings.seed)
  }

  func predict(_ x: FeatureMatrix, labels: [Int], check: () throws -> Void) throws -> HeldOutPrediction {
    try HeldOutPrediction(x: x, labels: labels, classCount: classNames.count, folds: try folds(for: labels),
                          regularisation: settings.nestedC ? .nested(grid: settings.cGrid, innerFolds: settings.innerFolds)
                            : .fixed(settings.c), groups: data.groups, threads: settings.threads,
                          checkCancellation: check)
  }

  /// Runs everything; `check` throws on cancellation, `progress` receives fractions in 0...1.
  func run(check: () throws -> Void, progress: (Double) -> Void) throws -> (summary: JSONValue, probabilities: FeatureMatrix) {
    let leaks = try leaks()
    var clock = ContinuousClock.now
    func lap() -> Double {
      let now = ContinuousClock.now
      defer { clock = now }
      let d = now - clock
      return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
    var seconds: JSONObject = [:]
    let observed = try predict(data.x, labels: truth, check: check)
    seconds["cross_validation"] = .double(lap())
    let report = try ProbeReport(prediction: observed, truth: truth, folds: folds, classNames: classNames,
                                 groups: data.groups)
    let permutedColumns = Inference.permutingColumns(data.x, seed: settings.seed &+ 1)
    let baseline = try predict(permutedColumns, labels: truth, check: check)
    let baselineReport = try ProbeReport(prediction: baseline, truth: truth, folds: folds, classNames: classNames,
                                         groups: data.groups)
    seconds["baseline"] = .double(lap())
    progress(0.1)
    let predicted = argmaxRows(observed.probabilities)
    let baselinePredicted = argmaxRows(baseline.probabilities)
    // Leakage score: balanced accuracy above the baseline, resampling whole units.
    let interval = try Inference.bootstrapInterval(units: data.units, replicates: max(settings.bootstraps, 1),
                                                   seed: settings.seed &+ 2) { rows in
      let t = rows.map { truth[$0] }
      return try Metrics.balancedAccuracy(truth: t, predicted: rows.map { predicted[$0] })
        - Metrics.balancedAccuracy(truth: t, predicted: rows.map { baselinePredicted[$0] })
    }
    let useAUC = settings.metric == "roc_auc"
    guard !useAUC || classNames.count == 2 else {
      throw ProbeInputError("parameter metric = roc_auc needs a binary target; \(data.target) has \(classNames.count) values")
    }
    /// The chosen metric of held-out probabilities over `rows`.
    func score(_ labels: [Int], _ probabilities: FeatureMatrix, rows: [Int]) throws -> Double {
      let t = rows.map { labels[$0] }
      if useAUC {
        guard t.contains(0), t.contains(1) else { return .nan }
        return try Metrics.rocAUC(positive: t.map { $0 == 1 }, scores: rows.map { probabilities[$0, 1] })
      }
      return try Metrics.balancedAccuracy(truth: t, predicted: rows.map { argmaxRows(probabilities)[$0] })
    }
    let allRows = Array(truth.indices)
    let observedScore = try score(truth, observed.probabilities, rows: allRows)
    let baselineScore = try score(truth, baseline.probabilities, rows: allRows)
    let scoreInterval = try Inference.bootstrapInterval(units: data.units, replicates: max(settings.bootstraps, 1),
                                                        seed: settings.seed &+ 4) { rows in
      try score(truth, observed.probabilities, rows: rows)
    }
    let design = try PermutationDesign(units: data.units, labels: truth, strata: data.strata)
    let permutations = max(settings.permutations, 1)
    func reportDone(_ done: Int) { progress(0.1 + 0.9 * min(1, Double(done) / Double(permutations + 1))) }
    let test: PermutationTestResult
    if settings.permutationWorkers > 1 {
      // Fits on one thread each, several at once; cancellation and progress between batches, on this thread.
      test = try Inference.concurrentPermutationTest(
        design: design, permutations: permutations, seed: settings.seed &+ 3, workers: settings.permutationWorkers,
        afterBatch: { done in
          try check()
          reportDone(done)
        }
      ) { labels in
        if labels == truth { return observedScore }
        return try score(labels, try predict(data.x, labels: labels, check: {}).probabilities, rows: allRows)
      }
    } else {
      var done = 0
      test = try Inference.permutationTest(design: design, permutations: permutations, seed: settings.seed &+ 3) { labels in
        done += 1
        reportDone(done)
        if labels == truth { return observedScore }
        return try score(labels, try predict(data.x, labels: labels, check: check).probabilities, rows: allRows)
      }
    }
    let null = test.null.filter(\.isFinite)
    let nullMean = null.reduce(0, +) / Double(max(null.count, 1))
    let nullSD = (null.reduce(0) { $0 + ($1 - nullMean) * ($1 - nullMean) } / Double(max(null.count - 1, 1))).squareRoot()
    seconds["bootstrap_and_permutations"] = .double(lap())
    var summary: JSONObject = [
      "target": .string(data.target),
      "classes": .array(classNames.map(JSONValue.string)),
      "cv": .string(settings.cv),
      "c": settings.nestedC ? "nested" : .double(settings.c),
      "metrics": report.json,
      "baseline": baselineReport.json,
      "leakage_metric": "balanced_accuracy",
      "leakage_score": .double(interval.estimate),
      "leakage_ci": [.double(interval.lower), .double(interval.upper)],
      "p_value": .double(test.pValue),
      "p_exact": .bool(test.exact),
      "permutations": .int(Int64(test.permutations)),
      "smallest_attainable_p": .double(test.smallestAttainablePValue),
      "units": .int(Int64(design.unitLabels.count)),
      "score_metric": .string(settings.metric),
      "score": .double(observedScore),
      "score_ci": [.double(scoreInterval.lower), .double(scoreInterval.upper)],
      "column_permuted_score": .double(baselineScore),
      "label_permuted_mean": .double(nullMean),
      "label_permuted_sd": .double(nullSD),
    ]
    summary["verdict"] = .string(verdict(observed: observedScore, baseline: baselineScore, test: test,
                                         units: design.unitLabels.count))
    summary["leaks"] = .array(leaks.map { .string($0.description) })
    // Wall seconds of each step, for benchmarks (bench_probe.py) and for choosing the number of permutations.
    summary["seconds"] = .object(seconds)
    return (.object(summary), observed.probabilities)
  }

  /// One plain sentence: predictable, cannot tell (the design cannot reach the threshold), or no evidence.
  func verdict(observed: Double, baseline: Double, test: PermutationTestResult, units: Int) -> String {
    let name = settings.metric == "roc_auc" ? "ROC AUC" : "balanced accuracy"
    let numbers = "\(name) \(format(observed)) vs \(format(baseline)) with features permuted"
    // A class whose rows all share one group is never in the training rows when it is tested.
    let groupsOfClass = Dictionary(grouping: truth.indices, by: { truth[$0] }).mapValues { Set($0.map { data.groups[$0] }).count }
    let unlearnable = groupsOfClass.values.filter { $0 < 2 }.count
    if test.pValue > Self.alpha, 2 * unlearnable > classNames.count {
      return "cannot tell: \(unlearnable) of \(classNames.count) \(data.target) values occur in a single group, so no "
        + "fold trains on the value it tests (\(numbers))"
    }
    if test.pValue <= Self.alpha {
      return "\(data.target) is predictable from the features: \(numbers), p = \(format(test.pValue))"
    }
    if !test.canReach(Self.alpha) {
      return "cannot tell: with \(units) units of replication and \(test.permutations) permutations the smallest "
        + "attainable p is \(format(test.smallestAttainablePValue)) (\(numbers))"
    }
    return "no evidence that \(data.target) is predictable from the features: \(numbers), p = \(format(test.pValue))"
  }
}

/// Two decimals for scores, three significant digits for small p-values.
func format(_ x: Double) -> String {
  x >= 0.01 || x == 0 ? String(format: "%.2f", x) : String(format: "%.2g", x)
}
