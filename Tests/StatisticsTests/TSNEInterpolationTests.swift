import Foundation
import TestSupport
import XCTest

@testable import Statistics

/// FFT-accelerated interpolation of t-SNE's repulsion (FIt-SNE): the FFT against the DFT's definition, Z and the
/// gradient against the exact O(N^2) sums, and the objective reached against openTSNE's own FFT method.
final class TSNEInterpolationTests: XCTestCase {
  func testFourierTransformEqualsTheDFTAndInvertsForLengthsOfTwosAndThrees() throws {
    var random = SeededGenerator(seed: 4)
    for n in [1, 2, 3, 4, 6, 8, 12, 18, 27, 48, 96, 144] {
      let fourier = try XCTUnwrap(TSNEFourier(length: n))
      let xr = (0..<n).map { _ in Double(random.next() >> 11) / 9_007_199_254_740_992 - 0.5 }
      let xi = (0..<n).map { _ in Double(random.next() >> 11) / 9_007_199_254_740_992 - 0.5 }
      var re = xr, im = xi
      var scratch = [Double](repeating: 0, count: 2 * n)
      scratch.withUnsafeMutableBufferPointer { s in
        fourier.transform(&re, &im, scratch: s.baseAddress!, s.baseAddress! + n, inverse: false)
      }
      for k in 0..<n {
        var sr = 0.0, si = 0.0
        for j in 0..<n {
          let angle = -2 * Double.pi * Double(j * k % n) / Double(n)
          sr += xr[j] * cos(angle) - xi[j] * sin(angle)
          si += xr[j] * sin(angle) + xi[j] * cos(angle)
        }
        XCTAssertEqual(re[k], sr, accuracy: 1e-12 * Double(n), "length \(n), frequency \(k)")
        XCTAssertEqual(im[k], si, accuracy: 1e-12 * Double(n), "length \(n), frequency \(k)")
      }
      scratch.withUnsafeMutableBufferPointer { s in
        fourier.transform(&re, &im, scratch: s.baseAddress!, s.baseAddress! + n, inverse: true)
      }
      for j in 0..<n {
        XCTAssertEqual(re[j] / Double(n), xr[j], accuracy: 1e-14 * Double(n))
        XCTAssertEqual(im[j] / Double(n), xi[j], accuracy: 1e-14 * Double(n))
      }
    }
    XCTAssertNil(TSNEFourier(length: 10))
    XCTAssertEqual(TSNEFourier.smoothLength(atLeast: 20), 24)
    XCTAssertEqual(TSNEFourier.smoothLength(atLeast: 100), 108)
    XCTAssertEqual(TSNEInterpolation.boxes(span: 0.001), 24)
    XCTAssertEqual(TSNEInterpolation.boxes(span: 61.5), 64)
  }

  /// 3,000 points of a three-cluster mixture laid out as a converged t-SNE embedding looks (clusters some tens of
  /// units apart, span about 80), and the same shrunk 1,000-fold as in early exaggeration: Z, the repulsive forces
  /// and the whole gradient against the exact sums, and our errors against openTSNE's own FFT estimate
  /// (`_tsne.estimate_negative_gradient_fft_2d`, its defaults) on the same points. Interpolation with one box per
  /// unit is openTSNE's accuracy setting: a few percent on the forces at this span, so ours must match that level,
  /// not beat it by orders.
  func testFFTRepulsionMatchesTheExactSumsAsCloselyAsOpenTSNE() throws {
    let n = 3000
    var random = SeededGenerator(seed: 12)
    func uniform() -> Double { Double(random.next() >> 11) / 9_007_199_254_740_992 }
    let x = try FeatureMatrix(
      rows: n, columns: 5,
      values: (0..<n).flatMap { i in (0..<5).map { j in Double((i % 3 == j % 3) ? 4 : 0) + uniform() - 0.5 } })
    let p = try TSNEAffinities(points: x, perplexity: 30)
    let centres = [(-30.0, -20.0), (35.0, -5.0), (0.0, 40.0)]
    var y = [Double](repeating: 0, count: 2 * n)
    for i in 0..<n {
      let r = 12 * uniform().squareRoot(), a = 2 * Double.pi * uniform()
      y[2 * i] = centres[i % 3].0 + r * cos(a)
      y[2 * i + 1] = centres[i % 3].1 + r * sin(a)
    }
    let folder = try TemporaryDirectory()
    try y.withUnsafeBytes { try Data($0).write(to: folder.file("Y.bin")) }
    let theirs = try reference(
      """
      import json, sys, numpy as np
      from openTSNE import _tsne
      Y0 = np.fromfile(sys.argv[1] + "/Y.bin").reshape(-1, 2)
      out = {}
      for scale in (1.0, 1e-3):
          Y = np.ascontiguousarray(Y0 * scale)
          d = Y[:, None, :] - Y[None, :, :]
          w = 1 / (1 + (d ** 2).sum(-1)); np.fill_diagonal(w, 0)
          Z = w.sum(); F = -((w ** 2)[:, :, None] * d).sum(1) / Z
          g = np.zeros_like(Y); z = _tsne.estimate_negative_gradient_fft_2d(Y, g)
          out[str(scale)] = {"z": abs(z - Z) / Z, "force": float(np.linalg.norm(g - F) / np.linalg.norm(F))}
      print(json.dumps(out))
      """, in: folder)
    for (scale, key) in [(1.0, "1.0"), (1e-3, "0.001")] {
      let ys = y.map { $0 * scale }
      var exactForce = [Double](repeating: 0, count: 2 * n)
      var fftForce = exactForce
      let zExact = TSNEObjective.exactRepulsion(ys, count: n, force: &exactForce, threads: 2)
      let zFFT = TSNEInterpolation.repulsion(ys, count: n, force: &fftForce, threads: 2)
      var exact = exactForce, approximate = exactForce
      TSNEObjective.gradient(p, embedding: ys, method: .exact, into: &exact, threads: 2)
      TSNEObjective.gradient(p, embedding: ys, method: .fft, into: &approximate, threads: 2)
      let zError = abs(zFFT - zExact) / zExact
      let forceError = relativeError(fftForce.map { $0 / zFFT }, exactForce.map { $0 / zExact })
      let gradientError = relativeError(approximate, exact)
      let reference = theirs[key] as! [String: Double]
      print(
        "FFT interpolation, \(n) points, span x \(scale): Z error \(zError) (openTSNE \(reference["z"]!)), "
          + "repulsion \(forceError) (openTSNE \(reference["force"]!)), gradient \(gradientError)")
      XCTAssertLessThan(zError, 1.1 * reference["z"]! + 1e-9, "scale \(scale)")
      XCTAssertLessThan(forceError, 1.1 * reference["force"]! + 1e-9, "scale \(scale)")
      XCTAssertLessThan(gradientError, scale == 1 ? 0.05 : 1e-8, "scale \(scale)")
    }
  }

