/// Computes `ObjectShape`s from a label image, one bounding-box crop per object.
public enum ShapeMeasurement {
  /// Shapes of the objects labelled 1...count, in label order (labels with no pixel are skipped).
  public static func shapes(labels: [Int32], count: Int, width: Int, height: Int) -> [ObjectShape] {
    precondition(labels.count == width * height, "label image has \(labels.count) values, expected \(width)x\(height)")
    let boxes = BoundingBoxes(labels, count: count, width: width, height: height)
    return (1..<(count + 1)).compactMap { label in
      boxes[label].map { shape(of: Int32(label), labels: labels, width: width, box: $0) }
    }
  }

  private static func shape(of label: Int32, labels: [Int32], width: Int, box: Box) -> ObjectShape {
    // The object's own mask over its box with a 1-pixel empty margin, so neighbour lookups need no bounds checks.
    let w = box.width + 2, h = box.height + 2
    var mask = [Bool](repeating: false, count: w * h)
    var area = 0, sumRow = 0.0, sumColumn = 0.0
    for y in box.minY...box.maxY {
      for x in box.minX...box.maxX where labels[y * width + x] == label {
        mask[(y - box.minY + 1) * w + (x - box.minX + 1)] = true
        area += 1; sumRow += Double(y); sumColumn += Double(x)
      }
    }
    let meanRow = sumRow / Double(area), meanColumn = sumColumn / Double(area)
    var rowRow = 0.0, columnColumn = 0.0, rowColumn = 0.0
    for y in box.minY...box.maxY {
      for x in box.minX...box.maxX where labels[y * width + x] == label {
        let dr = Double(y) - meanRow, dc = Double(x) - meanColumn
        rowRow += dr * dr; columnColumn += dc * dc; rowColumn += dr * dc
      }
    }
    let n = Double(area)
    return ObjectShape(
      label: label, area: area, perimeter: perimeter(mask, width: w, height: h),
      convexArea: ConvexHull.pixelCount(mask, width: w, height: h),
      centroidX: meanColumn, centroidY: meanRow,
      minRow: box.minY, minColumn: box.minX, maxRow: box.maxY + 1, maxColumn: box.maxX + 1,
      varianceRow: rowRow / n, varianceColumn: columnColumn / n, covariance: rowColumn / n)
  }

  /// skimage's `perimeter(mask, neighborhood=4)` for a mask with an empty 1-pixel margin: border pixels are mask
  /// pixels with a 4-neighbour outside; each gets the code 1 + 2 (border 4-neighbours) + 10 (border diagonal
  /// neighbours), and the codes 5, 7, 15, 17, 25, 27 weigh 1, 21 and 33 weigh sqrt 2, 13 and 23 weigh (1 + sqrt 2) / 2.
  static func perimeter(_ mask: [Bool], width w: Int, height h: Int) -> Double {
    var border = [Bool](repeating: false, count: mask.count)
    for y in 1..<(h - 1) {
      for x in 1..<(w - 1) where mask[y * w + x] {
        let i = y * w + x
        border[i] = !(mask[i - 1] && mask[i + 1] && mask[i - w] && mask[i + w])
      }
    }
    var total = 0.0
    for y in 1..<(h - 1) {
      for x in 1..<(w - 1) where border[y * w + x] {
        let i = y * w + x
        let edges = [i - 1, i + 1, i - w, i + w].filter { border[$0] }.count
        let corners = [i - w - 1, i - w + 1, i + w - 1, i + w + 1].filter { border[$0] }.count
        total += weight(code: 1 + 2 * edges + 10 * corners)
      }
    }
    return total
  }

  private static func weight(code: Int) -> Double {
    switch code {
    case 5, 7, 15, 17, 25, 27: return 1
    case 21, 33: return 2.0.squareRoot()
    case 13, 23: return (1 + 2.0.squareRoot()) / 2
    default: return 0
    }
  }
}
