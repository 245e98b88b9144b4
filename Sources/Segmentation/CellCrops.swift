/// What to do with a nucleus whose crop would reach past the image edge.
public enum CropEdgePolicy: Sendable, Equatable {
  /// Leave the nucleus out and count it in `CropBatch.skipped` (default: no invented pixels).
  case skip
  /// Fill outside pixels by mirror reflection without repeating the edge pixel (numpy.pad mode "reflect":
  /// d c b | a b c d | c b a), repeated as needed for crops larger than the image.
  case reflect
}

/// Cell-centred crops of every channel, laid out [n, channels, size, size] float32, row-major in each crop.
public struct CropBatch: Sendable {
  public var values: [Float]
  public var channels: Int
  public var size: Int
  /// Indices (into the centres passed in) of the crops kept, in order.
  public var objectIndices: [Int]
  /// Nuclei left out because their crop would leave the image (always 0 with `.reflect`).
  public var skipped: Int
  public var count: Int { objectIndices.count }
}

/// Cuts fixed-size crops centred on nuclei.
public enum CellCrops {
  /// One `size` x `size` crop per centre, over all `planes` (each `width * height`). The crop's pixel
  /// (size / 2, size / 2) is the centre rounded to the nearest pixel, so its top-left corner is
  /// round(centre) - size / 2 (integer division).
  public static func extract(
    planes: [[Float]], width: Int, height: Int, centres: [(x: Double, y: Double)], size: Int,
    edge: CropEdgePolicy = .skip
  ) -> CropBatch {
    precondition(size > 0, "crop size must be positive")
    precondition(planes.allSatisfy { $0.count == width * height }, "every plane must have width * height values")
    var batch = CropBatch(values: [], channels: planes.count, size: size, objectIndices: [], skipped: 0)
    batch.values.reserveCapacity(centres.count * planes.count * size * size)
    for (object, centre) in centres.enumerated() {
      let left = Int(centre.x.rounded()) - size / 2, top = Int(centre.y.rounded()) - size / 2
      let inside = left >= 0 && top >= 0 && left + size <= width && top + size <= height
      if !inside && edge == .skip { batch.skipped += 1; continue }
      let columns = (0..<size).map { reflect(left + $0, count: width) }
      let rows = (0..<size).map { reflect(top + $0, count: height) }
      for plane in planes {
        for row in rows { for column in columns { batch.values.append(plane[row * width + column]) } }
      }
      batch.objectIndices.append(object)
    }
    return batch
  }

  /// numpy "reflect" index into 0..<count: period 2 (count - 1), edge pixel not repeated.
  static func reflect(_ index: Int, count: Int) -> Int {
    guard count > 1 else { return 0 }
    let period = 2 * (count - 1)
    var i = index % period
    if i < 0 { i += period }
    return i < count ? i : period - i
  }
}
