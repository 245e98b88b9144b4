import Foundation
import TestSupport
import XCTest

@testable import Statistics

/// Spatial-bias statistics against closed forms, a NumPy implementation of the textbook formulas, and their
/// false-positive rate on random plates.
final class SpatialBiasTests: XCTestCase {
  let rows = 8
  let columns = 12

  func testRejectsWrongWellCount() {
    XCTAssertThrowsError(try SpatialBias.medianPolish(values: [1, 2, 3], rows: 2, columns: 2))
    XCTAssertThrowsError(try SpatialBias.moransI(values: [1, 2, nil, nil], rows: 2, columns: 2))
  }

  func testWellValuesSummariseSites() throws {
    // Well 0 (A1): sites 1, 2, 9; well 5 (B3 on a 2 x 3 plate): 4 and NaN; the others have no sites.
    let wells = [0, 0, 0, 5, 5]
    let values = [1, 2, 9, 4, Double.nan]
    let medians = try SpatialBias.wellValues(wells: wells, values: values, rows: 2, columns: 3)
    XCTAssertEqual(medians, [2, nil, nil, nil, nil, 4])
    let means = try SpatialBias.wellValues(wells: wells, values: values, rows: 2, columns: 3, summary: .mean)
    XCTAssertEqual(means, [4, nil, nil, nil, nil, 4])
    XCTAssertThrowsError(try SpatialBias.wellValues(wells: [6], values: [1], rows: 2, columns: 3))
  }

  /// An additive plate a_r + b_c: one sweep recovers a - median(a), b - median(b) and zero residuals.
  func testMedianPolishRecoversAdditiveEffects() throws {
    let a: [Double] = [5, -3, 0.5, 2, 9, -1, 4, 0]
    let b: [Double] = (0..<columns).map { Double($0 * $0) / 7 - 3 }
    let plate = (0..<(rows * columns)).map { a[$0 / columns] + b[$0 % columns] as Double? }
    let polish = try SpatialBias.medianPolish(values: plate, rows: rows, columns: columns)
    let medianA = SpatialBias.median(a)
    let medianB = SpatialBias.median(b)
    for r in 0..<rows { XCTAssertEqual(polish.rowEffects[r], a[r] - medianA, accuracy: 1e-12) }
    for c in 0..<columns { XCTAssertEqual(polish.columnEffects[c], b[c] - medianB, accuracy: 1e-12) }
    XCTAssertEqual(polish.overall, medianA + medianB, accuracy: 1e-12)
    XCTAssertTrue(polish.converged)
    for residual in polish.residuals { XCTAssertEqual(residual!, 0, accuracy: 1e-12) }
  }

  /// A single outlier on an additive plate stays in its residual (the medians ignore it) and gets the top B-score.
  func testBScoreFlagsOutlier() throws {
    var rng = SeededGenerator(seed: 11)
    var plate = (0..<(rows * columns)).map { well -> Double? in
      Double(well / columns) + 0.01 * Double(rng.nextIndex(below: 1000))
    }
    plate[30] = 100
    let polish = try SpatialBias.medianPolish(values: plate, rows: rows, columns: columns)
    let scores = polish.bScores.map { $0! }
    XCTAssertEqual(scores.indices.max { scores[$0] < scores[$1] }, 30)
    XCTAssertGreaterThan(scores[30], 20)
  }

  /// Checkerboard of 0/1 on the full 8 x 12 plate: every rook neighbour pair has z_i z_j = -1/4 and sum z^2 = n/4,
  /// so I = (n / W)(-W / 4) / (n / 4) = -1 exactly.
  func testMoransIOfCheckerboardIsMinusOne() throws {
    let board = (0..<(rows * columns)).map { Double(($0 / columns + $0 % columns) % 2) as Double? }
    let moran = try SpatialBias.moransI(values: board, rows: rows, columns: columns, permutations: 999, seed: 1)
    XCTAssertEqual(moran.i, -1, accuracy: 1e-12)
    XCTAssertEqual(moran.expected, -1.0 / 95, accuracy: 1e-15)
    XCTAssertEqual(moran.adjacentPairs, rows * (columns - 1) + (rows - 1) * columns)
    XCTAssertEqual(moran.pValue, 1.0 / 1000, accuracy: 1e-15)
  }

