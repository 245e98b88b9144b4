import Foundation

/// How the samples of an image were stored on disk, before conversion to `Float`.
public enum SampleFormat: String, Sendable, Equatable, CaseIterable {
  /// Unsigned integers (TIFF SampleFormat 1, every PNG).
  case unsignedInteger
  /// Two's-complement signed integers (TIFF SampleFormat 2).
  case signedInteger
  /// IEEE floating point (TIFF SampleFormat 3).
  case floatingPoint
}

/// A decoded image: `channels` planes of `height` x `width` float32 samples, plus what the file said about them.
///
/// Invariant: `pixels.count == channels * height * width`, laid out [channel][row][col] (each plane row-major and
/// contiguous), so `plane(c)` is a slice without a copy and can be handed to functions that take a float32 plane.
/// Samples keep their stored values (a 16-bit 1000 is 1000.0); `nominalRange` says what range the storage allowed,
/// so `normalised()` can map to [0, 1] and callers can judge dynamic range. Integers above 2^24 (32-bit data) are
/// rounded to the nearest float32.
public struct Image: Sendable, Equatable {
  /// Number of planes: TIFF samples per pixel times pages, PNG colour components.
  public let channels: Int
  /// Rows per plane.
  public let height: Int
  /// Columns per row.
  public let width: Int
  /// The samples, [channel][row][col], `channels * height * width` of them.
  public var pixels: [Float]
  /// Bits per stored sample in the file (8, 16, 32, 64); 32 for images made in memory from floats.
  public var bitsPerSample: Int
  /// How the file stored samples.
  public var sampleFormat: SampleFormat
  /// The range the storage allows (0...255 for 8-bit unsigned, -32768...32767 for signed 16-bit); for
  /// floating-point data, the data's own minimum...maximum (0...0 for an empty image).
  public var nominalRange: ClosedRange<Float>

  /// Makes an image from planes laid out [channel][row][col]; `pixels.count` must equal
  /// `channels * height * width` (a programming error otherwise).
  public init(
    channels: Int, height: Int, width: Int, pixels: [Float],
    bitsPerSample: Int = 32, sampleFormat: SampleFormat = .floatingPoint, nominalRange: ClosedRange<Float>? = nil
  ) {
    precondition(channels >= 0 && height >= 0 && width >= 0, "negative image dimension")
    precondition(
      pixels.count == channels * height * width, "pixels.count \(pixels.count) != \(channels)x\(height)x\(width)")
    self.channels = channels
    self.height = height
    self.width = width
    self.pixels = pixels
    self.bitsPerSample = bitsPerSample
    self.sampleFormat = sampleFormat
    self.nominalRange = nominalRange ?? Image.nominalRange(of: sampleFormat, bits: bitsPerSample, data: pixels)
  }

  /// Samples per plane: `height * width`.
  public var planeCount: Int { height * width }

  /// The range a storage type allows; for floating point, the data's own extent.
  public static func nominalRange(of format: SampleFormat, bits: Int, data: [Float]) -> ClosedRange<Float> {
    switch format {
    case .unsignedInteger: return 0...Float((1 << UInt64(bits)) &- 1)
    case .signedInteger: return -Float(1 << UInt64(bits - 1))...Float((1 << UInt64(bits - 1)) - 1)
    case .floatingPoint: return dataRange(data)
    }
  }

  /// Minimum...maximum of the finite values, 0...0 when there are none.
  static func dataRange(_ data: [Float]) -> ClosedRange<Float> {
    var low = Float.infinity
    var high = -Float.infinity
    for value in data where value.isFinite {
      low = min(low, value)
      high = max(high, value)
    }
    return low <= high ? low...high : 0...0
  }

  /// Channel `c` as a slice of `pixels` (no copy); its indices start at `c * planeCount`.
  public func plane(_ c: Int) -> ArraySlice<Float> {
    precondition(c >= 0 && c < channels, "channel \(c) out of 0..<\(channels)")
    return pixels[c * planeCount..<(c + 1) * planeCount]
  }

