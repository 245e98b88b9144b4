import Foundation
import Statistics
import TestSupport
import XCTest

@testable import FocusMeasures

/// Focus measures on the shared real data: agreement with the NumPy reference, and whether each measure ranks
/// defocus the right way (BBBC006 near- vs far-from-focus; the DFNN defocus stack).
final class RealDataTests: XCTestCase {
  static let scale = 20

  /// Measured once per data set and shared by the tests below (measuring in a debug build takes seconds).
  nonisolated(unsafe) static var cache: [String: [(NumPyReference.Sample, FocusMeasurements)]] = [:]

  func measured(_ set: String, _ select: (String) -> Bool) throws -> [(NumPyReference.Sample, FocusMeasurements)] {
    if let hit = Self.cache[set] { return hit }
    let folder: URL
    do { folder = try SharedData.require(set) } catch let s as SkipReason { throw XCTSkip(s.description) }
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter(select).sorted()
    let samples: [NumPyReference.Sample]
    do {
      samples = try NumPyReference.run(names.map { folder.appendingPathComponent($0) }, scale: Self.scale)
    } catch let s as SkipReason { throw XCTSkip(s.description) }
    let result = try samples.map { ($0, try FocusMeasurements($0.plane, scale: Self.scale)) }
    Self.cache[set] = result
    return result
  }

  func bbbc006() throws -> [(NumPyReference.Sample, FocusMeasurements)] {
    try measured("data/bbbc006-focus") { isNearFocus($0) || $0.hasPrefix("00_") && $0.hasSuffix(".tif") }
  }

  func defocusStack() throws -> [(NumPyReference.Sample, FocusMeasurements)] {
    try measured("data/dfnn-defocus-stack") { $0.hasSuffix(".tif") }
  }

  func testAgreesWithNumPyOnBBBC006() throws { try assertAgreement(try bbbc006()) }

  func testAgreesWithNumPyOnDefocusStack() throws { try assertAgreement(try defocusStack()) }

  func assertAgreement(_ samples: [(NumPyReference.Sample, FocusMeasurements)]) throws {
    XCTAssertFalse(samples.isEmpty)
    var worst = (0.0, "")
    for (sample, swift) in samples {
      for (name, value) in swift.named {
        guard let expected = sample.reference[name] else {
          XCTFail("\(sample.name): NumPy reference has no \(name)")
          continue
        }
        let error = abs(value - expected) / max(abs(expected), 1e-12)
        if error > worst.0 { worst = (error, "\(sample.name) \(name)") }
        XCTAssertLessThan(error, 1e-6, "\(sample.name) \(name): Swift \(value), NumPy \(expected)")
      }
    }
    print("largest relative difference from NumPy: \(worst.0) (\(worst.1))")
  }

  /// Near-focus (z = 10) BBBC006 images must all score above every far (z = 0) one on the measures below.
  func testBBBC006RanksNearFocusAboveFar() throws {
    let samples = try bbbc006()
    let near = samples.filter { isNearFocus($0.0.name) }.map(\.1)
    let far = samples.filter { !isNearFocus($0.0.name) }.map(\.1)
    XCTAssertEqual(near.count, 5)
    XCTAssertEqual(far.count, 12)
    print("BBBC006 (\(near.count) near, \(far.count) far): measure, near min..max, far min..max, separated")
    let mustSeparate: Set = [
      "ImageQuality_BrennerNormalized", "ImageQuality_TenengradNormalized", "ImageQuality_LaplacianVarianceNormalized",
      "ImageQuality_PowerLogLogSlope", "ImageQuality_PowerLogLogSlopeLowBand", "ImageQuality_LocalFocusScore_20",
    ]
    // Lower texture correlation means sharper detail, so it ranks the other way by design; the full-band slope
    // ranks the wrong way because camera noise flattens the far-from-focus spectra (documented in PowerSpectrum).
    let rankReversed: Set = ["ImageQuality_Correlation_20", "ImageQuality_PowerLogLogSlopeFullBand"]
    for (index, (name, _)) in near[0].named.enumerated() {
      let n = near.map { $0.named[index].1 }
      let f = far.map { $0.named[index].1 }
      let separated = n.min()! > f.max()!
      let reversed = n.max()! < f.min()!
      print(padded(name), String(format: "%12.5g..%-12.5g %12.5g..%-12.5g", n.min()!, n.max()!, f.min()!, f.max()!),
            separated ? "yes" : reversed ? "reversed" : "no")
      if mustSeparate.contains(name) { XCTAssertTrue(separated, "\(name) does not rank near focus above far") }
      if rankReversed.contains(name) { XCTAssertTrue(reversed, "\(name) was expected to rank far above near") }
    }
  }

  /// Spearman correlation of each measure with |defocus|, defocus of frame N being (N - 51) x 0.05 um.
  func testDefocusStackFollowsDefocusDistance() throws {
    let samples = try defocusStack()
    XCTAssertGreaterThanOrEqual(samples.count, 15)
    let distance = try samples.map { sample -> Double in
      guard let frame = Int(sample.0.name.dropLast(4).suffix(4)) else {
        throw ReferenceFormatError(what: "a frame number in \(sample.0.name)")
      }
      return abs(Double(frame - 51) * 0.05)
    }
    let mustFollow: Set = [
      "ImageQuality_BrennerNormalized", "ImageQuality_TenengradNormalized", "ImageQuality_PowerLogLogSlope",
      "ImageQuality_PowerLogLogSlopeLowBand", "ImageQuality_FocusScore", "ImageQuality_LocalFocusScore_20",
      "ImageQuality_Brenner", "ImageQuality_Tenengrad",
    ]
    print("DFNN defocus stack (\(samples.count) frames): Spearman rho of each measure with |defocus|")
    for (index, (name, _)) in samples[0].1.named.enumerated() {
      let rho = spearman(samples.map { $0.1.named[index].1 }, distance)
      print(padded(name), String(format: "%+.4f", rho))
      if mustFollow.contains(name) { XCTAssertLessThanOrEqual(rho, -0.95, "\(name) does not fall with defocus") }
      if name == "ImageQuality_PowerLogLogSlopeFullBand" {
        XCTAssertGreaterThanOrEqual(rho, 0.95, "the full-band slope was expected to rise with defocus (noise floor)")
      }
    }
  }
}

func padded(_ name: String) -> String { "  " + name.padding(toLength: 42, withPad: " ", startingAt: 0) }

func isNearFocus(_ name: String) -> Bool { name.hasPrefix("BBBC006_z_aligned__") && name.hasSuffix("_10.png") }

/// Spearman's rho: Pearson correlation of mid-ranks (ties get the mean of their ranks).
func spearman(_ a: [Double], _ b: [Double]) -> Double { spearmanCorrelation(a, b) }
