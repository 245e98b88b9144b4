import Foundation
import Segmentation
import TestSupport
import XCTest

/// Object measurements against `skimage.measure.regionprops` on stardist-img2d's ground-truth labels.
final class MeasurementTests: XCTestCase {
  static let script = #"""
import sys, json, numpy as np, tifffile
from skimage import measure, segmentation
shared, out = sys.argv[1], sys.argv[2]
img = tifffile.imread(f'{shared}/stardist-img2d/img2d.tif').astype(np.float32)
labels = segmentation.relabel_sequential(tifffile.imread(f'{shared}/stardist-img2d/mask2d.tif').astype(np.int32))[0]
labels.astype(np.int32).tofile(f'{out}/labels.i32'); img.tofile(f'{out}/img.f32')
rows = [dict(label=p.label, area=float(p.area), perimeter=p.perimeter, eccentricity=p.eccentricity,
             solidity=p.solidity, convex=float(p.area_convex), major=p.axis_major_length,
             minor=p.axis_minor_length, orientation=p.orientation, cy=p.centroid[0], cx=p.centroid[1],
             bbox=[int(v) for v in p.bbox], mean=float(p.intensity_mean), max=float(p.intensity_max),
             total=float(p.image_intensity[p.image].astype(np.float64).sum()))
        for p in measure.regionprops(labels, intensity_image=img)]
print(json.dumps(dict(width=img.shape[1], height=img.shape[0], rows=rows)))
"""#

  func testRegionpropsValuesMatchSkimage() throws {
    let folder = try TemporaryDirectory(prefix: "seg-regionprops")
    let json = try runReference(Self.script, in: folder) as! [String: Any]
    let width = json["width"] as! Int, height = json["height"] as! Int
    let rows = json["rows"] as! [[String: Any]]
    let labels = try readRaw(folder.file("labels.i32"), as: Int32.self)
    let plane = try readRaw(folder.file("img.f32"), as: Float.self)
    let count = Int(labels.max()!)
    XCTAssertEqual(rows.count, count)
    let shapes = ShapeMeasurement.shapes(labels: labels, count: count, width: width, height: height)
    let table = ObjectFeatures.table(labels: labels, count: count, width: width, height: height,
                                     channels: [(name: "DNA", plane: plane)])
    func close(_ mine: Double, _ key: String, _ row: [String: Any], absolute: Double = 1e-9) {
      let theirs = row[key] as! Double
      XCTAssertEqual(mine, theirs, accuracy: max(1e-6 * abs(theirs), absolute), "\(key) of label \(row["label"]!)")
    }
    for (index, row) in rows.enumerated() {
      let shape = shapes[index]
      XCTAssertEqual(Int(shape.label), row["label"] as! Int)
      close(Double(shape.area), "area", row)
      close(shape.perimeter, "perimeter", row)
      close(Double(shape.convexArea), "convex", row)
      close(shape.solidity, "solidity", row)
      close(shape.eccentricity, "eccentricity", row)
      close(shape.majorAxisLength, "major", row)
      close(shape.minorAxisLength, "minor", row)
      close(shape.orientation, "orientation", row, absolute: 1e-7)
      close(shape.centroidX, "cx", row)
      close(shape.centroidY, "cy", row)
      XCTAssertEqual([shape.minRow, shape.minColumn, shape.maxRow, shape.maxColumn], row["bbox"] as! [Int])
      close(table["Intensity_MeanIntensity_DNA"]![index], "mean", row)
      close(table["Intensity_IntegratedIntensity_DNA"]![index], "total", row)
      close(table["Intensity_MaxIntensity_DNA"]![index], "max", row)
      close(table["AreaShape_Orientation"]![index] * Double.pi / 180, "orientation", row, absolute: 1e-7)
    }
  }

  func testShapesOfClosedFormObjects() {
    // A 3 x 5 rectangle: area 15, central moments var_row = 2/3, var_col = 2, so axes 4 sqrt(2) and
    // 4 sqrt(2/3), orientation pi/2 (major axis along columns), convex (solidity 1).
    var labels = [Int32](repeating: 0, count: 7 * 9)
    for y in 2..<5 { for x in 2..<7 { labels[y * 9 + x] = 1 } }
    let shape = ShapeMeasurement.shapes(labels: labels, count: 1, width: 9, height: 7)[0]
    XCTAssertEqual(shape.area, 15)
    XCTAssertEqual(shape.majorAxisLength, 4 * 2.0.squareRoot(), accuracy: 1e-12)
    XCTAssertEqual(shape.minorAxisLength, 4 * (2.0 / 3).squareRoot(), accuracy: 1e-12)
    XCTAssertEqual(abs(shape.orientation), Double.pi / 2, accuracy: 1e-12)
    XCTAssertEqual(shape.solidity, 1)
    XCTAssertEqual(shape.centroidX, 4); XCTAssertEqual(shape.centroidY, 3)
    // A single pixel: skimage gives eccentricity 0, axes 0, perimeter 0.
    let dot = ShapeMeasurement.shapes(labels: [0, 0, 0, 0, 1, 0, 0, 0, 0], count: 1, width: 3, height: 3)[0]
    XCTAssertEqual([dot.eccentricity, dot.majorAxisLength, dot.perimeter], [0, 0, 0])
  }
}
