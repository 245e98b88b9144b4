/// Which neighbours make two pixels touch.
public enum Connectivity: Sendable {
  /// Edge neighbours only (scipy's cross structure, skimage `connectivity=1`).
  case four
  /// Edge and corner neighbours (skimage `label`'s default in 2-D, `connectivity=2`).
  case eight
}

/// Binary-mask and label-image operations: connected components, hole filling, size filters, relabelling.
///
/// Masks are `[Bool]` and label images `[Int32]` (0 = background), both row-major `width * height`.
public enum Labeling {
  /// Labels the connected components of `mask` 1...N in raster order of their first pixel, like
  /// `skimage.measure.label(mask, connectivity=...)`. Returns the labels and N.
  public static func label(_ mask: [Bool], width: Int, height: Int, connectivity: Connectivity = .eight)
    -> (labels: [Int32], count: Int)
  {
    var labels = [Int32](repeating: 0, count: mask.count)
    var next: Int32 = 0
    mask.withUnsafeBufferPointer { inMask in
      labels.withUnsafeMutableBufferPointer { out in
        // Each pixel is pushed at most once, so a stack of `count` entries cannot overflow.
        let stack = UnsafeMutablePointer<Int>.allocate(capacity: max(out.count, 1))
        defer { stack.deallocate() }
        for start in 0..<out.count where inMask[start] && out[start] == 0 {
          next += 1
          out[start] = next
          stack[0] = start
          var top = 1
          while top > 0 {
            top -= 1
            forEachNeighbour(of: stack[top], width: width, height: height, connectivity: connectivity) { neighbour in
              if inMask[neighbour] && out[neighbour] == 0 {
                out[neighbour] = next
                stack[top] = neighbour
                top += 1
              }
            }
          }
        }
      }
    }
    return (labels, Int(next))
  }

  /// Fills holes: background regions not 4-connected to the image border and of at most `maximumHoleArea`
  /// pixels become foreground. With no limit this is `scipy.ndimage.binary_fill_holes` (default cross structure).
  public static func fillHoles(_ mask: [Bool], width: Int, height: Int, maximumHoleArea: Int = .max) -> [Bool] {
    let background = label(mask.map { !$0 }, width: width, height: height, connectivity: .four)
    let areas = self.areas(background.labels, count: background.count)
    let border = labelsTouchingBorder(background.labels, width: width, height: height)
    let fill = (0...background.count).map { $0 > 0 && areas[$0] <= maximumHoleArea && !border.contains(Int32($0)) }
    return zip(mask, background.labels).map { $0 || fill[Int($1)] }
  }

  /// Pixel count of each label 0...count.
  public static func areas(_ labels: [Int32], count: Int) -> [Int] {
    var areas = [Int](repeating: 0, count: count + 1)
    for label in labels { areas[Int(label)] += 1 }
    return areas
  }

  /// Keeps objects whose area is in `minimumArea...maximumArea` (labels with no pixel are always dropped) and
  /// for which `keep` holds, and renumbers them 1...N in order of their old label (so raster order is kept).
  /// Returns the new labels and N.
  public static func filterAndRelabel(
    _ labels: [Int32], count: Int, minimumArea: Int = 0, maximumArea: Int = .max,
    keep: (Int32) -> Bool = { _ in true }
  ) -> (labels: [Int32], count: Int) {
    let areas = self.areas(labels, count: count)
    var map = [Int32](repeating: 0, count: count + 1)
    var next: Int32 = 0
    for label in 1..<(count + 1)
    where areas[label] >= max(minimumArea, 1) && areas[label] <= maximumArea && keep(Int32(label)) {
      next += 1
      map[label] = next
    }
    return (labels.map { map[Int($0)] }, Int(next))
  }

  /// Labels of the objects with a pixel on the image's outer rows or columns.
  public static func labelsTouchingBorder(_ labels: [Int32], width: Int, height: Int) -> Set<Int32> {
    var touching = Set<Int32>()
    for x in 0..<width { touching.insert(labels[x]); touching.insert(labels[(height - 1) * width + x]) }
    for y in 0..<height { touching.insert(labels[y * width]); touching.insert(labels[y * width + width - 1]) }
    touching.remove(0)
    return touching
  }

  /// Calls `body` with the in-bounds neighbours of `pixel`.
  @inline(__always)
  static func forEachNeighbour(
    of pixel: Int, width: Int, height: Int, connectivity: Connectivity, _ body: (Int) -> Void
  ) {
    let x = pixel % width, y = pixel / width
    let left = x > 0, right = x < width - 1, up = y > 0, down = y < height - 1
    if left { body(pixel - 1) }
    if right { body(pixel + 1) }
    if up { body(pixel - width) }
    if down { body(pixel + width) }
    guard connectivity == .eight else { return }
    if up && left { body(pixel - width - 1) }
    if up && right { body(pixel - width + 1) }
    if down && left { body(pixel + width - 1) }
    if down && right { body(pixel + width + 1) }
  }
}
