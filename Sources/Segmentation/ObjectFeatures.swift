import Foundation

/// Per-object intensity of one channel, as regionprops' `intensity_mean`, sum of `image_intensity`, `intensity_max`.
public struct ObjectIntensity: Sendable, Equatable {
  public var mean: Double
  public var integrated: Double
  public var maximum: Double
}

/// Per-object measurements under CellProfiler's names, one column per feature, one row per object (label order).
public enum ObjectFeatures {
  /// Intensities of `plane` over each object 1...count (objects with no pixel get zeros).
  public static func intensities(plane: [Float], labels: [Int32], count: Int) -> [ObjectIntensity] {
    precondition(plane.count == labels.count, "plane and label image differ in size")
    var sums = [Double](repeating: 0, count: count + 1)
    var maxima = [Double](repeating: -.infinity, count: count + 1)
    var areas = [Int](repeating: 0, count: count + 1)
    for (index, label) in labels.enumerated() where label > 0 {
      let l = Int(label), value = Double(plane[index])
      sums[l] += value; areas[l] += 1; maxima[l] = max(maxima[l], value)
    }
    return (1..<(count + 1)).map { l in
      areas[l] == 0 ? ObjectIntensity(mean: 0, integrated: 0, maximum: 0)
        : ObjectIntensity(mean: sums[l] / Double(areas[l]), integrated: sums[l], maximum: maxima[l])
    }
  }

  /// The feature table: `AreaShape_Area`, `AreaShape_Perimeter`, `AreaShape_Eccentricity`, `AreaShape_Solidity`,
  /// `AreaShape_MajorAxisLength`, `AreaShape_MinorAxisLength`, `AreaShape_Orientation` (degrees, as CellProfiler
  /// reports skimage's radians), `Location_Center_X`, `Location_Center_Y`, `AreaShape_BoundingBoxMinimum_X/Y`,
  /// `AreaShape_BoundingBoxMaximum_X/Y` (exclusive), and for each named channel `Intensity_MeanIntensity_<ch>`,
  /// `Intensity_IntegratedIntensity_<ch>`, `Intensity_MaxIntensity_<ch>`.
  /// `channels` pairs a channel name with its plane; every plane has the label image's size.
  public static func table(
    labels: [Int32], count: Int, width: Int, height: Int, channels: [(name: String, plane: [Float])]
  ) -> [String: [Double]] {
    let shapes = ShapeMeasurement.shapes(labels: labels, count: count, width: width, height: height)
    var table: [String: [Double]] = [
      "AreaShape_Area": shapes.map { Double($0.area) },
      "AreaShape_Perimeter": shapes.map(\.perimeter),
      "AreaShape_Eccentricity": shapes.map(\.eccentricity),
      "AreaShape_Solidity": shapes.map(\.solidity),
      "AreaShape_MajorAxisLength": shapes.map(\.majorAxisLength),
      "AreaShape_MinorAxisLength": shapes.map(\.minorAxisLength),
      "AreaShape_Orientation": shapes.map { $0.orientation * 180 / Double.pi },
      "Location_Center_X": shapes.map(\.centroidX),
      "Location_Center_Y": shapes.map(\.centroidY),
      "AreaShape_BoundingBoxMinimum_X": shapes.map { Double($0.minColumn) },
      "AreaShape_BoundingBoxMinimum_Y": shapes.map { Double($0.minRow) },
      "AreaShape_BoundingBoxMaximum_X": shapes.map { Double($0.maxColumn) },
      "AreaShape_BoundingBoxMaximum_Y": shapes.map { Double($0.maxRow) },
    ]
    let present = shapes.map { Int($0.label) - 1 }
    for channel in channels {
      let all = intensities(plane: channel.plane, labels: labels, count: count)
      let rows = present.map { all[$0] }
      table["Intensity_MeanIntensity_\(channel.name)"] = rows.map(\.mean)
      table["Intensity_IntegratedIntensity_\(channel.name)"] = rows.map(\.integrated)
      table["Intensity_MaxIntensity_\(channel.name)"] = rows.map(\.maximum)
    }
    return table
  }
}