  func testMoransIOfGradientIsStronglyPositive() throws {
    let gradient = (0..<(rows * columns)).map { Double($0 / columns) + Double($0 % columns) as Double? }
    let moran = try SpatialBias.moransI(values: gradient, rows: rows, columns: columns, permutations: 999, seed: 2)
    XCTAssertGreaterThan(moran.i, 0.8)
    XCTAssertGreaterThan(moran.zScore, 5)
    XCTAssertEqual(moran.pValue, 1.0 / 1000, accuracy: 1e-15)
  }

  func testEdgeTestFindsPlantedEdgeEffect() throws {
    var rng = SeededGenerator(seed: 5)
    let plate = (0..<(rows * columns)).map { well -> Double? in
      let (r, c) = (well / 12, well % 12)
      let edge = r == 0 || r == 7 || c == 0 || c == 11
      return (edge ? 3 : 0) + Double(rng.nextIndex(below: 1000)) / 1000
    }
    let test = try SpatialBias.edgeTest(values: plate, rows: rows, columns: columns, permutations: 999, seed: 3)
    XCTAssertEqual(test.edgeCount, 36)
    XCTAssertEqual(test.interiorCount, 60)
    XCTAssertEqual(test.meanDifference, 3, accuracy: 0.2)
    XCTAssertEqual(test.meanPValue, 1.0 / 1000, accuracy: 1e-15)
    XCTAssertEqual(test.medianPValue, 1.0 / 1000, accuracy: 1e-15)
  }

  /// On 200 seeded plates of independent noise, p < 0.05 should happen about 5% of the time.
  func testFalsePositiveRateOnRandomPlates() throws {
    var rng = SeededGenerator(seed: 2026)
    var edgeHits = 0
    var medianHits = 0
    var moranHits = 0
    let plates = 200
    for k in 0..<plates {
      var plate = (0..<(rows * columns)).map { _ in gaussian(&rng) as Double? }
      plate[rng.nextIndex(below: plate.count)] = nil  // Missing wells must not bias the tests.
      let edge = try SpatialBias.edgeTest(
        values: plate, rows: rows, columns: columns, permutations: 199, seed: UInt64(k))
      let moran = try SpatialBias.moransI(values: plate, rows: rows, columns: columns, permutations: 199,
                                          seed: UInt64(k))
      if edge.meanPValue < 0.05 { edgeHits += 1 }
      if edge.medianPValue < 0.05 { medianHits += 1 }
      if moran.pValue < 0.05 { moranHits += 1 }
    }
    let rates = [edgeHits, medianHits, moranHits].map { Double($0) / Double(plates) }
    print("false-positive rates at p < 0.05 (edge mean, edge median, Moran's I): \(rates)")
    for rate in rates { XCTAssert((0.02...0.09).contains(rate), "false-positive rate \(rate)") }
  }

  /// The same plates through the textbook formulas in NumPy (medpolish as in R, Moran's I with a dense weight
  /// matrix), including missing wells.
  func testAgreesWithNumPy() throws {
    var rng = SeededGenerator(seed: 99)
    var plates: [[Double?]] = []
    for k in 0..<4 {
      var plate = (0..<(rows * columns)).map { well -> Double? in
        gaussian(&rng) + 0.3 * Double(well / columns) - 0.2 * Double(well % columns) + (k == 3 ? 50 : 0)
      }
      for _ in 0..<(3 * k) { plate[rng.nextIndex(below: plate.count)] = nil }
      plates.append(plate)
    }
    let encoded = plates.map { plate in plate.map { $0.map { String($0) } ?? "nan" }.joined(separator: ",") }
    let reference: Any
    do {
      reference = try PythonReference.json(Self.numpyScript, arguments: [String(rows), String(columns)] + encoded)
    } catch let s as SkipReason { throw XCTSkip(s.description) }
    guard let expected = reference as? [[String: Any]] else { return XCTFail("NumPy output is not a list") }
    for (plate, numpy) in zip(plates, expected) {
      let polish = try SpatialBias.medianPolish(values: plate, rows: rows, columns: columns)
      let edge = try SpatialBias.edgeTest(values: plate, rows: rows, columns: columns, permutations: 1)
      let moran = try SpatialBias.moransI(values: plate, rows: rows, columns: columns, permutations: 1)
      assertClose(polish.overall, numpy["overall"])
      assertClose(polish.rowEffects, numpy["row"])
      assertClose(polish.columnEffects, numpy["col"])
      assertClose(polish.residuals.map { $0 ?? .nan }, numpy["residual"])
      assertClose(polish.residualMAD, numpy["mad"])
      XCTAssertEqual(polish.iterations, numpy["iterations"] as? Int)
      assertClose(edge.meanDifference, numpy["edge_mean_diff"])
      assertClose(edge.medianDifference, numpy["edge_median_diff"])
      assertClose(edge.standardisedDifference, numpy["cohen_d"])
      assertClose(moran.i, numpy["moran"])
      assertClose(moran.zScore, numpy["moran_z"])
    }
  }

