import XCTest

@testable import FocusMeasures

/// Focus measures on synthetic planes whose values are known in closed form.
final class ClosedFormTests: XCTestCase {
  func plane(_ width: Int, _ height: Int, _ value: (Int, Int) -> Double) throws -> FocusPlane {
    var pixels = [Float](repeating: 0, count: width * height)
    for y in 0..<height { for x in 0..<width { pixels[y * width + x] = Float(value(x, y)) } }
    return try FocusPlane(pixels: pixels, width: width, height: height)
  }

  func testRejectsMismatchedPlane() {
    XCTAssertThrowsError(try FocusPlane(pixels: [1, 2, 3], width: 2, height: 2))
  }

  /// CellProfiler's test: uniform noise on [0, 1) has var / mean = (1/12) / (1/2) = 1/6.
  func testFocusScoreOfUniformNoiseIsOneSixth() throws {
    var rng = SplitMix(seed: 42)
    let noise = try plane(1000, 1000) { _, _ in rng.unit() }
    XCTAssertEqual(ImageQuality.focusScore(noise), 1.0 / 6, accuracy: 0.002)
  }

  func testFocusScoreOfTwoLevelsIsExact() throws {
    // Half 0, half 1: mean 1/2, variance 1/4, var / mean = 1/2.
    XCTAssertEqual(ImageQuality.focusScore(try plane(10, 6) { x, _ in Double(x % 2) }), 0.5, accuracy: 1e-15)
    XCTAssertEqual(ImageQuality.focusScore(try plane(7, 5) { _, _ in 3 }), 0)
  }

  func testTilingFollowsCellProfiler() {
    // 50 rows at scale 20: ceil(50/20) = 3 tiles; row y in tile floor(3y/50): 17, 17 and 16 rows.
    let grid = TileGrid(width: 45, height: 50, scale: 20)
    XCTAssertEqual(grid.rows, 3)
    XCTAssertEqual(grid.columns, 3)
    XCTAssertEqual((0..<3).map { t in grid.rowTile.filter { $0 == t }.count }, [17, 17, 16])
    XCTAssertEqual((0..<3).map { t in grid.columnTile.filter { $0 == t }.count }, [15, 15, 15])
  }

  /// Four 20 x 20 tiles, each a checkerboard 10 +- d with d^2 / 10 = 1, 2, 3, 4: the tiles' normalised variances
  /// are 1..4, whose population variance 1.25 over median 2.5 gives 0.5.
  func testLocalFocusScoreOfKnownTiles() throws {
    let p = try plane(40, 40) { x, y in
      let tile = (y / 20) * 2 + x / 20
      let d = (10.0 * Double(tile + 1)).squareRoot()
      return 10 + ((x + y) % 2 == 0 ? d : -d)
    }
    XCTAssertEqual(try ImageQuality.localFocusScore(p, scale: 20), 0.5, accuracy: 1e-6)
    XCTAssertThrowsError(try ImageQuality.localFocusScore(p, scale: 0))
  }

  /// Vertical stripes one pixel wide: neighbours one apart are opposite (correlation -1), two apart equal (+1).
  func testCorrelationOfStripes() throws {
    let stripes = try plane(11, 4) { x, _ in Double(x % 2) * 100 + 5 }
    XCTAssertEqual(try ImageQuality.correlation(stripes, scale: 1), -1, accuracy: 1e-12)
    XCTAssertEqual(try ImageQuality.correlation(stripes, scale: 2), 1, accuracy: 1e-12)
    XCTAssertEqual(try ImageQuality.correlation(try plane(8, 8) { _, _ in 1 }, scale: 1), 0)
  }

  func testPercentMaximalAndMinimal() throws {
    let values: [Float] = [9, 9, 9, 1, 1, 4, 5, 6, 7, 8]
    let (maximal, minimal) = ImageQuality.percentMaximalMinimal(try FocusPlane(pixels: values, width: 5, height: 2))
    XCTAssertEqual(maximal, 30, accuracy: 1e-12)
    XCTAssertEqual(minimal, 20, accuracy: 1e-12)
  }

  func testGradientsOfConstantAreZero() throws {
    let flat = try plane(16, 9) { _, _ in 123 }
    let measures = [GradientSharpness.brenner, GradientSharpness.tenengrad, GradientSharpness.laplacianVariance]
    for value in measures.map({ $0(flat) }) {
      XCTAssertEqual(value, GradientSharpness.Value(raw: 0, normalised: 0))
    }
  }

  /// On the ramp 100 + 3x + 2y: Brenner 2(a^2 + b^2) = 26, Tenengrad 64(a^2 + b^2) = 832, Laplacian 0.
  func testGradientsOfRamp() throws {
    let (w, h) = (30, 20)
    let ramp = try plane(w, h) { x, y in 100 + 3 * Double(x) + 2 * Double(y) }
    let mean = 100 + 3 * Double(w - 1) / 2 + 2 * Double(h - 1) / 2
    let brenner = GradientSharpness.brenner(ramp)
    XCTAssertEqual(brenner.raw, 26, accuracy: 1e-9)
    XCTAssertEqual(brenner.normalised, 26 / (mean * mean), accuracy: 1e-12)
    let tenengrad = GradientSharpness.tenengrad(ramp)
    XCTAssertEqual(tenengrad.raw, 832, accuracy: 1e-9)
    XCTAssertEqual(tenengrad.normalised, 832 / (mean * mean), accuracy: 1e-12)
    XCTAssertEqual(GradientSharpness.laplacianVariance(ramp).raw, 0, accuracy: 1e-9)
  }

