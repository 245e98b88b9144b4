import Foundation
import Statistics
import XCTest

@testable import FocusMeasures

/// Closed forms of the defocus simulation, the features' invariances and the prediction summary.
final class DefocusSimulationTests: XCTestCase {
  /// Blurring a centred impulse gives the kernel: it sums to 1 and its second moment along x is sigma^2.
  func testGaussianBlurOfImpulseHasSigmaSquaredVariance() throws {
    let n = 65
    var pixels = [Float](repeating: 0, count: n * n)
    pixels[32 * n + 32] = 1
    for sigma in [0.5, 1.5, 3.0] {
      let out = DefocusSimulation.gaussianBlur(try FocusPlane(pixels: pixels, width: n, height: n), sigma: sigma)
      var total = 0.0
      var moment = 0.0
      for y in 0..<n {
        for x in 0..<n {
          let v = Double(out.pixels[y * n + x])
          total += v
          moment += v * Double((x - 32) * (x - 32))
        }
      }
      XCTAssertEqual(total, 1, accuracy: 1e-5)
      // The kernel is exp(-k^2 / 2 sigma^2) sampled at integers |k| <= ceil(4 sigma), normalised: its variance is
      // sum k^2 w_k / sum w_k (sigma^2 for wide kernels, less for sigma 0.5).
      let r = Int((4 * sigma).rounded(.up))
      let w = (-r...r).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
      let sampled = zip(-r...r, w).reduce(0) { $0 + Double($1.0 * $1.0) * $1.1 } / w.reduce(0, +)
      XCTAssertEqual(moment, sampled, accuracy: 1e-5 * sampled)
      if sigma >= 1.5 { XCTAssertEqual(moment, sigma * sigma, accuracy: 1e-3 * sigma * sigma) }
      XCTAssertEqual(Double(out.pixels[32 * n + 33]), Double(out.pixels[33 * n + 32]), accuracy: 1e-7, "isotropic")
    }
  }

  func testMirrorReflectsWithoutRepeatingTheEdge() {
    XCTAssertEqual((-3...7).map { DefocusSimulation.mirror($0, 5) }, [3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1])
  }

  /// Camera noise on a flat field of lambda photons: mean lambda, variance lambda + readNoise^2.
  func testCameraNoiseHasPoissonPlusGaussianMoments() throws {
    var g = SeededGenerator(seed: 9)
    for (lambda, read) in [(4.0, 0.0), (12.0, 2.0), (400.0, 3.0)] {
      let flat = try FocusPlane(pixels: [Float](repeating: 7, count: 200 * 200), width: 200, height: 200)
      let noisy = DefocusSimulation.cameraNoise(flat, peakPhotons: lambda, readNoise: read, generator: &g)
      let v = noisy.pixels.map(Double.init)
      let mean = v.reduce(0, +) / Double(v.count)
      let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)
      let expected = lambda + read * read
      // 40,000 draws: the standard error of the mean is sqrt(expected / 40000), of the variance about
      // expected * sqrt(2 / 40000); allow 5 of each.
      XCTAssertEqual(mean, lambda, accuracy: 5 * (expected / 40000).squareRoot())
      XCTAssertEqual(variance, expected, accuracy: 5 * expected * (2.0 / 40000).squareRoot())
    }
  }

  /// Features do not change when intensities are multiplied by a gain (exposure, stain brightness).
  func testFeaturesAreGainInvariant() throws {
    var g = SeededGenerator(seed: 3)
    let pixels = (0..<(80 * 80)).map { _ in Float(1 + DefocusSimulation.uniform(&g)) }
    let plane = try FocusPlane(pixels: pixels, width: 80, height: 80)
    let brighter = try FocusPlane(pixels: pixels.map { $0 * 37 }, width: 80, height: 80)
    let a = try XCTUnwrap(DefocusFeatures.patch(plane, x0: 8, y0: 8))
    let b = try XCTUnwrap(DefocusFeatures.patch(brighter, x0: 8, y0: 8))
    // Float32 products round at 6e-8 relative, which moves the logs by about 1e-7.
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-6) }
    XCTAssertNil(DefocusFeatures.patch(plane, x0: 20, y0: 0), "patch outside the plane")
    // Half-overlapping 64-pixel patches: (200 - 64) / 32 + 1 = 5 columns, (130 - 64) / 32 + 1 = 3 rows, the
    // 8 leftover columns split evenly.
    XCTAssertEqual(DefocusFeatures.grid(width: 200, height: 130).count, 15)
    XCTAssertEqual(DefocusFeatures.grid(width: 200, height: 130).first?.x, 4)
    // White noise: squared differences at every lag are 2 variance, so log(D_k / mean^2) = log(2 var / mean^2).
    let variance = a[DefocusFeatures.lags.count]
    for k in 0..<DefocusFeatures.lags.count { XCTAssertEqual(a[k], log(2) + variance, accuracy: 0.1) }
  }

  func testPredictionSummaryClosedForms() {
    let uniform = DefocusModel.Prediction(probabilities: Array(repeating: 1.0 / 11, count: 11), patches: 3)
    XCTAssertEqual(uniform.certainty, 0, accuracy: 1e-12)
    XCTAssertEqual(uniform.score, 0.5, accuracy: 1e-12)
    var one = Array(repeating: 0.0, count: 11)
    one[2] = 1
    let sure = DefocusModel.Prediction(probabilities: one, patches: 1)
    XCTAssertEqual(sure.certainty, 1)
    XCTAssertEqual(sure.level, 2)
    XCTAssertEqual(sure.score, 0.8, accuracy: 1e-12)
  }

  /// The shipped model on its own kind of input: a sharp plane scores above its blurred copy, and a plane
  /// smaller than one patch is refused with a message.
  func testShippedModelRanksBlurAndRefusesTinyPlanes() throws {
    var g = SeededGenerator(seed: 5)
    var pixels = [Float](repeating: 10, count: 192 * 192)
    for _ in 0..<60 {  // Random bright discs, like nuclei.
      let cx = DefocusSimulation.uniform(&g) * 192
      let cy = DefocusSimulation.uniform(&g) * 192
      for y in 0..<192 {
        for x in 0..<192 where (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy) < 36 {
          pixels[y * 192 + x] = 200
        }
      }
    }
    let sharp = try FocusPlane(pixels: pixels, width: 192, height: 192)
    let blurred = DefocusSimulation.gaussianBlur(sharp, sigma: 3)
    let model = DefocusModel.shipped
    XCTAssertGreaterThan(try model.predict(sharp).score, try model.predict(blurred).score)
    let tiny = try FocusPlane(pixels: [Float](repeating: 1, count: 100), width: 10, height: 10)
    XCTAssertThrowsError(try model.predict(tiny))
  }
}