  func assertClose(_ value: Double, _ expected: Any?, file: StaticString = #filePath, line: UInt = #line) {
    assertClose([value], (expected as? Double).map { [$0] }, file: file, line: line)
  }

  func assertClose(_ values: [Double], _ expected: Any?, file: StaticString = #filePath, line: UInt = #line) {
    // JSON null (a missing well) arrives as NSNull.
    guard let expected = (expected as? [Any])?.map({ ($0 as? Double) ?? .nan }), expected.count == values.count else {
      return XCTFail("NumPy gave \(String(describing: expected)) for \(values)", file: file, line: line)
    }
    for (a, b) in zip(values, expected) {
      if b.isNaN {
        XCTAssertTrue(a.isNaN, "expected a missing well, got \(a)", file: file, line: line)
      } else {
        XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, abs(b)), file: file, line: line)
      }
    }
  }

  static let numpyScript = #"""
import sys, json
import numpy as np

def medpolish(x, eps=0.01, maxiter=10):
    z = x.copy(); nr, nc = z.shape
    t = 0.0; r = np.zeros(nr); c = np.zeros(nc); oldsum = 0.0
    for it in range(1, maxiter + 1):
        rdelta = np.array([np.nanmedian(row) if np.any(~np.isnan(row)) else 0.0 for row in z])
        z = z - rdelta[:, None]; r = r + rdelta
        delta = np.median(c); c = c - delta; t += delta
        cdelta = np.array([np.nanmedian(col) if np.any(~np.isnan(col)) else 0.0 for col in z.T])
        z = z - cdelta[None, :]; c = c + cdelta
        delta = np.median(r); r = r - delta; t += delta
        newsum = np.nansum(np.abs(z))
        if newsum == 0 or abs(newsum - oldsum) < eps * newsum: break
        oldsum = newsum
    return t, r, c, z, it

rows, cols = int(sys.argv[1]), int(sys.argv[2])
out = []
for arg in sys.argv[3:]:
    x = np.array([float(v) for v in arg.split(',')]).reshape(rows, cols)
    t, r, c, z, it = medpolish(x)
    res = z[~np.isnan(z)]
    mad = 1.4826 * np.median(np.abs(res - np.median(res)))
    rr, cc = np.indices((rows, cols))
    edge = (rr == 0) | (rr == rows - 1) | (cc == 0) | (cc == cols - 1)
    ok = ~np.isnan(x)
    e, i = x[edge & ok], x[~edge & ok]
    pooled = np.sqrt(((len(e) - 1) * e.var(ddof=1) + (len(i) - 1) * i.var(ddof=1)) / (len(e) + len(i) - 2))
    # Moran's I with a dense rook weight matrix over the present wells.
    pos = np.argwhere(ok); v = x[ok]; n = len(v)
    w = (np.abs(pos[:, None, :] - pos[None, :, :]).sum(2) == 1).astype(float)
    zz = v - v.mean(); W = w.sum()
    moran = n / W * (zz @ w @ zz) / (zz @ zz)
    s1 = 0.5 * ((w + w.T) ** 2).sum(); s2 = ((w.sum(1) + w.sum(0)) ** 2).sum()
    ei = -1.0 / (n - 1)
    var = (n * n * s1 - n * s2 + 3 * W * W) / ((n * n - 1) * W * W) - ei * ei
    out.append({'overall': t, 'row': r.tolist(), 'col': c.tolist(),
                'residual': [None if np.isnan(v) else v for v in z.ravel().tolist()], 'mad': mad, 'iterations': it,
                'edge_mean_diff': e.mean() - i.mean(), 'edge_median_diff': np.median(e) - np.median(i),
                'cohen_d': (e.mean() - i.mean()) / pooled, 'moran': moran, 'moran_z': (moran - ei) / np.sqrt(var)})
print(json.dumps(out))
"""#
}

/// A standard normal draw (Box-Muller) from the seeded generator.
func gaussian(_ rng: inout SeededGenerator) -> Double {
  let u1 = (Double(rng.next() >> 11) + 1) / 9_007_199_254_740_993
  let u2 = Double(rng.next() >> 11) / 9_007_199_254_740_992
  return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
}
