import Foundation
import Segmentation
import TestSupport
import XCTest

/// F1 at IoU 0.5 and count error of `NucleusSegmenter` with its defaults, side by side with scikit-image's
/// classical pipeline on the same images; ours must be at least as good on each set as a whole.
final class AccuracyTests: XCTestCase {
  func testStardistImg2dAtLeastAsGoodAsScikitImage() throws {
    try compare("img2d")
  }

  func testDSB2018FluorescenceAtLeastAsGoodAsScikitImage() throws {
    try compare("dsb")
  }

  private func compare(_ set: String) throws {
    let folder = try TemporaryDirectory(prefix: "seg-accuracy")
    let images = try ReferenceImages.load(set, into: folder)
    XCTAssertFalse(images.isEmpty)
    var ours = MatchCounts(), theirs = MatchCounts()
    var ourCountError = 0.0, theirCountError = 0.0, ourSeconds = 0.0, theirSeconds = 0.0
    for image in images {
      let start = Date()
      let result = try NucleusSegmenter().segment(image.pixels, width: image.width, height: image.height)
      ourSeconds += Date().timeIntervalSince(start)
      theirSeconds += image.baselineSeconds
      XCTAssertTrue(result.foregroundPresent, "\(image.name): nuclei image judged empty")
      let mine = InstanceMatching.match(truth: image.truth, predicted: result.labels)
      let base = InstanceMatching.match(truth: image.truth, predicted: image.baseline)
      // Our matcher against the Python one on scikit-image's labels: the same counts.
      XCTAssertEqual([base.truePositives, base.falsePositives, base.falseNegatives],
                     [image.baselineCounts.tp, image.baselineCounts.fp, image.baselineCounts.fn], image.name)
      ours = ours + mine
      theirs = theirs + base
      let trueCount = Double(max(mine.truePositives + mine.falseNegatives, 1))
      ourCountError += abs(Double(result.count) - trueCount) / trueCount
      theirCountError += abs(Double(base.truePositives + base.falsePositives) - trueCount) / trueCount
      if ProcessInfo.processInfo.environment["SEG_VERBOSE"] != nil {
        print("\(image.name) truth \(Int(trueCount)) ours \(result.count) tp \(mine.truePositives) "
          + "skimage \(base.truePositives + base.falsePositives) tp \(base.truePositives) "
          + "c/n \(String(format: "%.2f", result.contrastToNoise))")
      }
    }
    let n = Double(images.count)
    print(String(format: "%@ (%d images): F1@0.5 ours %.4f skimage %.4f; mean relative count error ours %.3f "
      + "skimage %.3f; seconds per image ours %.4f skimage %.4f", set, images.count, ours.f1, theirs.f1,
      ourCountError / n, theirCountError / n, ourSeconds / n, theirSeconds / n))
    XCTAssertGreaterThanOrEqual(ours.f1, theirs.f1, "\(set): F1 below scikit-image's classical pipeline")
  }
}
