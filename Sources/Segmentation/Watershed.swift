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
    let inside = mask ?? [Bool](repeating: true, count: markers.count)
    for index in labels.indices where !inside[index] { labels[index] = 0 }
    var queue = FloodQueue()
    for index in labels.indices where labels[index] != 0 { queue.push(surface[index], index) }
    inside.withUnsafeBufferPointer { inMask in
      surface.withUnsafeBufferPointer { values in
        labels.withUnsafeMutableBufferPointer { out in
          while let pixel = queue.pop() {
            let label = out[pixel]
            Labeling.forEachNeighbour(of: pixel, width: width, height: height, connectivity: .four) { neighbour in
              guard out[neighbour] == 0, inMask[neighbour] else { return }
              out[neighbour] = label
              queue.push(values[neighbour], neighbour)
            }
          }
        }
      }
    }
    return labels
  }
}

/// A binary min-heap of pixels keyed by (value, insertion age): equal values leave in insertion order.
struct FloodQueue {
  private struct Entry {
    var value: Float
    var age: Int
    var pixel: Int
    @inline(__always) func precedes(_ other: Entry) -> Bool {
      value < other.value || (value == other.value && age < other.age)
    }
  }
  private var heap: [Entry] = []
  private var age = 0

  mutating func push(_ value: Float, _ pixel: Int) {
    let entry = Entry(value: value, age: age, pixel: pixel)
    age += 1
    heap.append(entry)
    heap.withUnsafeMutableBufferPointer { h in
      var child = h.count - 1
      while child > 0 {
        let parent = (child - 1) / 2
        guard entry.precedes(h[parent]) else { break }
        h[child] = h[parent]
        child = parent
      }
      h[child] = entry
    }
  }

  mutating func pop() -> Int? {
    guard let top = heap.first else { return nil }
    let last = heap.removeLast()
    if heap.isEmpty { return top.pixel }
    heap.withUnsafeMutableBufferPointer { h in
      var parent = 0
      while true {
        let left = 2 * parent + 1
        if left >= h.count { break }
        let right = left + 1
        let child = right < h.count && h[right].precedes(h[left]) ? right : left
        guard h[child].precedes(last) else { break }
        h[parent] = h[child]
        parent = child
      }
      h[parent] = last
    }
    return top.pixel
  }
}
