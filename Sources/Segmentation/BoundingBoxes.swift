/// An inclusive pixel rectangle.
struct Box {
  var minX: Int, minY: Int, maxX: Int, maxY: Int
  var width: Int { maxX - minX + 1 }
  var height: Int { maxY - minY + 1 }
}

/// The bounding box of every label 1...count in one pass over a label image.
struct BoundingBoxes {
  private var boxes: [Box?]

  init(_ labels: [Int32], count: Int, width: Int) {
    boxes = [Box?](repeating: nil, count: count + 1)
    for (index, label) in labels.enumerated() where label > 0 {
      let x = index % width, y = index / width
      if var box = boxes[Int(label)] {
        box.minX = min(box.minX, x); box.maxX = max(box.maxX, x)
        box.minY = min(box.minY, y); box.maxY = max(box.maxY, y)
        boxes[Int(label)] = box
      } else {
        boxes[Int(label)] = Box(minX: x, minY: y, maxX: x, maxY: y)
      }
    }
  }

  subscript(label: Int) -> Box? { boxes[label] }
}
