/// An inclusive pixel rectangle.
struct Box {
  var minX: Int, minY: Int, maxX: Int, maxY: Int
  var width: Int { maxX - minX + 1 }
  var height: Int { maxY - minY + 1 }
}

/// The bounding box of every label 1...count in one pass over a label image.
struct BoundingBoxes {
  private var boxes: [Box]

  init(_ labels: [Int32], count: Int, width: Int, height: Int) {
    precondition(labels.count == width * height, "label image has \(labels.count) values, expected \(width)x\(height)")
    // An empty box has minX > maxX.
    var boxes = [Box](repeating: Box(minX: .max, minY: .max, maxX: -1, maxY: -1), count: count + 1)
    boxes.withUnsafeMutableBufferPointer { box in
      labels.withUnsafeBufferPointer { labels in
        for y in 0..<height {
          for x in 0..<width where labels[y * width + x] > 0 {
            let l = Int(labels[y * width + x])
            box[l].minX = min(box[l].minX, x); box[l].maxX = max(box[l].maxX, x)
            box[l].minY = min(box[l].minY, y); box[l].maxY = max(box[l].maxY, y)
          }
        }
      }
    }
    self.boxes = boxes
  }

  subscript(label: Int) -> Box? { boxes[label].maxX >= 0 ? boxes[label] : nil }
}
