import Statistics

/// The folds a probe uses, chosen by the `cv` parameter. Every splitter keeps each group (cell line, plate,
/// well) on one side of every fold.
enum ProbeFolds {
  static let names = ["group-kfold", "leave-one-group-out", "paired", "stratified-group-kfold"]

  /// - Parameters:
  ///   - labels: class index per row; `groups`: the identity that must not straddle a fold.
  ///   - disease: for `paired`, whether each row is a disease row.
  static func make(cv: String, folds: Int, labels: [Int], groups: [String], disease: [Bool]?, seed: UInt64)
    throws -> [Fold]
  {
    let distinct = Set(groups).count
    switch cv {
    case "group-kfold":
      return try CrossValidation.groupKFold(groups: groups, folds: min(folds, distinct))
    case "leave-one-group-out":
      return try CrossValidation.leaveOneGroupOut(groups: groups)
    case "stratified-group-kfold":
      return try CrossValidation.stratifiedGroupKFold(labels: labels, groups: groups, folds: min(folds, distinct))
    case "paired":
      guard let disease else {
        throw ProbeInputError("cv \"paired\" needs context.disease: the label value that means disease")
      }
      return try CrossValidation.pairedFolds(groups: groups, disease: disease, seed: seed)
    default:
      throw ProbeInputError("parameter cv must be one of \(names.joined(separator: ", ")), got \"\(cv)\"")
    }
  }
}

/// Held-out class probabilities of one cross-validation: per fold, a `Standardizer` and an L2 logistic regression
/// fitted on the training rows only, scoring the test rows. A row tested by several folds (paired folds with
/// unequal healthy and disease counts reuse groups) gets the mean of its folds' probabilities.
struct HeldOutPrediction {
  /// rows x classes; column k is class k of the probe's class list.
  var probabilities: FeatureMatrix
  /// The fold-wise probabilities of each fold's test rows, in `fold.test` order.
  var foldProbabilities: [FeatureMatrix]

  /// The C each fold's model was fitted with, and the inner-CV choice behind it when C was nested.
  var chosenC: [Double]
  var selections: [CSelection?]

  /// - Parameters:
  ///   - regularisation: a fixed C, or a grid chosen per fold by grouped CV inside the fold's training rows.
  ///   - groups: the group of each row, which the inner folds keep on one side (used when C is nested).
  init(x: FeatureMatrix, labels: [Int], classCount: Int, folds: [Fold], regularisation: Regularisation,
       groups: [String], threads: Int, checkCancellation: () throws -> Void) throws {
    let options = LBFGSOptions(threads: threads)
    var sum = FeatureMatrix(zeros: x.rows, classCount)
    var tested = [Int](repeating: 0, count: x.rows)
    foldProbabilities = []
    chosenC = []
    selections = []
    var trainingStorage: [Double] = []  // one fold's scaled rows at a time, in the same memory
    for (f, fold) in folds.enumerated() {
      try checkCancellation()
      let trainLabels = fold.train.map { labels[$0] }
      var c: Double
      var selection: CSelection?
      switch regularisation {
      case .fixed(let value):
        c = value
      case .nested(let grid, let innerFolds):
        do {
          selection = try CrossValidation.selectC(
            features: x.selecting(rows: fold.train), labels: trainLabels, groups: fold.train.map { groups[$0] },
            grid: grid, innerFolds: innerFolds, options: options, checkCancellation: checkCancellation)
        } catch StatisticsError.invalidArgument(let reason) {
          throw ProbeInputError("nested C in fold \(f): \(reason)")
        }
        c = selection!.c
      }
      chosenC.append(c)
      selections.append(selection)
      let scaler = try Standardizer(fitting: x, rows: fold.train)
      let model = try LogisticRegression.fit(
        features: scaler.transform(x, rows: fold.train, reusing: &trainingStorage), labels: trainLabels, c: c,
        options: options)
      let p = try model.probabilities(scaler.transform(x, rows: fold.test))
      // A class absent from this fold's training rows keeps probability 0.
      var full = FeatureMatrix(zeros: fold.test.count, classCount)
      for i in fold.test.indices {
        for (k, label) in model.classes.enumerated() { full[i, label] = p[i, k] }
        for k in 0..<classCount { sum[fold.test[i], k] += full[i, k] }
        tested[fold.test[i]] += 1
      }
      foldProbabilities.append(full)
    }
    if let untested = tested.firstIndex(of: 0) {
      throw ProbeInputError("row \(untested) is tested by no fold; every row needs a group that some fold tests")
    }
    for r in 0..<x.rows { for k in 0..<classCount { sum[r, k] /= Double(tested[r]) } }
    probabilities = sum
  }
}

/// How each fold's model is regularised: one C for all, or C chosen inside each fold's training rows.
enum Regularisation {
  case fixed(Double)
  /// The grid of C and the number of inner group folds.
  case nested(grid: [Double], innerFolds: Int)
}

/// The most probable class of each row of `p` (first class on ties).
func argmaxRows(_ p: FeatureMatrix) -> [Int] {
  (0..<p.rows).map { r in
    var best = 0
    for k in 1..<max(p.columns, 1) where p[r, k] > p[r, best] { best = k }
    return best
  }
}

/// A request the probe cannot run, said in terms of its parameters and context; reported as invalid params.
struct ProbeInputError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
