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
    precondition(mask.count == width * height, "mask has \(mask.count) values, expected \(width)x\(height)")
    return mask.withUnsafeBufferPointer {
      components(of: $0, value: true, width: width, height: height, connectivity: connectivity)
    }
  }

  /// Components of the pixels equal to `value`, by two raster passes with union-find (no queue, no division):
  /// provisional labels from the already visited neighbours, then each pixel gets its root's final label,
  /// numbered in order of first appearance, which is the raster order of each component's first pixel.
  static func components(
    of mask: UnsafeBufferPointer<Bool>, value: Bool, width: Int, height: Int, connectivity: Connectivity
  ) -> (labels: [Int32], count: Int) {
    var labels = [Int32](repeating: 0, count: mask.count)
    // At most one provisional label per pixel, plus the unused 0. A raw buffer, not an array captured by the
    // helpers below, which would cost a dynamic exclusivity check per access.
    let parent = UnsafeMutablePointer<Int32>.allocate(capacity: mask.count + 1)
    defer { parent.deallocate() }
    parent[0] = 0
    var provisional = 0
    let eight = connectivity == .eight
    labels.withUnsafeMutableBufferPointer { out in
      for y in 0..<height {
        let row = y * width
        for x in 0..<width where mask[row + x] == value {
          var label: Int32 = 0
          if x > 0, out[row + x - 1] != 0 { label = out[row + x - 1] }
          if y > 0 {
            let above = row - width + x
            if out[above] != 0 { label = unite(label, out[above], parent) }
            if eight {
              if x > 0, out[above - 1] != 0 { label = unite(label, out[above - 1], parent) }
              if x < width - 1, out[above + 1] != 0 { label = unite(label, out[above + 1], parent) }
            }
          }
          if label == 0 {
            provisional += 1
            label = Int32(provisional)
            parent[provisional] = label
          }
          out[row + x] = label
        }
      }
    }
    // A parent is never above its child (joins keep the smaller root), so one ascending pass flattens every tree.
    for label in stride(from: 1, through: provisional, by: 1) { parent[label] = parent[Int(parent[label])] }
    var final = [Int32](repeating: 0, count: provisional + 1)
    var next: Int32 = 0
    final.withUnsafeMutableBufferPointer { number in
      labels.withUnsafeMutableBufferPointer { out in
        for index in 0..<out.count where out[index] != 0 {
          let r = Int(parent[Int(out[index])])
          if number[r] == 0 { next += 1; number[r] = next }
          out[index] = number[r]
        }
      }
    }
    return (labels, Int(next))
  }

  /// Joins the trees of `a` (0 = none yet) and `b`; returns the root, the smaller label.
  @inline(__always)
  private static func unite(_ a: Int32, _ b: Int32, _ parent: UnsafeMutablePointer<Int32>) -> Int32 {
    @inline(__always) func root(_ label: Int32) -> Int32 {
      var l = label
      while parent[Int(l)] != l {
        parent[Int(l)] = parent[Int(parent[Int(l)])]  // path halving
        l = parent[Int(l)]
      }
      return l
    }
    let rb = root(b)
    guard a != 0 else { return rb }
    let ra = root(a)
    if ra == rb { return ra }
    let (keep, drop) = ra < rb ? (ra, rb) : (rb, ra)
    parent[Int(drop)] = keep
    return keep
  }

  /// Fills holes: background regions not 4-connected to the image border and of at most `maximumHoleArea`
  /// pixels become foreground. With no limit this is `scipy.ndimage.binary_fill_holes` (default cross structure).
  public static func fillHoles(_ mask: [Bool], width: Int, height: Int, maximumHoleArea: Int = .max) -> [Bool] {
    precondition(mask.count == width * height, "mask has \(mask.count) values, expected \(width)x\(height)")
    var filled = mask
    var components = label(mask, width: width, height: height)
    fillHoles(labels: &components.labels, mask: &filled, count: components.count, width: width, height: height,
              maximumHoleArea: maximumHoleArea)
    return filled
  }

  /// Pixel count of each label 0...count.
  public static func areas(_ labels: [Int32], count: Int) -> [Int] {
    var areas = [Int](repeating: 0, count: count + 1)
    areas.withUnsafeMutableBufferPointer { area in
      labels.withUnsafeBufferPointer { source in
        for label in source { area[Int(label)] += 1 }
      }
    }
    return areas
  }

  /// Keeps objects whose area is in `minimumArea...maximumArea` (labels with no pixel are always dropped) and
  /// for which `keep` holds, and renumbers them 1...N in order of their old label (so raster order is kept).
  /// Returns the new labels and N.
  public static func filterAndRelabel(
    _ labels: [Int32], count: Int, minimumArea: Int = 0, maximumArea: Int = .max,
    keep: (Int32) -> Bool = { _ in true }
  ) -> (labels: [Int32], count: Int) {
    var relabelled = labels
    let kept = filterAndRelabel(&relabelled, count: count, minimumArea: minimumArea, maximumArea: maximumArea,
                                keep: keep)
    return (relabelled, kept)
  }

  /// The same in place; returns N.
  public static func filterAndRelabel(
    _ labels: inout [Int32], count: Int, minimumArea: Int = 0, maximumArea: Int = .max,
    keep: (Int32) -> Bool = { _ in true }
  ) -> Int {
    let areas = self.areas(labels, count: count)
    var map = [Int32](repeating: 0, count: count + 1)
    var next: Int32 = 0
    for label in 1..<(count + 1)
    where areas[label] >= max(minimumArea, 1) && areas[label] <= maximumArea && keep(Int32(label)) {
      next += 1
      map[label] = next
    }
    map.withUnsafeBufferPointer { lookup in
      labels.withUnsafeMutableBufferPointer { out in
        for index in 0..<out.count { out[index] = lookup[Int(out[index])] }
      }
    }
    return Int(next)
  }

  /// Labels of the objects with a pixel on the image's outer rows or columns.
  public static func labelsTouchingBorder(_ labels: [Int32], width: Int, height: Int) -> Set<Int32> {
    var touching = Set<Int32>()
    for x in 0..<width { touching.insert(labels[x]); touching.insert(labels[(height - 1) * width + x]) }
    for y in 0..<height { touching.insert(labels[y * width]); touching.insert(labels[y * width + width - 1]) }
    touching.remove(0)
    return touching
  }
}
