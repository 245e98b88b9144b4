import Foundation
import Statistics
import XCTest

@testable import FocusMeasures

/// The learned defocus score against the requirements on real images, with the classical measures' numbers
/// on the same tests printed beside it.
final class DefocusEvaluationTests: XCTestCase {
  func testShippedModelMeetsRequirements() throws { try DefocusEvaluation.assertRequirements(DefocusModel.shipped) }
}

/// The evaluation itself, shared with `DefocusWeightsTests` (which runs it on a freshly trained model).
enum DefocusEvaluation {
  /// A focus score: higher = sharper.
  typealias Scorer = (name: String, score: (FocusPlane) throws -> Double)

  static let classical: [Scorer] = [
    ("ImageQuality_FocusScore", { ImageQuality.focusScore($0) }),
    ("BrennerNormalized", { GradientSharpness.brenner($0).normalised }),
    ("TenengradNormalized", { GradientSharpness.tenengrad($0).normalised }),
    ("LaplacianVarianceNormalized", { GradientSharpness.laplacianVariance($0).normalised }),
    ("PowerLogLogSlopeLowBand", { try PowerLogLogSlope.slopes($0).lowBand }),
  ]

  /// The ladder: every held-out image at every level, with camera noise drawn as in training (seed 2; the shipped
  /// weights used seed 1). Made once per process.
  nonisolated(unsafe) static var ladderCache: [(image: Int, level: Int, plane: FocusPlane)]?

  static func ladder() throws -> [(image: Int, level: Int, plane: FocusPlane)] {
    if let hit = ladderCache { return hit }
    let options = DefocusTrainer.Options()
    var generator = SeededGenerator(seed: 2)
    var out: [(Int, Int, FocusPlane)] = []
    for (i, named) in try DefocusImages.split().heldOut.enumerated() {
      for (level, sigma) in DefocusSimulation.levelSigmas.enumerated() {
        let u = DefocusSimulation.uniform(&generator)
        let peak = exp(log(options.peakPhotons.lowerBound) + log(options.peakPhotons.upperBound
          / options.peakPhotons.lowerBound) * u)
        let read = options.readNoise.lowerBound
          + (options.readNoise.upperBound - options.readNoise.lowerBound) * DefocusSimulation.uniform(&generator)
        let blurred = DefocusSimulation.gaussianBlur(named.plane, sigma: sigma)
        out.append((i, level, DefocusSimulation.cameraNoise(blurred, peakPhotons: peak, readNoise: read,
                                                            generator: &generator)))
      }
    }
    ladderCache = out
    return out
  }

  /// The four numbers of the issue for one scorer.
  struct Result {
    var bbbc006Separated = false
    var bbbc006Margin = 0.0
    var stackRho = 0.0
    var sharpOver1p5 = 0.0
    var sharpOver3 = 0.0
  }

  static func evaluate(_ scorer: Scorer) throws -> Result {
    var r = Result()
    let (near, far) = try DefocusImages.bbbc006()
    let n = try near.map { try scorer.score($0.plane) }
    let f = try far.map { try scorer.score($0.plane) }
    r.bbbc006Separated = n.min()! > f.max()!
    r.bbbc006Margin = n.min()! - f.max()!
    let stack = try DefocusImages.defocusStack()
    r.stackRho = spearman(try stack.map { try scorer.score($0.plane) }, stack.map { abs($0.defocus) })
    let ladder = try ladder()
    let scores = try ladder.map { try scorer.score($0.plane) }
    func fraction(_ level: Int) -> Double {
      let sharp = ladder.indices.filter { ladder[$0].level == 0 }
      let blurred = ladder.indices.filter { ladder[$0].level == level }
      var wins = 0.0
      var pairs = 0.0
      for s in sharp {
        for b in blurred where ladder[b].image != ladder[s].image {
          pairs += 1
          wins += scores[s] > scores[b] ? 1 : scores[s] == scores[b] ? 0.5 : 0
        }
      }
      return wins / pairs
    }
    r.sharpOver1p5 = fraction(DefocusSimulation.levelSigmas.firstIndex(of: 1.5)!)
    r.sharpOver3 = fraction(DefocusSimulation.levelSigmas.firstIndex(of: 3)!)
    print(padded(scorer.name), r.bbbc006Separated ? "separated" : "NOT separated",
          String(format: "margin %.4g, stack rho %.4f, sharp>1.5px %.4f, sharp>3px %.4f",
                 r.bbbc006Margin, r.stackRho, r.sharpOver1p5, r.sharpOver3))
    return r
  }

  /// Share of ladder images whose predicted level is within one of the applied level, with the confusion printed.
  static func levelAccuracy(_ model: DefocusModel) throws -> Double {
    let ladder = try ladder()
    var within = 0
    var confusion = Array(repeating: Array(repeating: 0, count: 11), count: 11)
    for item in ladder {
      let level = try model.predict(item.plane).level
      confusion[item.level][level] += 1
      if abs(level - item.level) <= 1 { within += 1 }
    }
    print("ladder confusion (row = applied level, column = predicted):")
    for row in confusion { print("  " + row.map { String(format: "%3d", $0) }.joined()) }
    let share = Double(within) / Double(ladder.count)
    print("predicted level within one: \(within) of \(ladder.count) = \(share)")
    return share
  }

  /// Evaluates a model on every requirement; `DefocusWeightsTests` also calls it on a freshly trained model.
  static func assertRequirements(_ model: DefocusModel) throws {
    print("held-out ladder: \(try DefocusImages.split().heldOut.count) images x 11 levels")
    let learned = try evaluate(("DefocusModel.score", { try model.predict($0).score }))
    for scorer in classical { _ = try evaluate(scorer) }
    XCTAssertTrue(learned.bbbc006Separated, "a near-focus BBBC006 site scores below a far one")
    XCTAssertGreaterThanOrEqual(abs(learned.stackRho), 0.95)
    XCTAssertGreaterThanOrEqual(learned.sharpOver3, 0.99)
    // The requirements. The shipped weights reach 0.980 against sigma 1.5 and 0.975 of levels within one
    // (every classical measure reaches at most 0.85 against sigma 1.5 on the same ladder).
    XCTAssertGreaterThanOrEqual(learned.sharpOver1p5, 0.95)
    XCTAssertGreaterThanOrEqual(try levelAccuracy(model), 0.95)
  }
}
