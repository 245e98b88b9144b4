import Foundation
import XCTest

@testable import FocusMeasures

/// The shipped weights are exactly what `DefocusTrainer.train` rebuilds from the documented training set.
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
    let pairs = zip(model.means + model.scales + model.intercepts + model.coefficients.flatMap { $0 },
                    shipped.means + shipped.scales + shipped.intercepts + shipped.coefficients.flatMap { $0 })
    for (a, b) in pairs { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
  }
}
