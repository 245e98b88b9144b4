import CPNG
import Foundation

/// Reads a PNG through libpng's simplified API (which reports errors in `png_image.message`, without longjmp).
///
/// Grey, grey+alpha, RGB and RGBA give 1, 2, 3 and 4 channels; 16-bit files keep their 16-bit values
/// (nominal range 0...65535), 8-bit and lower give 0...255 (1, 2 and 4-bit grey are scaled up to 8 bits by
/// libpng). Palette files are expanded to RGB (RGBA with transparency), or to one grey channel when every entry
/// is grey. Gamma and colour-space chunks are ignored, so values are the stored ones, as PIL returns them.
/// For 16-bit files with alpha libpng premultiplies colour by alpha; it is divided out again here, which is exact
/// where alpha is opaque and loses colour where alpha is 0.
public func readPNG(_ url: URL) throws -> Image {
  let path = url.path
  try ImageFileFormat.require(.png, at: path)
  let bytes: [UInt8]
  do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
    throw ImageError(.corrupt, path: path, detail: "cannot be read: \(error.localizedDescription)")
  }
  let chunks = PNGChunks(bytes)
  var png = png_image()
  png.version = UInt32(PNG_IMAGE_VERSION)
  defer { png_image_free(&png) }
  let begun = chunks.decodable.withUnsafeBytes { png_image_begin_read_from_memory(&png, $0.baseAddress, $0.count) }
  guard begun != 0 else { throw ImageError(.corrupt, path: path, detail: message(png)) }
  let sixteen = chunks.bitDepth == 16
  let color = png.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
  let alpha = png.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
  png.format =
    (color ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0) | (alpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
    | (sixteen ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
  let width = Int(png.width)
  let height = Int(png.height)
  let channels = (color ? 3 : 1) + (alpha ? 1 : 0)
  try checkDecodedSize(width: width, height: height, channels: channels, path: path)
  let count = width * height * channels
  var pixels: [Float]
  if sixteen {
    var buffer = [UInt16](repeating: 0, count: count)
    let done = buffer.withUnsafeMutableBytes { png_image_finish_read(&png, nil, $0.baseAddress, 0, nil) }
    guard done != 0 else { throw ImageError(.corrupt, path: path, detail: message(png)) }
    if alpha { unpremultiply(&buffer, channels: channels) }
    pixels = deinterleave(buffer, channels: channels, planeCount: width * height)
  } else {
    var buffer = [UInt8](repeating: 0, count: count)
    let done = buffer.withUnsafeMutableBytes { png_image_finish_read(&png, nil, $0.baseAddress, 0, nil) }
    guard done != 0 else { throw ImageError(.corrupt, path: path, detail: message(png)) }
    pixels = deinterleave(buffer, channels: channels, planeCount: width * height)
  }
  var outputChannels = channels
  if chunks.isGreyPalette && channels == 3 {
    pixels.removeLast(2 * width * height)
    outputChannels = 1
  }
  return Image(
    channels: outputChannels, height: height, width: width, pixels: pixels, bitsPerSample: sixteen ? 16 : 8,
    sampleFormat: .unsignedInteger)
}

/// The bit depths `writePNG` can store.
public enum PNGBitDepth: Int, Sendable {
  case eight = 8
  case sixteen = 16
}

/// Writes `image` as a PNG: 1 channel is grey, 2 grey+alpha, 3 RGB, 4 RGBA, 8-bit; 16-bit only for grey.
///
/// Samples are stored as they are, rounded and clamped to 0...255 (or 0...65535): scale first, for example
/// `image.normalised()` times 255 for a heat map. 8-bit files carry an sRGB chunk, 16-bit files a linear gamma,
/// as libpng's simplified writer always adds one.
public func writePNG(_ image: Image, to url: URL, bitDepth: PNGBitDepth = .eight) throws {
  let path = url.path
  guard (1...4).contains(image.channels), bitDepth == .eight || image.channels == 1 else {
    throw ImageError(
      .writeFailed, path: path,
      detail: "\(image.channels) channels at \(bitDepth.rawValue) bits; PNG takes 1-4 channels, 16-bit only grey")
  }
  var png = png_image()
  png.version = UInt32(PNG_IMAGE_VERSION)
  png.width = UInt32(image.width)
  png.height = UInt32(image.height)
  let color = image.channels >= 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0
  let alpha = image.channels % 2 == 0 ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0
  png.format = color | alpha | (bitDepth == .sixteen ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
  defer { png_image_free(&png) }
  let written: Int32
  if bitDepth == .sixteen {
    let samples = interleave(image, as: UInt16.self)
    written = samples.withUnsafeBytes { png_image_write_to_file(&png, path, 0, $0.baseAddress, 0, nil) }
  } else {
    let samples = interleave(image, as: UInt8.self)
    written = samples.withUnsafeBytes { png_image_write_to_file(&png, path, 0, $0.baseAddress, 0, nil) }
  }
  guard written != 0 else { throw ImageError(.writeFailed, path: path, detail: message(png)) }
}

/// libpng's error or warning text for `png`.
private func message(_ png: png_image) -> String {
  var text = png.message
  let string = withUnsafeBytes(of: &text) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
  return string.isEmpty ? "libpng gave no reason" : string
}

/// Interleaved pixels to [channel][row][col] floats.
private func deinterleave<T: StoredSample>(_ samples: [T], channels: Int, planeCount: Int) -> [Float] {
  var planes = [Float](repeating: 0, count: samples.count)
  planes.withUnsafeMutableBufferPointer { out in
    samples.withUnsafeBufferPointer { source in
      for channel in 0..<channels {
        let base = channel * planeCount
        for pixel in 0..<planeCount { out[base + pixel] = source[pixel * channels + channel].floatValue }
      }
    }
  }
  return planes
}

/// [channel][row][col] floats to interleaved samples, rounded and clamped.
private func interleave<T: StoredSample>(_ image: Image, as _: T.Type) -> [T] {
  let channels = image.channels
  let planeCount = image.planeCount
  var samples = [T](repeating: T(clamping: 0), count: image.pixels.count)
  samples.withUnsafeMutableBufferPointer { out in
    image.pixels.withUnsafeBufferPointer { source in
      for channel in 0..<channels {
        let base = channel * planeCount
        for pixel in 0..<planeCount { out[pixel * channels + channel] = T(clamping: source[base + pixel]) }
      }
    }
  }
  return samples
}

/// Undoes libpng's alpha premultiplication of 16-bit colour (alpha last in each pixel).
private func unpremultiply(_ samples: inout [UInt16], channels: Int) {
  for start in stride(from: 0, to: samples.count, by: channels) {
    let alpha = UInt32(samples[start + channels - 1])
    guard alpha != 0, alpha != 65535 else { continue }
    for offset in start..<start + channels - 1 {
      samples[offset] = UInt16(min(65535, (UInt32(samples[offset]) * 65535 + alpha / 2) / alpha))
    }
  }
}
