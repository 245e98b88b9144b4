/// Marker-controlled watershed by priority flood, as `skimage.segmentation.watershed(surface, markers, mask=mask)`
/// with its default 4-connectivity: pixels are flooded from the markers in order of increasing `surface`
/// value, ties broken first-in first-out, and each pixel takes its label when it is first reached.
public enum Watershed {
  /// Floods `markers` (0 = unlabelled) over `surface` inside `mask` (nil = whole plane). Pixels outside the
  /// mask, and masked pixels no marker can reach, stay 0.
  public static func flood(
    surface: [Float], markers: [Int32], mask: [Bool]?, width: Int, height: Int
  ) -> [Int32] {
    precondition(surface.count == width * height && markers.count == surface.count, "sizes differ")
    var labels = markers
    if let mask { for index in labels.indices where !mask[index] { labels[index] = 0 } }
    var queue = FloodQueue()
    for index in labels.indices where labels[index] != 0 { queue.push(surface[index], index) }
    while let pixel = queue.pop() {
      let label = labels[pixel]
      Labeling.forEachNeighbour(of: pixel, width: width, height: height, connectivity: .four) { neighbour in
        guard labels[neighbour] == 0, mask?[neighbour] ?? true else { return }
        labels[neighbour] = label
        queue.push(surface[neighbour], neighbour)
      }
    }
    return labels
  }
}

/// A binary min-heap of pixels keyed by (value, insertion age): equal values leave in insertion order.
struct FloodQueue {
  private var values: [Float] = []
  private var ages: [Int] = []
  private var pixels: [Int] = []
  private var age = 0

  mutating func push(_ value: Float, _ pixel: Int) {
    values.append(value); ages.append(age); pixels.append(pixel)
    age += 1
    var child = values.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard precedes(child, parent) else { break }
      swapAt(child, parent)
      child = parent
    }
  }

  mutating func pop() -> Int? {
    guard let top = pixels.first else { return nil }
    let last = values.count - 1
    swapAt(0, last)
    values.removeLast(); ages.removeLast(); pixels.removeLast()
    var parent = 0
    while true {
      let left = 2 * parent + 1, right = left + 1
      var smallest = parent
      if left < values.count && precedes(left, smallest) { smallest = left }
      if right < values.count && precedes(right, smallest) { smallest = right }
      if smallest == parent { break }
      swapAt(parent, smallest)
      parent = smallest
    }
    return top
  }

  @inline(__always)
  private func precedes(_ a: Int, _ b: Int) -> Bool {
    values[a] < values[b] || (values[a] == values[b] && ages[a] < ages[b])
  }

  @inline(__always)
  private mutating func swapAt(_ a: Int, _ b: Int) {
    values.swapAt(a, b); ages.swapAt(a, b); pixels.swapAt(a, b)
  }
}
