/// How a crop channel's intensities are put on the 0...255 scale the models were trained on.
enum IntensityMapping: Equatable {
  /// The channel's 1st..99th percentile (numpy's linear interpolation) stretched to 0...255, clipped: the usual
  /// per-image contrast normalisation of image-based profiling. A constant channel maps to 0.
  case percentile
  /// x * 255 / storageMaximum (255 for 8-bit files, 65535 for 16-bit ones), clipped.
  case scale(Float)
  /// The values are already on 0...255 and are used unchanged.
  case none
}

/// Pure functions that turn microscopy crops into a network's input planes. Planes are float32, row-major.
enum Preprocessing {
  /// `plane` mapped to 0...255 by `mapping`.
  static func intensities(_ plane: UnsafeBufferPointer<Float>, _ mapping: IntensityMapping) -> [Float] {
    switch mapping {
    case .none: return Array(plane)
    case .scale(let maximum):
      let factor = maximum > 0 ? 255 / maximum : 1
      return plane.map { min(max($0 * factor, 0), 255) }
    case .percentile:
      let sorted = plane.filter { $0.isFinite }.sorted()
      guard let low = percentile(sorted, 1), let high = percentile(sorted, 99), high > low else {
        return [Float](repeating: 0, count: plane.count)
      }
      let factor = 255 / (high - low)
      return plane.map { $0.isFinite ? min(max(($0 - low) * factor, 0), 255) : 0 }
    }
  }

  /// The `p`th percentile of ascending `sorted` values with linear interpolation between ranks (numpy default).
  static func percentile(_ sorted: [Float], _ p: Double) -> Float? {
    guard !sorted.isEmpty else { return nil }
    let position = p / 100 * Double(sorted.count - 1)
    let below = Int(position.rounded(.down)), above = min(below + 1, sorted.count - 1)
    let fraction = Float(position - Double(below))
    return sorted[below] + (sorted[above] - sorted[below]) * fraction
  }

  /// Bilinear resampling with half-pixel centres (OpenCV INTER_LINEAR, TF `half_pixel_centers`), edges clamped,
  /// no antialiasing. Same size in and out returns the plane unchanged.
  static func resize(_ plane: [Float], width: Int, height: Int, toWidth: Int, toHeight: Int) -> [Float] {
    if width == toWidth && height == toHeight { return plane }
    let xs = taps(from: width, to: toWidth), ys = taps(from: height, to: toHeight)
    var out = [Float](repeating: 0, count: toWidth * toHeight)
    plane.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for (row, y) in ys.enumerated() {
          let top = y.low * width, bottom = y.high * width
          for (column, x) in xs.enumerated() {
            let upper = src[top + x.low] + (src[top + x.high] - src[top + x.low]) * x.weight
            let lower = src[bottom + x.low] + (src[bottom + x.high] - src[bottom + x.low]) * x.weight
            dst[row * toWidth + column] = upper + (lower - upper) * y.weight
          }
        }
      }
    }
    return out
  }

  /// For each output coordinate: the two source samples it lies between and the weight of the second.
  static func taps(from size: Int, to target: Int) -> [(low: Int, high: Int, weight: Float)] {
    let scale = Double(size) / Double(target)
    return (0..<target).map { i in
      let source = min(max((Double(i) + 0.5) * scale - 0.5, 0), Double(size - 1))
      let low = Int(source.rounded(.down))
      return (low, min(low + 1, size - 1), Float(source - Double(low)))
    }
  }

  /// Writes `planes` (3 planes of 0...255 values, R, G, B) into `input` as (x - mean[c]) / std[c].
  static func normalise(_ planes: [[Float]], mean: [Float], std: [Float], into input: inout [Float], at offset: Int) {
    let count = planes[0].count
    input.withUnsafeMutableBufferPointer { dst in
      for c in 0..<3 {
        let (m, s) = (mean[c], std[c])
        planes[c].withUnsafeBufferPointer { src in
          for i in 0..<count { dst[offset + c * count + i] = (src[i] - m) / s }
        }
      }
    }
  }
}
