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
    let boxes = BoundingBoxes(labels, count: count, width: width)
    let floor = image.min() ?? 0
    var blocked = [Int32](repeating: 0, count: image.count)
    var peaks: [Int] = []
    for label in 1..<(count + 1) {
      guard let box = boxes[label] else { continue }
      let windowMax = maximumFilter(image, labels: labels, label: Int32(label), box: box, width: width,
                                    radius: minDistance)
      var candidates: [Int] = []
      var highest = -1
      for y in box.minY...box.maxY {
        for x in box.minX...box.maxX {
          let index = y * width + x
          guard labels[index] == label else { continue }
          if highest < 0 || image[index] > image[highest] { highest = index }
          let local = (y - box.minY) * box.width + (x - box.minX)
          if image[index] == windowMax[local] && image[index] > floor { candidates.append(index) }
        }
      }
      candidates.sort { image[$0] > image[$1] || (image[$0] == image[$1] && $0 < $1) }
      var kept = 0
      for index in candidates where blocked[index] != label {
        peaks.append(index)
        kept += 1
        let x = index % width, y = index / width, reach = max(minDistance - 1, 0)
        for by in max(y - reach, 0)...min(y + reach, height - 1) {
          for bx in max(x - reach, 0)...min(x + reach, width - 1) { blocked[by * width + bx] = Int32(label) }
        }
      }
      if kept == 0 && highest >= 0 { peaks.append(highest) }
    }
    return peaks
  }

  /// The maximum of `image` over pixels of `label` in each pixel's window, over the object's bounding box
  /// (row-major in the box); separable: rows, then columns. Pixels of other objects count as -infinity.
  private static func maximumFilter(
    _ image: [Float], labels: [Int32], label: Int32, box: Box, width: Int, radius: Int
  ) -> [Float] {
    let w = box.width, h = box.height
    var values = [Float](repeating: -.infinity, count: w * h)
    for y in 0..<h {
      for x in 0..<w where labels[(y + box.minY) * width + x + box.minX] == label {
        values[y * w + x] = image[(y + box.minY) * width + x + box.minX]
      }
    }
    var rows = values
    for y in 0..<h {
      for x in 0..<w {
        var best = -Float.infinity
        for k in max(x - radius, 0)...min(x + radius, w - 1) { best = max(best, values[y * w + k]) }
        rows[y * w + x] = best
      }
    }
    for x in 0..<w {
      for y in 0..<h {
        var best = -Float.infinity
        for k in max(y - radius, 0)...min(y + radius, h - 1) { best = max(best, rows[k * w + x]) }
        values[y * w + x] = best
      }
    }
    return values
  }
}