  /// Calls `body` with channel `c` as a row-major buffer of `height * width` floats, without copying.
  public func withPlane<R>(_ c: Int, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    precondition(c >= 0 && c < channels, "channel \(c) out of 0..<\(channels)")
    return try pixels.withUnsafeBufferPointer { all in
      try body(UnsafeBufferPointer(rebasing: all[c * planeCount..<(c + 1) * planeCount]))
    }
  }

  /// Channel `c` alone, as a one-channel image with the same storage description.
  public func channel(_ c: Int) -> Image {
    Image(
      channels: 1, height: height, width: width, pixels: Array(plane(c)),
      bitsPerSample: bitsPerSample, sampleFormat: sampleFormat, nominalRange: nominalRange)
  }

  /// The image mapped linearly so `nominalRange` becomes 0...1: `(v - lower) / (upper - lower)`.
  /// Values outside the nominal range (possible only for floating-point input edited after reading) map outside
  /// [0, 1]; an empty range (a constant float image) maps every sample to 0.
  public func normalised() -> Image {
    let low = nominalRange.lowerBound
    let span = nominalRange.upperBound - low
    // Division rather than a reciprocal multiply, so 255 / 255 is exactly 1 and values match (v - low) / span.
    let mapped = span > 0 ? pixels.map { ($0 - low) / span } : pixels.map { _ in 0 }
    return Image(
      channels: channels, height: height, width: width, pixels: mapped,
      bitsPerSample: 32, sampleFormat: .floatingPoint, nominalRange: 0...1)
  }
}

/// How large an image this process decodes, counted in samples (width x height x channels, over every page of a
/// file and every file of a site): a header may claim any size, and a small file (a PNG under 1 MB, a TIFF whose
/// thousand pages share one strip) can decode to gigabytes. The check runs before anything is allocated.
public enum ImageLimits {
  /// 2^28 samples: 1 GiB as float32, far above a screen's site (2160 x 2160 x 5 is 2^24.5).
  public static let defaultMaxDecodedSamples = 1 << 28
  nonisolated(unsafe) private static var value = defaultMaxDecodedSamples
  private static let lock = NSLock()

  /// The limit in force; `confound-host --max-image-pixels N` (and the worker it starts) set it.
  public static var maxDecodedSamples: Int {
    get {
      lock.lock()
      defer { lock.unlock() }
      return value
    }
    set {
      lock.lock()
      value = max(1, newValue)
      lock.unlock()
    }
  }

  /// Throws `.tooLarge` naming `path` when `samples` (nil: beyond Int) is over the limit; `what` describes the size.
  public static func check(samples: Int?, what: String, path: String) throws {
    let limit = maxDecodedSamples
    guard let samples, samples <= limit else {
      let count = samples.map { " = \($0)" } ?? " (beyond 2^63)"
      throw ImageError(.tooLarge, path: path, detail: "it decodes to \(what)\(count) samples, over the limit of \(limit)")
    }
  }

  /// `a + b`, or nil on overflow.
  public static func sum(_ a: Int, _ b: Int) -> Int? {
    let (s, overflow) = a.addingReportingOverflow(b)
    return overflow ? nil : s
  }

  /// `a * b * ...`, or nil on overflow or a negative factor.
  public static func product(_ factors: [Int]) -> Int? {
    var total = 1
    for f in factors {
      let (p, overflow) = total.multipliedReportingOverflow(by: f)
      if overflow || f < 0 { return nil }
      total = p
    }
    return total
  }
}

/// Throws `.tooLarge` when `width x height x channels` exceeds `ImageLimits.maxDecodedSamples`.
func checkDecodedSize(width: Int, height: Int, channels: Int, path: String) throws {
  try ImageLimits.check(samples: ImageLimits.product([width, height, channels]), what: "\(width)x\(height)x\(channels)", path: path)
}
