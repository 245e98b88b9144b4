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
  /// started at the mean and stopped when a step is at most half the smallest gap between distinct values.
  ///
  /// Runs on the sorted values with prefix sums, so each iteration is a binary search, not a pass.
  public static func li(_ values: [Float]) -> Float? {
    let sorted = RadixSort.sortedFinite(values)
    guard let first = sorted.first, let last = sorted.last else { return nil }
    guard last > first else { return first }
    // skimage shifts the data to start at 0 so that the logarithms below are defined.
    let shift = Double(first)
    var prefix = [Double](repeating: 0, count: sorted.count + 1)
    var smallestGap = Double.infinity
    for index in sorted.indices {
      prefix[index + 1] = prefix[index] + (Double(sorted[index]) - shift)
      if index > 0, sorted[index] > sorted[index - 1] {
        smallestGap = min(smallestGap, Double(sorted[index]) - Double(sorted[index - 1]))
      }
    }
    let tolerance = smallestGap / 2
    let count = sorted.count
    var next = prefix[count] / Double(count)
    var current = -2 * tolerance
    var iterations = 0
    while abs(next - current) > tolerance && iterations < 1000 {
      iterations += 1
      current = next
      // Background: values <= current; foreground: values > current.
      let split = upperBound(sorted, Float(current + shift), count: count)
      guard split > 0, split < count else { break }
      let meanBack = prefix[split] / Double(split)
      let meanFore = (prefix[count] - prefix[split]) / Double(count - split)
      if meanBack == 0 { break }
      next = (meanBack - meanFore) / (log(meanBack) - log(meanFore))
    }
    return Float(next + shift)
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

  /// The number of leading elements of `sorted` that are <= `value`.
  private static func upperBound(_ sorted: [Float], _ value: Float, count: Int) -> Int {
    var low = 0, high = count
    while low < high {
      let middle = (low + high) / 2
      if sorted[middle] <= value { low = middle + 1 } else { high = middle }
    }
    return low
  }
}
