/// Summary statistics of one sample of intensities; numpy conventions (population std, linear percentiles).
public struct IntensitySummary: Sendable, Equatable {
  public var count: Int
  public var mean: Double
  public var median: Double
  public var standardDeviation: Double
  /// Percentiles 5, 25, 75, 95 by numpy's default linear interpolation.
  public var percentile5: Double, percentile25: Double, percentile75: Double, percentile95: Double
  public var integrated: Double

  /// Summarises `values`; an empty sample gives count 0 and all statistics NaN (integrated 0).
  public init(_ values: [Float]) {
    let sorted = ascending(values)
    count = sorted.count
    integrated = sorted.reduce(0.0) { $0 + Double($1) }
    mean = integrated / Double(count)
    let m = mean
    standardDeviation = (sorted.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(count)).squareRoot()
    func percentile(_ q: Double) -> Double {
      guard !sorted.isEmpty else { return .nan }
      let position = q / 100 * Double(sorted.count - 1)
      let below = Int(position.rounded(.down)), above = min(below + 1, sorted.count - 1)
      let fraction = position - Double(below)
      return Double(sorted[below]) + fraction * (Double(sorted[above]) - Double(sorted[below]))
    }
    median = percentile(50)
    percentile5 = percentile(5); percentile25 = percentile(25)
    percentile75 = percentile(75); percentile95 = percentile(95)
  }

  /// The statistics under `<prefix>Mean`, `<prefix>Median`, `<prefix>Std`, `<prefix>Percentile05/25/75/95`,
  /// `<prefix>Integrated`, each followed by `_<channel>`.
  func features(prefix: String, channel: String) -> [String: Double] {
    let pairs: [(String, Double)] = [
      ("Mean", mean), ("Median", median), ("Std", standardDeviation), ("Percentile05", percentile5),
      ("Percentile25", percentile25), ("Percentile75", percentile75), ("Percentile95", percentile95),
      ("Integrated", integrated),
    ]
    return Dictionary(uniqueKeysWithValues: pairs.map { ("\(prefix)\($0.0)_\(channel)", $0.1) })
  }
}

/// Per-site ("image") statistics for bias audits: per channel, foreground vs background intensity statistics
/// and a texture measure, plus nucleus count and mean nucleus area.
public enum ImageStatistics {
  /// Mean squared intensity difference between 4-neighbours (horizontal and vertical pairs pooled):
  /// a gradient-energy texture/sharpness measure, 0 for a constant plane, 2 sigma^2 for white noise.
  public static func gradientEnergy(_ plane: [Float], width: Int, height: Int) -> Double {
    var total = 0.0, pairs = 0
    for y in 0..<height {
      for x in 0..<width {
        let v = Double(plane[y * width + x])
        if x + 1 < width { let d = Double(plane[y * width + x + 1]) - v; total += d * d; pairs += 1 }
        if y + 1 < height { let d = Double(plane[(y + 1) * width + x]) - v; total += d * d; pairs += 1 }
      }
    }
    return pairs == 0 ? 0 : total / Double(pairs)
  }

  /// Features of one site. Foreground is the nuclei mask (`labels > 0`) for every channel. Per channel `<ch>`:
  /// `ImageStats_ForegroundFraction_<ch>`, `ImageStats_Foreground{Mean,Median,Std,Percentile05,Percentile25,`
  /// `Percentile75,Percentile95,Integrated}_<ch>`, the same with `Background`, `ImageIntensity_TotalIntensity_<ch>`
  /// (CellProfiler's name: sum over the plane) and `ImageStats_GradientEnergy_<ch>`; plus `Count_Nuclei` and
  /// `Mean_Nuclei_AreaShape_Area` (0 when there is no nucleus). Statistics of an empty side are NaN.
  public static func features(
    labels: [Int32], count: Int, width: Int, height: Int, channels: [(name: String, plane: [Float])]
  ) -> [String: Double] {
    let foregroundPixels = labels.lazy.filter { $0 > 0 }.count
    var features: [String: Double] = [
      "Count_Nuclei": Double(count),
      "Mean_Nuclei_AreaShape_Area": count == 0 ? 0 : Double(foregroundPixels) / Double(count),
    ]
    for channel in channels {
      precondition(channel.plane.count == labels.count, "channel \(channel.name) differs in size from the labels")
      var inside: [Float] = [], outside: [Float] = []
      inside.reserveCapacity(foregroundPixels); outside.reserveCapacity(labels.count - foregroundPixels)
      for (index, label) in labels.enumerated() {
        if label > 0 { inside.append(channel.plane[index]) } else { outside.append(channel.plane[index]) }
      }
      let name = channel.name
      features.merge(IntensitySummary(inside).features(prefix: "ImageStats_Foreground", channel: name)) { $1 }
      features.merge(IntensitySummary(outside).features(prefix: "ImageStats_Background", channel: name)) { $1 }
      features["ImageStats_ForegroundFraction_\(name)"] = Double(foregroundPixels) / Double(max(labels.count, 1))
      features["ImageIntensity_TotalIntensity_\(name)"] = channel.plane.reduce(0.0) { $0 + Double($1) }
      features["ImageStats_GradientEnergy_\(name)"] = gradientEnergy(channel.plane, width: width, height: height)
    }
    return features
  }
}
