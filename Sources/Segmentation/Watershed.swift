/// Marker-controlled watershed by priority flood, as `skimage.segmentation.watershed(surface, markers, mask=mask)`
/// with its default 4-connectivity: pixels are flooded from the markers in order of increasing `surface`
/// value, ties broken first-in first-out, and each pixel takes its label when it is first reached.
///
/// Both floods work on a copy of the labels framed by one pixel of -1 (as are pixels outside the mask), so a
/// neighbour is free exactly when its label is 0: no bounds test and no division per pixel.
public enum Watershed {
  /// Floods `markers` (0 = unlabelled) over `surface` inside `mask` (nil = whole plane). Pixels outside the
  /// mask, and masked pixels no marker can reach, stay 0.
  public static func flood(
    surface: [Float], markers: [Int32], mask: [Bool]?, width: Int, height: Int
  ) -> [Int32] {
    precondition(surface.count == width * height && markers.count == surface.count, "sizes differ")
    var framed = Framed(markers: markers, mask: mask, width: width, height: height)
    var queue = FloodQueue()
    framed.forEachMarker { queue.push(surface[$1], $0) }
    let stride = framed.stride
    var framedSurface = [Float](repeating: 0, count: framed.labels.count)
    for y in 0..<height {
      for x in 0..<width { framedSurface[(y + 1) * stride + x + 1] = surface[y * width + x] }
    }
    framed.labels.withUnsafeMutableBufferPointer { out in
      while let pixel = queue.pop() {
        let label = out[pixel]
        for offset in [-1, 1, -stride, stride] where out[pixel + offset] == 0 {
          out[pixel + offset] = label
          queue.push(framedSurface[pixel + offset], pixel + offset)
        }
      }
    }
    return framed.unframed()
  }

  /// The same flood over the surface -`levels` (deepest = highest level first) inside each of the `count`
  /// labelled `objects` (0 = outside), for integer levels >= 0 such as squared distances, from `seeds` (pixel
  /// indices inside objects; seed i gets label i + 1, as markers would).
  ///
  /// Floods never cross between objects, so each runs alone in its bounding box, whose arrays stay in cache
  /// (one flood over the plane misses the cache on most pops). The queue is a bucket per level with a
  /// first-in first-out list in each, which pops pixels in the heap's order, in linear time.
  public static func flood(
    descendingLevels levels: [Int32], seeds: [Int], objects: [Int32], count: Int, width: Int, height: Int
  ) -> [Int32] {
    precondition(levels.count == width * height && objects.count == levels.count, "sizes differ")
    let boxes = BoundingBoxes(objects, count: count, width: width, height: height)
    // Seeds grouped by object, each group in raster order (the heap's ages), labels as markers would number them.
    var seedsOf = [[(pixel: Int, label: Int32)]](repeating: [], count: count + 1)
    for (order, pixel) in seeds.enumerated() where objects[pixel] > 0 {
      seedsOf[Int(objects[pixel])].append((pixel, Int32(order + 1)))
    }
    var out = [Int32](repeating: 0, count: levels.count)
    var scratch: [Int32] = []
    levels.withUnsafeBufferPointer { levels in
      objects.withUnsafeBufferPointer { objects in
        out.withUnsafeMutableBufferPointer { out in
          for object in 1..<(count + 1) {
            guard let box = boxes[object] else { continue }
            let stride = box.width + 2, size = stride * (box.height + 2)
            var top: Int32 = 0
            for y in box.minY...box.maxY {
              for x in box.minX...box.maxX where objects[y * width + x] == object {
                top = max(top, levels[y * width + x])
              }
            }
            // Framed labels (-1 = frame or another object), framed levels, links, and per level head and tail.
            let needed = 3 * size + 2 * (Int(top) + 1)
            if scratch.count < needed { scratch = [Int32](repeating: 0, count: needed) }
            scratch.withUnsafeMutableBufferPointer { buffer in
              let labels = buffer.baseAddress!, level = labels + size, link = level + size, head = link + size
              let tail = head + (Int(top) + 1)
              labels.initialize(repeating: -1, count: size)
              head.initialize(repeating: -1, count: 2 * (Int(top) + 1))
              let queue = LevelQueue(head: head, tail: tail, link: link, level: level)
              for y in box.minY...box.maxY {
                for x in box.minX...box.maxX where objects[y * width + x] == object {
                  let local = (y - box.minY + 1) * stride + x - box.minX + 1
                  labels[local] = 0
                  level[local] = max(levels[y * width + x], 0)
                }
              }
              var seeded: [Int] = []
              for seed in seedsOf[object] {
                let local = (seed.pixel / width - box.minY + 1) * stride + seed.pixel % width - box.minX + 1
                labels[local] = seed.label
                seeded.append(local)
              }
              // Markers in raster order: the ages the heap flood gives them.
              for local in seeded.sorted() { queue.append(local) }
              let framed = UnsafeMutableBufferPointer(start: labels, count: size)
              var current = Int(top)
              while current >= 0 {
                let first = head[current]
                if first < 0 { current -= 1; continue }
                let pixel = Int(first)
                head[current] = pixel == Int(tail[current]) ? -1 : link[pixel]
                if head[current] < 0 { tail[current] = -1 }
                let label = framed[pixel]
                // Left, right, up, down: the order in which the heap flood pushes, so ties keep its ages.
                queue.claim(pixel - 1, label, framed, &current)
                queue.claim(pixel + 1, label, framed, &current)
                queue.claim(pixel - stride, label, framed, &current)
                queue.claim(pixel + stride, label, framed, &current)
              }
              for y in box.minY...box.maxY {
                for x in box.minX...box.maxX where objects[y * width + x] == object {
                  out[y * width + x] = max(labels[(y - box.minY + 1) * stride + x - box.minX + 1], 0)
                }
              }
            }
          }
        }
      }
    }
    return out
  }
}

