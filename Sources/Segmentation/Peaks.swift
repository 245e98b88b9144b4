/// Local maxima with a minimum spacing, per object, like
/// `skimage.feature.peak_local_max(image, min_distance=d, labels=labels, exclude_border=False)`.
public enum Peaks {
  /// Peaks of `image` inside each labelled object: pixels above the plane's minimum that equal the maximum
  /// of their object's pixels in the (2d+1)x(2d+1) window; then, highest first (raster order among equals),
  /// a peak is kept only if no kept peak of the same object lies closer than Chebyshev distance d (skimage's
  /// `ensure_spacing` rejects distances strictly below d, so peaks exactly d apart both stay).
  /// Unlike skimage, an object with no peak (a plateau filling its window) gets one at its highest pixel,
  /// so that every object seeds a watershed basin. Returns pixel indices.
  public static func localMaxima(
    _ image: [Float], labels: [Int32], count: Int, width: Int, height: Int, minDistance: Int
  ) -> [Int] {
    maxima(image, labels: labels, count: count, width: width, height: height, minDistance: minDistance)
  }

  /// The same on integer values, e.g. squared distances (whose maxima are those of the distances).
  public static func localMaxima(
    _ image: [Int32], labels: [Int32], count: Int, width: Int, height: Int, minDistance: Int
  ) -> [Int] {
    maxima(image, labels: labels, count: count, width: width, height: height, minDistance: minDistance)
  }

  private static func maxima<Value: Comparable>(
    _ image: [Value], labels: [Int32], count: Int, width: Int, height: Int, minDistance: Int
  ) -> [Int] {
    precondition(image.count == width * height && labels.count == image.count, "sizes differ")
    guard let floor = image.min() else { return [] }
    let boxes = BoundingBoxes(labels, count: count, width: width, height: height)
    // Per object, over its box: whether a kept peak lies closer than the minimum distance.
    var blocked: [Bool] = []
    var peaks: [Int] = []
    var candidates: [Int] = []
    image.withUnsafeBufferPointer { image in
      labels.withUnsafeBufferPointer { labels in
        for label in 1..<(count + 1) {
          guard let box = boxes[label] else { continue }
          candidates.removeAll(keepingCapacity: true)
          var highest = -1
          for y in box.minY...box.maxY {
            for x in box.minX...box.maxX where labels[y * width + x] == label {
              let index = y * width + x, value = image[index]
              if highest < 0 || value > image[highest] { highest = index }
              // Most pixels have a higher neighbour: the 3x3 test rejects them before the full window.
              if value > floor
                && isWindowMaximum(image, labels: labels, label: Int32(label), x: x, y: y, box: box, width: width,
                                   radius: 1)
                && isWindowMaximum(image, labels: labels, label: Int32(label), x: x, y: y, box: box, width: width,
                                   radius: minDistance)
              {
                candidates.append(index)
              }
            }
          }
          candidates.sort { image[$0] > image[$1] || (image[$0] == image[$1] && $0 < $1) }
          var kept = 0
          blocked.removeAll(keepingCapacity: true)
          blocked.append(contentsOf: repeatElement(false, count: box.width * box.height))
          for index in candidates {
            let x = index % width - box.minX, y = index / width - box.minY
            guard !blocked[y * box.width + x] else { continue }
            peaks.append(index)
            kept += 1
            let reach = max(minDistance - 1, 0)
            for by in max(y - reach, 0)...min(y + reach, box.height - 1) {
              for bx in max(x - reach, 0)...min(x + reach, box.width - 1) { blocked[by * box.width + bx] = true }
            }
          }
          if kept == 0 && highest >= 0 { peaks.append(highest) }
        }
      }
    }
    return peaks
  }

  /// Whether no pixel of `label` in the (2 radius + 1)^2 window around (x, y) (within the object's box, which
  /// holds all of its pixels) exceeds the value at (x, y).
  @inline(__always)
  private static func isWindowMaximum<Value: Comparable>(
    _ image: UnsafeBufferPointer<Value>, labels: UnsafeBufferPointer<Int32>, label: Int32, x: Int, y: Int, box: Box,
    width: Int, radius: Int
  ) -> Bool {
    let value = image[y * width + x]
    for wy in max(y - radius, box.minY)...min(y + radius, box.maxY) {
      for wx in max(x - radius, box.minX)...min(x + radius, box.maxX)
      where image[wy * width + wx] > value && labels[wy * width + wx] == label {
        return false
      }
    }
    return true
  }
}
