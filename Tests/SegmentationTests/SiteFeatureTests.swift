import Foundation
@testable import Segmentation
import TestSupport
import XCTest

/// Per-site image statistics against numpy, and cell-centred crops against numpy.pad.
final class SiteFeatureTests: XCTestCase {
  static let statisticsScript = #"""
import sys, json, numpy as np, tifffile
shared, out = sys.argv[1], sys.argv[2]
img = tifffile.imread(f'{shared}/stardist-img2d/img2d.tif').astype(np.float32)
labels = tifffile.imread(f'{shared}/stardist-img2d/mask2d.tif').astype(np.int32)
img.tofile(f'{out}/img.f32'); labels.tofile(f'{out}/labels.i32')
def summary(v):
    v = v.astype(np.float64)
    p = np.percentile(v, [5, 25, 75, 95])
    return dict(Mean=v.mean(), Median=np.median(v), Std=v.std(), Percentile05=p[0], Percentile25=p[1],
                Percentile75=p[2], Percentile95=p[3], Integrated=v.sum())
d = img.astype(np.float64)
dx, dy = np.diff(d, axis=1), np.diff(d, axis=0)
energy = ((dx ** 2).sum() + (dy ** 2).sum()) / (dx.size + dy.size)
print(json.dumps(dict(width=img.shape[1], height=img.shape[0], fg=summary(img[labels > 0]),
  bg=summary(img[labels == 0]), fraction=float((labels > 0).mean()), total=float(d.sum()), energy=float(energy),
  count=int(len(np.unique(labels)) - 1))))
"""#

  func testImageStatisticsMatchNumpy() throws {
    let folder = try TemporaryDirectory(prefix: "seg-site")
    let json = try runReference(Self.statisticsScript, in: folder) as! [String: Any]
    let width = json["width"] as! Int, height = json["height"] as! Int
    let plane = try readRaw(folder.file("img.f32"), as: Float.self)
    // Relabel the ground truth 1...N: the statistics need only which pixels are foreground and how many nuclei.
    let raw = try readRaw(folder.file("labels.i32"), as: Int32.self)
    let relabelled = Labeling.filterAndRelabel(raw, count: Int(raw.max()!))
    let features = ImageStatistics.features(labels: relabelled.labels, count: relabelled.count, width: width,
                                            height: height, channels: [(name: "DNA", plane: plane)])
    func check(_ name: String, _ expected: Double) {
      XCTAssertEqual(features[name]!, expected, accuracy: 1e-9 * max(abs(expected), 1), name)
    }
    for (side, key) in [("Foreground", "fg"), ("Background", "bg")] {
      for (statistic, value) in json[key] as! [String: Double] { check("ImageStats_\(side)\(statistic)_DNA", value) }
    }
    check("ImageStats_ForegroundFraction_DNA", json["fraction"] as! Double)
    check("ImageIntensity_TotalIntensity_DNA", json["total"] as! Double)
    check("ImageStats_GradientEnergy_DNA", json["energy"] as! Double)
    check("Count_Nuclei", Double(json["count"] as! Int))
    let fraction = json["fraction"] as! Double
    check("Mean_Nuclei_AreaShape_Area", fraction * Double(width * height) / Double(json["count"] as! Int))
    XCTAssertEqual(features.count, 2 + 8 * 2 + 3)
  }

  /// The radix sort behind the percentiles puts floats in `sorted()`'s order: negatives, zeros of both signs,
  /// subnormals, infinities, ties and 200,000 random bit patterns (digits carried across every 11-bit boundary).
  func testRadixSortOrdersFloatsAsSorted() {
    var state: UInt64 = 7
    func next() -> UInt32 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt32(truncatingIfNeeded: state >> 32)
    }
    let special: [Float] = [-.infinity, .infinity, -0.0, 0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                            .greatestFiniteMagnitude, -1, 1, 1, 3.5, -3.5]
    let large = (0..<200_000).map { _ in Float(bitPattern: next()) }.filter { !$0.isNaN }
    let intensities = (0..<5000).map { _ in Float(next() % 65536) / 65535 }
    for values in [special, large, intensities, [], [2]] {
      XCTAssertEqual(ascending(values), values.sorted(), "\(values.count) values")
    }
  }

  func testGradientEnergyClosedForm() {
    // A horizontal ramp of slope 2: 3 x 4 has 9 horizontal pairs of squared difference 4 and 8 vertical of 0.
    let ramp = (0..<12).map { Float(2 * ($0 % 4)) }
    XCTAssertEqual(ImageStatistics.gradientEnergy(ramp, width: 4, height: 3), 4.0 * 9 / 17, accuracy: 1e-12)
    XCTAssertEqual(ImageStatistics.gradientEnergy([5], width: 1, height: 1), 0)
  }

  static let padScript = #"""
import sys, json, numpy as np
a = np.arange(20, dtype=np.float32).reshape(4, 5)
print(json.dumps(np.pad(a, 7, mode='reflect').ravel().tolist()))
"""#

  func testCropsSkipOrReflectAtTheEdge() throws {
    let width = 5, height = 4
    let plane = (0..<20).map(Float.init), second = plane.map { -$0 }
    // Centre (2, 1.6) rounds to pixel (2, 2); a 3 x 3 crop spans columns 1...3, rows 1...3.
    let centres: [(x: Double, y: Double)] = [(2, 1.6), (0.2, 0.4), (4, 3)]
    let skipped = CellCrops.extract(planes: [plane, second], width: width, height: height, centres: centres, size: 3)
    XCTAssertEqual(skipped.objectIndices, [0])
    XCTAssertEqual(skipped.skipped, 2)
    XCTAssertEqual(skipped.values, [6, 7, 8, 11, 12, 13, 16, 17, 18, -6, -7, -8, -11, -12, -13, -16, -17, -18])
    // Reflection: compare a 15 x 15 crop centred on pixel (0, 0), wider than the image, with numpy.pad "reflect".
    let padded = try PythonReference.json(Self.padScript) as! [Double]
    let reflected = CellCrops.extract(planes: [plane], width: width, height: height, centres: [(0, 0)], size: 15,
                                      edge: .reflect)
    XCTAssertEqual(reflected.skipped, 0)
    // np.pad(a, 7) puts pixel (0, 0) at (7, 7), which is the crop's centre (15 / 2 = 7).
    let expected = (0..<15).flatMap { row in (0..<15).map { Float(padded[row * (width + 14) + $0]) } }
    XCTAssertEqual(reflected.values, expected)
  }
}
