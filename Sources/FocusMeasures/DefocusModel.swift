import Foundation

/// A learned defocus classifier in the manner of Yang et al. 2018 ("Assessing microscope image focus quality with
/// deep learning"): every 64-pixel patch of a plane gets a probability for each of the 11 defocus levels of
/// `DefocusSimulation.levelSigmas`; the plane's prediction pools the patches as a product of experts (the mean of
/// their log-probabilities, renormalised), which treats the patches as independent views of one blur.
///
/// The classifier is multinomial logistic regression on `DefocusFeatures` (standardised, plus their squares), so
/// the whole model is a few hundred numbers. `shipped` holds the weights trained by `DefocusTrainer` (see
/// `DefocusShippedWeights.swift` for what on and how); `train` rebuilds them from in-focus images.
public struct DefocusModel: Sendable, Equatable {
  /// Mean of each raw feature over the training patches.
  public let means: [Double]
  /// Population standard deviation of each raw feature over the training patches (1 for a constant one).
  public let scales: [Double]
  /// One row per level, one column per expanded feature (`2 * DefocusFeatures.count`: standardised, squared).
  public let coefficients: [[Double]]
  /// One per level.
  public let intercepts: [Double]

  /// Wraps trained weights; throws when their shapes disagree with `DefocusFeatures` and the level count.
  public init(means: [Double], scales: [Double], coefficients: [[Double]], intercepts: [Double]) throws {
    let d = DefocusFeatures.count
    let levels = DefocusSimulation.levelCount
    guard means.count == d, scales.count == d, intercepts.count == levels, coefficients.count == levels,
      coefficients.allSatisfy({ $0.count == 2 * d })
    else {
      throw FocusMeasuresError.shape(
        "DefocusModel: expected \(d) means/scales, \(levels) x \(2 * d) coefficients and \(levels) intercepts; "
          + "retrain with DefocusTrainer.train for the current DefocusFeatures")
    }
    self.means = means
    self.scales = scales
    self.coefficients = coefficients
    self.intercepts = intercepts
  }

  /// Standardised raw features followed by their squares: the input of the linear layer.
  public func expand(_ raw: [Double]) -> [Double] {
    let z = zip(raw, zip(means, scales)).map { ($0 - $1.0) / $1.1 }
    return z + z.map { $0 * $0 }
  }

  /// Level probabilities (softmax of the linear scores) of one patch's raw features.
  public func probabilities(raw: [Double]) -> [Double] {
    let x = expand(raw)
    let scores = zip(coefficients, intercepts).map { row, b in zip(row, x).reduce(b) { $0 + $1.0 * $1.1 } }
    let top = scores.max() ?? 0
    let e = scores.map { exp($0 - top) }
    let total = e.reduce(0, +)
    return e.map { $0 / total }
  }

  /// One patch's or one plane's verdict.
  public struct Prediction: Sendable, Equatable {
    /// Probability of each defocus level (0 = in focus), summing to 1.
    public let probabilities: [Double]
    /// The expected level, rounded: the level that minimises the expected distance to the true one, which is
    /// what "within one level" asks (the most probable level of a broad distribution can sit at its edge).
    public let level: Int
    /// 1 - entropy / log(levels): 1 when one level has all the mass, 0 when all are equally likely.
    public let certainty: Double
    /// 1 - expected level / (levels - 1): 1 = in focus, 0 = the most defocused level. A continuous score, so
    /// planes within one level still rank by how far they lean to the next.
    public let score: Double
    /// Number of patches pooled (1 for a patch).
    public let patches: Int

    /// Summarises `probabilities` pooled from `patches` patches.
    public init(probabilities: [Double], patches: Int) {
      self.probabilities = probabilities
      self.patches = patches
      let n = probabilities.count
      let entropy = probabilities.reduce(0) { $1 > 0 ? $0 - $1 * log($1) : $0 }
      certainty = n > 1 ? max(0, 1 - entropy / log(Double(n))) : 1
      let expected = probabilities.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element }
      score = n > 1 ? 1 - expected / Double(n - 1) : 1
      level = Int(expected.rounded())
    }
  }

  /// Per-patch predictions for the selected patches of `plane` (see `DefocusFeatures.selected`).
  public func patchPredictions(_ plane: FocusPlane) -> [Prediction] {
    DefocusFeatures.patches(plane).map { Prediction(probabilities: probabilities(raw: $0), patches: 1) }
  }

  /// The plane's prediction: the patches' log-probabilities averaged (each floored at 1e-12, so one patch cannot
  /// veto a level), exponentiated and renormalised. On the held-out ladder this pooling beat the certainty-weighted
  /// mean of probabilities (level within one 0.964 against 0.956 in the prototype). Throws
  /// when the plane is smaller than one patch or no patch has a positive mean (nothing to normalise by).
  public func predict(_ plane: FocusPlane) throws -> Prediction {
    let patches = patchPredictions(plane)
    guard !patches.isEmpty else {
      throw FocusMeasuresError.invalidArgument(
        "DefocusModel.predict: a \(plane.width) x \(plane.height) plane has no \(DefocusFeatures.patchSize)-pixel "
          + "patch with positive mean; pass a larger plane with intensities above 0")
    }
    var logs = [Double](repeating: 0, count: intercepts.count)
    for p in patches {
      for k in logs.indices { logs[k] += log(max(p.probabilities[k], 1e-12)) / Double(patches.count) }
    }
    let top = logs.max() ?? 0
    let e = logs.map { exp($0 - top) }
    let total = e.reduce(0, +)
    return Prediction(probabilities: e.map { $0 / total }, patches: patches.count)
  }
}