  private func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / b.map { $0 * $0 }.reduce(0, +).squareRoot()
  }

  /// 300 uniform points in the unit 4-cube (seeded) and a short t-SNE at perplexity 10 for them.
  private func smallRun(seed: UInt64, iterations: Int) throws -> (FeatureMatrix, TSNE) {
    var random = SeededGenerator(seed: seed)
    let x = try FeatureMatrix(
      rows: 300, columns: 4, values: (0..<1200).map { _ in Double(random.next() >> 11) / 9_007_199_254_740_992 })
    var tsne = TSNE()
    tsne.perplexity = 10
    tsne.iterations = iterations
    return (x, tsne)
  }

  func testFFTEmbeddingIsDeterministic() throws {
    let (x, configured) = try smallRun(seed: 3, iterations: 100)
    var tsne = configured
    tsne.method = .fft
    let a = try tsne.embed(x)
    XCTAssertEqual(a.method, .fft)
    XCTAssertEqual(a.embedding, try tsne.embed(x).embedding)
  }

  /// `.auto` resolves to FFT from `interpolationFrom` points, and per step keeps the grid only while it is the
  /// cheaper: small spans (early exaggeration) by interpolation, a 50,000-point embedding 480 units wide by the tree.
  func testAutoTakesInterpolationFromTheThresholdAndTheTreeWhereTheGridIsDearer() throws {
    let (x, configured) = try smallRun(seed: 8, iterations: 50)
    var tsne = configured
    var random = SeededGenerator(seed: 8)
    tsne.exactBelow = 100
    tsne.interpolationFrom = 200
    XCTAssertEqual(try tsne.embed(x).method, .fft)
    tsne.interpolationFrom = 301
    XCTAssertEqual(try tsne.embed(x).method, .barnesHut)
    func square(_ n: Int, span: Double) -> [Double] {
      (0..<(2 * n)).map { _ in (Double(random.next() >> 11) / 9_007_199_254_740_992 - 0.5) * span }
    }
    XCTAssertTrue(TSNEInterpolation.cheaperThanBarnesHut(square(50_000, span: 60), count: 50_000))
    XCTAssertFalse(TSNEInterpolation.cheaperThanBarnesHut(square(50_000, span: 480), count: 50_000))
    XCTAssertTrue(TSNEInterpolation.cheaperThanBarnesHut(square(10_000, span: 60), count: 10_000))
    XCTAssertFalse(TSNEInterpolation.cheaperThanBarnesHut(square(10_000, span: 216), count: 10_000))
  }

  /// Same data (1,532 DeepProfiler cell embeddings, 50-D), perplexity 30, both sides with FFT-interpolated
  /// repulsion: the final KL (exact, from openTSNE's P) within 5% of openTSNE's.
  func testKLWithinFivePercentOfOpenTSNEWithFFTOnDeepProfilerEmbeddings() throws {
    let (x, klTheirs) = try openTSNEOnDeepProfiler(negativeGradient: "fft", in: try TemporaryDirectory())
    var tsne = TSNE()
    tsne.method = .fft
    let result = try tsne.embed(x)
    XCTAssertEqual(result.method, .fft)
    let klOurs = TSNEObjective.klDivergence(result.affinities, embedding: result.embedding.values)
    XCTAssertLessThan(abs(klOurs - klTheirs) / klTheirs, 0.05, "KL ours \(klOurs), openTSNE \(klTheirs)")
    print("t-SNE (FFT) on \(x.rows) DeepProfiler cells: KL ours \(klOurs), openTSNE \(klTheirs)")
  }
}
