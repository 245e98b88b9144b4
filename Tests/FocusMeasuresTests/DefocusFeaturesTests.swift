import Foundation
import Statistics
import XCTest

@testable import FocusMeasures

/// The defocus model's patch features: quantiles against numpy's definition, invariances, the grid.
final class DefocusFeaturesTests: XCTestCase {
  /// numpy.percentile(arange(100), 99.5) = 98.505 and percentile(arange(100), 0.5) = 0.495 (linear interpolation).
  func testQuantileIsNumpysLinearInterpolation() {
    var generator = SeededGenerator(seed: 3)
    var values = (0..<100).map(Double.init)
    generator.shuffle(&values)
    XCTAssertEqual(DefocusFeatures.quantile(&values, 0.995), 98.505, accuracy: 1e-12)
    generator.shuffle(&values)
    XCTAssertEqual(DefocusFeatures.quantile(&values, 0.005), 0.495, accuracy: 1e-12)
    var ties = [3.0, 1, 3, 3, 2, 3]
    XCTAssertEqual(DefocusFeatures.quantile(&ties, 0.5), 3, accuracy: 0)
    var one = [7.0]
    XCTAssertEqual(DefocusFeatures.quantile(&one, 0.995), 7)
  }

  /// The one-pass quantile equals the sorted definition exactly, in random order, ascending order (every value
  /// enters the heap, as image differences in spatial order nearly do), descending order, and with many ties.
  func testStreamQuantileEqualsTheSortedDefinition() {
    var generator = SeededGenerator(seed: 5)
    let random = (0..<2000).map { _ in Double(generator.next() % 1_000_000) / 997 }
    let tied = (0..<2000).map { _ in Double(generator.next() % 7) }
    for values in [random, random.sorted(), Array(random.sorted().reversed()), tied, [4.0], [2.0, 1.0]] {
      let sorted = values.sorted()
      for q in [0.0, 0.005, 0.013, 0.25, 0.5, 0.77, 0.995, 1.0] {
        let position = q * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        let expected = sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
        var stream = StreamQuantile(q, count: values.count)
        for v in values { stream.add(v) }
        XCTAssertEqual(stream.value, expected, "q \(q), \(values.count) values")
      }
    }
  }

  /// Every feature is unchanged by a gain (x -> 37 x), and there are 2 * lags + 1 of them.
  func testFeaturesAreGainInvariant() throws {
    var generator = SeededGenerator(seed: 4)
    let n = 96
    let pixels = (0..<(n * n)).map { i -> Float in
      let (x, y) = (Double(i % n), Double(i / n))
      let blob = 50 * exp(-((x - 40) * (x - 40) + (y - 50) * (y - 50)) / 200)
      return Float(10 + blob + DefocusSimulation.uniform(&generator))
    }
    let plane = try FocusPlane(pixels: pixels, width: n, height: n)
    let brighter = try FocusPlane(pixels: pixels.map { $0 * 37 }, width: n, height: n)
    let a = try XCTUnwrap(DefocusFeatures.patch(plane, x0: 16, y0: 16))
    let b = try XCTUnwrap(DefocusFeatures.patch(brighter, x0: 16, y0: 16))
    XCTAssertEqual(a.count, 2 * DefocusFeatures.lags.count + 1)
    for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-6) }
  }

  /// A blurred step edge: the lag-1 edge feature is log(2 Phi(1 / (2 sigma)) - 1) of the step, whatever its height.
  func testEdgeFeatureReadsTheBlurOfAStep() throws {
    let n = 64
    let sigma = 2.0
    // Columns 0..<32 dark (10), the rest bright (10 + h), blurred analytically: the step at x = 31.5.
    let pixels = (0..<(n * n)).map { i -> Float in
      let x = Double(i % n) - 31.5
      return Float(10 + 90 * 0.5 * (1 + erf(x / (sigma * 2.0.squareRoot()))))
    }
    let plane = try FocusPlane(pixels: pixels, width: n, height: n)
    let f = try XCTUnwrap(DefocusFeatures.patch(plane, x0: 0, y0: 0))
    // The steepest lag-1 difference straddles the step: 90 * (Phi(0.5 / sigma) - Phi(-0.5 / sigma)); the range is
    // 90 * (Phi(31.5 / sigma) - Phi(-31.5 / sigma)) = 90 to double precision. The 99.5% quantile of 2 * 64 * 63
    // differences (half of them zero, vertical) lies among the 64 largest, which are all that one value.
    let expected = log(erf(0.5 / (sigma * 2.0.squareRoot())) + DefocusFeatures.edgeFloor)
    XCTAssertEqual(f[DefocusFeatures.lags.count + 1], expected, accuracy: 1e-5)
  }
}
