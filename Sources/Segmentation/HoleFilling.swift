extension Labeling {
  /// Fills the holes of each 8-connected object of `labels` (from `label(mask)`) in place, in `labels` and in
  /// `mask`: the 4-connected regions of other pixels inside its bounding box that do not reach the box's edge.
  ///
  /// This equals filling the plane's holes (background not 4-connected to the image border), because the outer
  /// boundary of such a hole is 8-connected, so one object encloses it; working per box reads only the objects'
  /// boxes instead of labelling the whole background. An object lying inside another's hole takes the enclosing
  /// label (the smaller: the encloser starts earlier in raster order), leaving its own label without pixels.
  /// With a finite `maximumHoleArea`, such an enclosed object counts toward its hole's area.
  public static func fillHoles(
    labels: inout [Int32], mask: inout [Bool], count: Int, width: Int, height: Int, maximumHoleArea: Int = .max
  ) {
    precondition(labels.count == width * height && mask.count == labels.count, "sizes differ")
    guard maximumHoleArea > 0 else { return }
    let boxes = BoundingBoxes(labels, count: count, width: width, height: height)
    var local: [Bool] = []
    labels.withUnsafeMutableBufferPointer { labels in
      mask.withUnsafeMutableBufferPointer { mask in
        for object in 1..<(count + 1) {
          // A box narrower or shorter than 3 pixels has no inside.
          guard let box = boxes[object], box.width > 2, box.height > 2 else { continue }
          let w = box.width, h = box.height, value = Int32(object)
          local.removeAll(keepingCapacity: true)
          for y in box.minY...box.maxY {
            for x in box.minX...box.maxX { local.append(labels[y * width + x] == value) }
          }
          let regions = local.withUnsafeBufferPointer {
            components(of: $0, value: false, width: w, height: h, connectivity: .four)
          }
          guard regions.count > 0 else { continue }
          var fill = [Bool](repeating: true, count: regions.count + 1)
          fill[0] = false
          for x in 0..<w { fill[Int(regions.labels[x])] = false; fill[Int(regions.labels[(h - 1) * w + x])] = false }
          for y in 0..<h { fill[Int(regions.labels[y * w])] = false; fill[Int(regions.labels[y * w + w - 1])] = false }
          guard fill.contains(true) else { continue }
          if maximumHoleArea < .max {
            let areas = self.areas(regions.labels, count: regions.count)
            for region in 1..<(regions.count + 1) where areas[region] > maximumHoleArea { fill[region] = false }
          }
          for y in 0..<h {
            for x in 0..<w where fill[Int(regions.labels[y * w + x])] {
              let index = (y + box.minY) * width + x + box.minX
              labels[index] = value
              mask[index] = true
            }
          }
        }
      }
    }
  }
}
