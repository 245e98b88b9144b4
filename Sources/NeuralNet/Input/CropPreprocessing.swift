/// How a crop channel's intensities are put on the 0...255 scale the models were trained on.
public enum IntensityMapping: Equatable, Sendable {
  /// The channel's 1st..99th percentile (numpy's linear interpolation) stretched to 0...255, clipped: the usual
  /// per-image contrast normalisation of image-based profiling. A constant channel maps to 0.
  case percentile
  /// x * 255 / storageMaximum (255 for 8-bit files, 65535 for 16-bit ones), clipped.
  case scale(Float)
  /// The values are already on 0...255 and are used unchanged.
  case none
}

/// Pure functions that turn microscopy crops into a network's input planes. Planes are float32, row-major.
public enum Preprocessing {
  /// `plane` mapped to 0...255 by `mapping`.
  public static func intensities(_ plane: UnsafeBufferPointer<Float>, _ mapping: IntensityMapping) -> [Float] {
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
  public static func percentile(_ sorted: [Float], _ p: Double) -> Float? {
    guard !sorted.isEmpty else { return nil }
    let position = p / 100 * Double(sorted.count - 1)
    let below = Int(position.rounded(.down)), above = min(below + 1, sorted.count - 1)
    let fraction = Float(position - Double(below))
    return sorted[below] + (sorted[above] - sorted[below]) * fraction
  }

  /// Bilinear resampling with half-pixel centres (OpenCV INTER_LINEAR, TF `half_pixel_centers`), edges clamped,
  /// no antialiasing. Same size in and out returns the plane unchanged.
  public static func resize(_ plane: [Float], width: Int, height: Int, toWidth: Int, toHeight: Int) -> [Float] {
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
  public static func taps(from size: Int, to target: Int) -> [(low: Int, high: Int, weight: Float)] {
    let scale = Double(size) / Double(target)
    return (0..<target).map { i in
      let source = min(max((Double(i) + 0.5) * scale - 0.5, 0), Double(size - 1))
      let low = Int(source.rounded(.down))
      return (low, min(low + 1, size - 1), Float(source - Double(low)))
    }
  }

  /// Writes `planes` (3 planes of 0...255 values, R, G, B) into `input` as (x - mean[c]) / std[c].
  public static func normalise(_ planes: [[Float]], mean: [Float], std: [Float], into input: inout [Float], at offset: Int) {
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

/// What preprocessing needs from a model: its input size and its input normalisation.
public struct ModelGeometry: Sendable {
  public let height: Int
  public let width: Int
  public let mean: [Float]
  public let std: [Float]
  public var imageSize: Int { 3 * height * width }

  /// `size` > 0 replaces the declared height and width (and lets a model without fixed ones run). The
  /// normalisation is (x - input_mean) / input_std from the model's metadata_props, or (x - 127) / 128.
  public init(_ network: Network, size: Int = 0) throws {
    guard network.inputs.count == 1, let shape = network.inputs[0].shape, shape.count == 4,
      size > 0 || shape[2].fixedValue != nil && shape[3].fixedValue != nil
    else {
      throw NeuralNetError.invalidModel(
        file: network.file,
        message: "preprocessing needs one input of fixed shape [N, 3, H, W]; use parameter raw = true "
          + "with already-shaped crops for this model")
    }
    if case .fixed(let channels) = shape[1], channels != 3 {
      throw NeuralNetError.invalidModel(
        file: network.file, message: "the input has \(channels) channels; crops are fed as RGB (3)")
    }
    (height, width) = size > 0 ? (size, size) : (shape[2].fixedValue!, shape[3].fixedValue!)
    mean = try Self.perChannel(network.metadata["input_mean"], default: 127, key: "input_mean", file: network.file)
    std = try Self.perChannel(network.metadata["input_std"], default: 128, key: "input_std", file: network.file)
  }

  /// "127" or "128,128,128" as three values.
  static func perChannel(_ text: String?, default value: Float, key: String, file: String) throws -> [Float] {
    guard let text else { return [value, value, value] }
    let values = text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
    let usable = values.allSatisfy { $0.isFinite && ($0 != 0 || key == "input_mean") }
    guard values.count == 1 || values.count == 3, usable else {
      throw NeuralNetError.invalidModel(
        file: file, message: "metadata \(key) = \"\(text)\" must be one number or three, comma-separated (and std not 0)")
    }
    return values.count == 1 ? [values[0], values[0], values[0]] : values
  }
}

/// How cell crops [n, C, h, w] become network images [images, 3, H, W]: each channel on its own replicated to RGB
/// (`each`: C images per crop, in channel order), or three channels as R, G, B (`triple`: one image per crop); each
/// plane mapped to 0...255, resized bilinearly to the model's input, then normalised as the model asks. The one
/// definition shared by the embedder and the explainer, so that a fine-tuned model sees what the embeddings saw.
public struct CropInput: Sendable {
  public enum Channels: Sendable, Equatable { case each, triple([Int]) }
  public let geometry: ModelGeometry
  public let intensity: IntensityMapping
  public let channels: Channels

  public init(geometry: ModelGeometry, intensity: IntensityMapping, channels: Channels) {
    (self.geometry, self.intensity, self.channels) = (geometry, intensity, channels)
  }

  /// Network images per crop.
  public func perCrop(channels count: Int) -> Int {
    if case .each = channels { return count }
    return 1
  }

  /// The crop channels that feed R, G, B of network image `image`.
  public func planes(image: Int, perCrop: Int) -> [Int] {
    switch channels {
    case .each: return Array(repeating: image % perCrop, count: 3)
    case .triple(let indices): return indices
    }
  }

  /// Network images `range` (image i is view i % perCrop of crop i / perCrop) of crops `[n, c, h, w]`.
  public func images(_ crops: UnsafeBufferPointer<Float>, shape: [Int], range: Range<Int>) -> Tensor {
    let (c, h, w) = (shape[1], shape[2], shape[3])
    let perCrop = perCrop(channels: c)
    var input = [Float](repeating: 0, count: range.count * geometry.imageSize)
    for image in range {
      let planes = planes(image: image, perCrop: perCrop).map { channel in
        let first = ((image / perCrop) * c + channel) * h * w
        let plane = UnsafeBufferPointer(rebasing: crops[first..<first + h * w])
        return Preprocessing.resize(
          Preprocessing.intensities(plane, intensity), width: w, height: h, toWidth: geometry.width,
          toHeight: geometry.height)
      }
      Preprocessing.normalise(
        planes, mean: geometry.mean, std: geometry.std, into: &input, at: (image - range.lowerBound) * geometry.imageSize)
    }
    return Tensor(shape: [range.count, 3, geometry.height, geometry.width], data: input)
  }
}
