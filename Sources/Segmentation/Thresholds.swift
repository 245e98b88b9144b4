import Foundation

/// Automatic global thresholds of an intensity distribution, matching scikit-image.
///
/// Both ignore non-finite values. A constant input returns that constant (as skimage does), so `value > t`
/// selects nothing. An input with no finite value returns nil.
public enum Threshold {
  /// Otsu's threshold on a `bins`-bin histogram spanning [min, max], returning a bin centre, exactly as
  /// `skimage.filters.threshold_otsu(image, nbins=bins)` does for float images.
  public static func otsu(_ values: [Float], bins: Int = 256) -> Float? {
    guard let (low, high) = finiteRange(values) else { return nil }
    guard high > low else { return low }
    let histogram = Self.histogram(values, bins: bins, low: low, high: high)
    let width = (Double(high) - Double(low)) / Double(bins)
    let centres = (0..<bins).map { Double(low) + (Double($0) + 0.5) * width }
    // Class weights and means below (inclusive) and above each cut, as cumulative sums from both ends.
    var weightBelow = [Double](repeating: 0, count: bins)
    var sumBelow = [Double](repeating: 0, count: bins)
    var weightAbove = [Double](repeating: 0, count: bins)
    var sumAbove = [Double](repeating: 0, count: bins)
    var weight = 0.0, sum = 0.0
    for bin in 0..<bins {
      weight += histogram[bin]; sum += histogram[bin] * centres[bin]
      weightBelow[bin] = weight; sumBelow[bin] = sum
    }
    weight = 0; sum = 0
    for bin in stride(from: bins - 1, through: 0, by: -1) {
      weight += histogram[bin]; sum += histogram[bin] * centres[bin]
      weightAbove[bin] = weight; sumAbove[bin] = sum
    }
    var best = -1.0, bestBin = 0
    for cut in 0..<(bins - 1) where weightBelow[cut] > 0 && weightAbove[cut + 1] > 0 {
      let difference = sumBelow[cut] / weightBelow[cut] - sumAbove[cut + 1] / weightAbove[cut + 1]
      let between = weightBelow[cut] * weightAbove[cut + 1] * difference * difference
      if between > best { best = between; bestBin = cut }
    }
    return Float(centres[bestBin])
  }

  /// Li's minimum cross-entropy threshold (Li & Tam 1998), the iteration of `skimage.filters.threshold_li`
  /// started at the mean, on a histogram of counts and sums instead of the sorted values: 65,536 bins, or an
  /// eighth as many as there are values (at least 4,096) for small planes, whose histogram would otherwise cost
  /// more than the pass over them.
  ///
  /// Each iteration splits at the bin holding the current threshold (values in that bin count as background),
  /// so the result is within one fine bin, (max - min) / bins, of skimage's; it stops when the split repeats
  /// (the next value would then be the same). A histogram pass replaces skimage's sort and costs a tenth of it.
  public static func li(_ values: [Float]) -> Float? {
    guard let (low, high) = finiteRange(values) else { return nil }
    guard high > low else { return low }
    let bins = min(1 << 16, max(1 << 12, values.count / 8))
    var counts = [Int](repeating: 0, count: bins + 1)
    // skimage shifts the data to start at 0 so that the logarithms below are defined.
    var sums = [Double](repeating: 0, count: bins + 1)
    let scale = Float(Double(bins) / (Double(high) - Double(low)))
    values.withUnsafeBufferPointer { source in
      counts.withUnsafeMutableBufferPointer { count in
        sums.withUnsafeMutableBufferPointer { sum in
          for value in source where value.isFinite {
            let shifted = value - low
            let bin = min(Int(shifted * scale), bins - 1) + 1
            count[bin] += 1
            sum[bin] += Double(shifted)
          }
          // Prefix sums: entry b holds the bins below b.
          for bin in 1...bins { count[bin] += count[bin - 1]; sum[bin] += sum[bin - 1] }
        }
      }
    }
    let total = counts[bins], totalSum = sums[bins]
    let binWidth = (Double(high) - Double(low)) / Double(bins)
    var next = totalSum / Double(total)
    var previousSplit = -1
    for _ in 0..<1000 {
      // Background: the bins up to and including the one holding `next`.
      let split = min(Int(next / binWidth), bins - 1) + 1
      guard split != previousSplit, counts[split] > 0, counts[split] < total else { break }
      previousSplit = split
      let meanBack = sums[split] / Double(counts[split])
      let meanFore = (totalSum - sums[split]) / Double(total - counts[split])
      if meanBack == 0 { break }
      next = (meanBack - meanFore) / (log(meanBack) - log(meanFore))
    }
    return Float(next + Double(low))
  }

  /// The histogram of finite values in `bins` equal bins over [low, high], numpy's rule: the last bin is closed.
  static func histogram(_ values: [Float], bins: Int, low: Float, high: Float) -> [Double] {
    var counts = [Double](repeating: 0, count: bins)
    let scale = Double(bins) / (Double(high) - Double(low))
    for value in values where value.isFinite {
      let bin = min(Int((Double(value) - Double(low)) * scale), bins - 1)
      counts[max(bin, 0)] += 1
    }
    return counts
  }

  static func finiteRange(_ values: [Float]) -> (Float, Float)? {
    var low = Float.infinity, high = -Float.infinity
    for value in values where value.isFinite {
      low = min(low, value); high = max(high, value)
    }
    return low <= high ? (low, high) : nil
  }
}
