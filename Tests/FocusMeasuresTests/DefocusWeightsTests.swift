import Foundation
import XCTest

@testable import FocusMeasures
@testable import Statistics

/// The shipped weights are what `DefocusTrainer.train` rebuilds from the documented training set: the same
/// standardisation, bit for bit, and a fit that reaches the same minimum of the training objective. The fit's
/// coefficients themselves are not compared: at C = 1000 the penalised log loss is nearly flat along some
/// directions, and L-BFGS, stopped at its gradient tolerance, lands at different points of that floor when the
/// BLAS kernels of another processor round the last bits differently (seen between two machines of one kind).
final class DefocusWeightsTests: XCTestCase {
  static let seed: UInt64 = 1

  func trained() throws -> (model: DefocusModel, images: Int) {
    let training = try DefocusImages.split().training
    return (try DefocusTrainer.train(images: training.map(\.plane), seed: Self.seed), training.count)
  }

  /// Retrains and compares with `DefocusModel.shipped`. With CONFOUND_WRITE_DEFOCUS_WEIGHTS=1 in the
  /// environment it first rewrites Sources/FocusMeasures/DefocusShippedWeights.swift and evaluates the new model.
  func testShippedWeightsAreTheDocumentedTraining() throws {
    let (model, count) = try trained()
    if ProcessInfo.processInfo.environment["CONFOUND_WRITE_DEFOCUS_WEIGHTS"] == "1" {
      let target = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/FocusMeasures/DefocusShippedWeights.swift")
      let provenance = ["The defocus model shipped with Confound.", ""]
        + DefocusTrainer.provenance(options: DefocusTrainer.Options(), seed: Self.seed) + [
          "Training images: the \(count) at even positions of the sorted ids of the DSB2018 stage-1 test fluorescence",
          "images (grey, median below a fifth of the 99.9th percentile; channel 0) under",
          "../shared/data/dsb2018-stage1-test. The odd positions are held out for the defocus ladder test.",
          "Regenerate: CONFOUND_WRITE_DEFOCUS_WEIGHTS=1 swift test --filter DefocusWeightsTests (writes this file),",
          "then rebuild and run DefocusEvaluationTests; `confound focus train` on the same images writes the same",
          "numbers as a weights file.",
        ]
      try model.swiftSource(provenance: provenance).write(to: target, atomically: true, encoding: .utf8)
      try DefocusEvaluation.assertRequirements(model)
      return  // the compiled-in weights are the old ones until the next build
    }
    let shipped = DefocusModel.shipped
    for (a, b) in zip(model.means + model.scales, shipped.means + shipped.scales) {
      XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, abs(b)), "the standardisation is the data's, on any machine")
    }
    let (rebuilt, documented) = try objectives(model, shipped)
    print("defocus training objective: rebuilt \(rebuilt), shipped \(documented)")
    XCTAssertEqual(rebuilt, documented, accuracy: 1e-4 * abs(documented), "both fits reach the same minimum")
    // A model far from the minimum (the shipped coefficients halved) is told apart by the same comparison.
    let halved = try DefocusModel(means: shipped.means, scales: shipped.scales,
                                  coefficients: shipped.coefficients.map { $0.map { $0 / 2 } }, intercepts: shipped.intercepts)
    let (_, away) = try objectives(model, halved)
    XCTAssertGreaterThan(away, documented * (1 + 1e-3))
  }

  /// The penalised multinomial log loss of the training objective at two models' coefficients.
  func objectives(_ a: DefocusModel, _ b: DefocusModel) throws -> (Double, Double) {
    let training = try DefocusImages.split().training
    let (raw, levels) = DefocusTrainer.samples(images: training.map(\.plane), seed: Self.seed)
    let d = 2 * DefocusFeatures.count
    let x = try FeatureMatrix(rows: raw.count, columns: d, values: raw.flatMap { a.expand($0) })
    let loss = LogLoss(x: x, target: levels, classCount: DefocusSimulation.levelCount, c: DefocusTrainer.Options().c)
    func value(_ m: DefocusModel) -> Double {
      let outputs = m.intercepts.count
      var theta = [Double](repeating: 0, count: (d + 1) * outputs)
      for k in 0..<outputs { for j in 0..<d { theta[j * outputs + k] = m.coefficients[k][j] } }
      for k in 0..<outputs { theta[d * outputs + k] = m.intercepts[k] }
      var gradient = [Double](repeating: 0, count: theta.count)
      return loss.evaluate(theta, gradient: &gradient)
    }
    return (value(a), value(b))
  }
}