/// The bucket queue's storage: per level the head and tail of a list threaded through `link`.
private struct LevelQueue {
  let head: UnsafeMutablePointer<Int32>, tail: UnsafeMutablePointer<Int32>, link: UnsafeMutablePointer<Int32>
  let level: UnsafeMutablePointer<Int32>

  /// Labels a free neighbour and queues it; a neighbour above the current level is the heap's next pop, so the
  /// scan goes back up to it.
  @inline(__always)
  func claim(_ pixel: Int, _ label: Int32, _ out: UnsafeMutableBufferPointer<Int32>, _ current: inout Int) {
    guard out[pixel] == 0 else { return }
    out[pixel] = label
    append(pixel)
    current = max(current, Int(level[pixel]))
  }

  @inline(__always)
  func append(_ pixel: Int) {
    let l = Int(level[pixel])
    if tail[l] < 0 { head[l] = Int32(pixel) } else { link[Int(tail[l])] = Int32(pixel) }
    tail[l] = Int32(pixel)
  }
}

/// Labels framed by one pixel of -1 on every side; pixels outside the mask are -1 too, markers keep their label.
private struct Framed {
  var labels: [Int32]
  let width: Int, height: Int
  var stride: Int { width + 2 }

  init(markers: [Int32], mask: [Bool]?, width: Int, height: Int) {
    self.width = width
    self.height = height
    let stride = width + 2
    var labels = [Int32](repeating: -1, count: stride * (height + 2))
    labels.withUnsafeMutableBufferPointer { out in
      markers.withUnsafeBufferPointer { markers in
        for y in 0..<height {
          let source = y * width, target = (y + 1) * stride + 1
          for x in 0..<width { out[target + x] = max(markers[source + x], 0) }
          guard let mask else { continue }
          mask.withUnsafeBufferPointer { inMask in
            for x in 0..<width where !inMask[source + x] { out[target + x] = -1 }
          }
        }
      }
    }
    self.labels = labels
  }

  /// Calls `body(framedIndex, planeIndex)` for every marker pixel, in raster order (the order of their ages).
  func forEachMarker(_ body: (Int, Int) -> Void) {
    labels.withUnsafeBufferPointer { labels in
      for y in 0..<height {
        for x in 0..<width where labels[(y + 1) * stride + x + 1] > 0 { body((y + 1) * stride + x + 1, y * width + x) }
      }
    }
  }

  /// The plane's labels with the frame removed and -1 back to 0.
  func unframed() -> [Int32] {
    var out = [Int32](repeating: 0, count: width * height)
    out.withUnsafeMutableBufferPointer { out in
      labels.withUnsafeBufferPointer { labels in
        for y in 0..<height {
          let source = (y + 1) * stride + 1
          for x in 0..<width { out[y * width + x] = max(labels[source + x], 0) }
        }
      }
    }
    return out
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
