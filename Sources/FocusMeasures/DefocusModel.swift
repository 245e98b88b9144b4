import Foundation

/// A learned defocus classifier in the manner of Yang et al. 2018 ("Assessing microscope image focus quality with
/// deep learning"): every 64-pixel patch of a plane gets a probability for each of the 11 defocus levels of
/// `DefocusSimulation.levelSigmas`; the plane's prediction pools the patches, weighted by their certainty.
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
    /// The most probable level.
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
      level = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
      let entropy = probabilities.reduce(0) { $1 > 0 ? $0 - $1 * log($1) : $0 }
      certainty = n > 1 ? max(0, 1 - entropy / log(Double(n))) : 1
      let expected = probabilities.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element }
      score = n > 1 ? 1 - expected / Double(n - 1) : 1
    }
  }

  /// Per-patch predictions for the selected patches of `plane` (see `DefocusFeatures.selected`).
  public func patchPredictions(_ plane: FocusPlane) -> [Prediction] {
    DefocusFeatures.patches(plane).map { Prediction(probabilities: probabilities(raw: $0), patches: 1) }
  }

  /// The plane's prediction: patch probabilities averaged with weights equal to each patch's certainty. Throws
  /// when the plane is smaller than one patch or no patch has a positive mean (nothing to normalise by).
  public func predict(_ plane: FocusPlane) throws -> Prediction {
    let patches = patchPredictions(plane)
    guard !patches.isEmpty else {
      throw FocusMeasuresError.invalidArgument(
        "DefocusModel.predict: a \(plane.width) x \(plane.height) plane has no \(DefocusFeatures.patchSize)-pixel "
          + "patch with positive mean; pass a larger plane with intensities above 0")
    }
    var pooled = [Double](repeating: 0, count: intercepts.count)
    var weight = 0.0
    for p in patches {
      let w = max(p.certainty, 1e-6)
      for k in pooled.indices { pooled[k] += w * p.probabilities[k] }
      weight += w
    }
    return Prediction(probabilities: pooled.map { $0 / weight }, patches: patches.count)
  }
}