  /// A checkerboard +-1 around 10: the Laplacian is +-8 everywhere (variance 64 on a balanced interior), while
  /// Brenner (pixels two apart) and Tenengrad (Sobel) cannot see this Nyquist pattern at all.
  func testCheckerboardSeparatesLaplacianFromGradients() throws {
    let board = try plane(10, 8) { x, y in 10 + ((x + y) % 2 == 0 ? 1 : -1) }
    let laplacian = GradientSharpness.laplacianVariance(board)
    XCTAssertEqual(laplacian.raw, 64, accuracy: 1e-9)
    XCTAssertEqual(laplacian.normalised, 0.64, accuracy: 1e-12)
    XCTAssertEqual(GradientSharpness.brenner(board).raw, 0)
    XCTAssertEqual(GradientSharpness.tenengrad(board).raw, 0)
  }

  func testNormalisedGradientsIgnoreBrightness() throws {
    var rng = SplitMix(seed: 7)
    let values = (0..<(40 * 30)).map { _ in 50 + 10 * rng.unit() }
    let dim = try plane(40, 30) { x, y in values[y * 40 + x] }
    let bright = try plane(40, 30) { x, y in 4 * values[y * 40 + x] }
    let measures = [GradientSharpness.brenner, GradientSharpness.tenengrad, GradientSharpness.laplacianVariance]
    for (a, b) in measures.map({ ($0(dim), $0(bright)) }) {
      XCTAssertEqual(b.raw / a.raw, 16, accuracy: 1e-9)
      XCTAssertEqual(b.normalised / a.normalised, 1, accuracy: 1e-9)
    }
  }

  /// Cosines along x at every integer frequency k (so every ring has power) with amplitude k^p: a falling spectrum
  /// (p = -1) has a negative log-log slope, a rising one (p = +1) a positive slope, in every variant.
  func testPowerSlopeSignFollowsSpectrum() throws {
    let n = 256
    for exponent in [-1.0, 1.0] {
      var row = [Double](repeating: 100, count: n)
      for k in 1..<(n / 2) {
        let amplitude = pow(Double(k), exponent)
        for x in 0..<n { row[x] += amplitude * cos(2 * Double.pi * Double(k * x) / Double(n)) }
      }
      let slopes = try PowerLogLogSlope.slopes(try plane(n, n) { x, _ in row[x] })
      for value in [slopes.cellProfiler, slopes.lowBand, slopes.fullBand] {
        XCTAssertEqual(value.sign, exponent < 0 ? .minus : .plus, "exponent \(exponent): slopes \(slopes)")
        XCTAssertGreaterThan(abs(value), 0.5)
      }
    }
    XCTAssertEqual(try PowerLogLogSlope.slopes(try plane(64, 64) { _, _ in 5 }).cellProfiler, 0)
  }

  /// The FFT against the defining sum, for power-of-two, mixed-radix (the 3- and 5-point butterflies: 45, 100, 696,
  /// 1080; the p-point sum: primes 13 and 29) and Bluestein (97) lengths.
  func testFFTMatchesDirectSum() {
    var rng = SplitMix(seed: 3)
    for n in [1, 2, 8, 13, 29, 45, 97, 100, 520, 696, 1080] {
      let re = (0..<n).map { _ in rng.unit() - 0.5 }
      let im = (0..<n).map { _ in rng.unit() - 0.5 }
      var fr = re
      var fi = im
      fr.withUnsafeMutableBufferPointer { r in fi.withUnsafeMutableBufferPointer { i in
        FFTPlan(length: n).forward(r.baseAddress!, i.baseAddress!)
      } }
      let direct = directDFT(re, im)
      for k in 0..<n {
        XCTAssertEqual(fr[k], direct.re[k], accuracy: 1e-10 * Double(n), "n \(n) k \(k)")
        XCTAssertEqual(fi[k], direct.im[k], accuracy: 1e-10 * Double(n), "n \(n) k \(k)")
      }
    }
  }
}

/// The defining sum `X_k = sum_j x_j exp(-2 pi i j k / n)`, in O(n^2).
func directDFT(_ re: [Double], _ im: [Double]) -> (re: [Double], im: [Double]) {
  let n = re.count
  var out = (re: [Double](repeating: 0, count: n), im: [Double](repeating: 0, count: n))
  for k in 0..<n {
    for j in 0..<n {
      let angle = -2 * Double.pi * Double((j * k) % n) / Double(n)
      out.re[k] += re[j] * cos(angle) - im[j] * sin(angle)
      out.im[k] += re[j] * sin(angle) + im[j] * cos(angle)
    }
  }
  return out
}

/// SplitMix64, for reproducible synthetic images.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform on [0, 1) with 53 random bits.
  mutating func unit() -> Double { Double(next() >> 11) / 9_007_199_254_740_992 }
}
