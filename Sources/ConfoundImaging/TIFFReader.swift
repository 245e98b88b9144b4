import CTIFF
import Foundation

/// Which pages (TIFF directories) of a multi-page file `readTIFF` returns.
public enum TIFFPages: Sendable, Equatable {
  /// Only the first page.
  case first
  /// Page `n` (0-based).
  case page(Int)
  /// Every page, stacked as channels in page order; the pages must agree in size and sample type.
  case all
}

/// Reads a TIFF file through libtiff into an `Image`.
///
/// Decodes 8/16/32-bit unsigned and signed integers and 32/64-bit floats, any codec libtiff was built with
/// (none, LZW, Deflate, PackBits, ...), strips or tiles, either byte order, several samples per pixel
/// (interleaved or planar) as channels. MinIsWhite data keeps its stored values, as tifffile does.
///
/// Palette images: when every colormap entry is grey (red == green == blue), the result has one channel holding
/// each index's grey level rescaled from the colormap's 16-bit range to the file's bit depth,
/// `round(map[i] * (2^bits - 1) / 65535)`, with nominal range 0...2^bits-1; a grey ramp (map[i] = 257 i for 8-bit)
/// therefore returns the index itself. Any other palette gives three channels (red, green, blue) of the colormap's
/// 16-bit values, nominal range 0...65535.
///
/// libtiff's messages are captured per file and carried in the thrown `ImageError`; nothing is printed.
public func readTIFF(_ url: URL, pages: TIFFPages = .all) throws -> Image {
  let path = url.path
  try ImageFileFormat.require(.tiff, at: path)
  let tiff = try TIFFSession(path: path, mode: "r")
  switch pages {
  case .first: return try decodeCurrentPage(tiff)
  case .page(let n):
    let count = Int(TIFFNumberOfDirectories(tiff.handle))
    guard n >= 0, n < count, TIFFSetDirectory(tiff.handle, tdir_t(n)) == 1 else {
      throw ImageError(.unsupported, path: path, detail: "page \(n) requested, file has \(count) pages")
    }
    return try decodeCurrentPage(tiff)
  case .all:
    try checkWholeFile(tiff)
    return try stackPages(try decodeAllPages(tiff), path: path)
  }
}

/// Refuses a file whose pages together decode to more than `ImageLimits.maxDecodedSamples`, reading only the tags
/// of every page first: thousands of pages may point at one small strip, so the file's size says nothing.
func checkWholeFile(_ tiff: TIFFSession) throws {
  var total: Int? = 0
  var pages = 0
  var first = ""
  repeat {
    let page = try TIFFPage(tiff)
    if pages == 0 { first = "\(page.width)x\(page.height)x\(page.samplesPerPixel)" }
    pages += 1
    total = total.flatMap { ImageLimits.sum($0, page.width * page.height * page.samplesPerPixel) }
  } while TIFFReadDirectory(tiff.handle) == 1
  let what = pages == 1 ? first : "\(pages) pages (the first \(first))"
  try ImageLimits.check(samples: total, what: what, path: tiff.path)
  guard TIFFSetDirectory(tiff.handle, 0) == 1 else { throw tiff.failure(.corrupt, "cannot return to the first page") }
}

/// Reads every page of a TIFF file as its own `Image` (pages may differ in size and type).
public func readTIFFPages(_ url: URL) throws -> [Image] {
  try ImageFileFormat.require(.tiff, at: url.path)
  let tiff = try TIFFSession(path: url.path, mode: "r")
  try checkWholeFile(tiff)
  return try decodeAllPages(tiff)
}

func decodeAllPages(_ tiff: TIFFSession) throws -> [Image] {
  var images = [try decodeCurrentPage(tiff)]
  while TIFFReadDirectory(tiff.handle) == 1 { images.append(try decodeCurrentPage(tiff)) }
  return images
}

/// Concatenates pages as channels; they must share width, height, bit depth and sample format.
private func stackPages(_ pages: [Image], path: String) throws -> Image {
  guard let first = pages.first, pages.count > 1 else { return pages[0] }
  for (index, page) in pages.enumerated()
  where page.width != first.width || page.height != first.height || page.bitsPerSample != first.bitsPerSample
    || page.sampleFormat != first.sampleFormat
  {
    throw ImageError(
      .unsupported, path: path,
      detail: "page \(index) is \(page.width)x\(page.height) \(page.bitsPerSample)-bit, page 0 is "
        + "\(first.width)x\(first.height) \(first.bitsPerSample)-bit; read pages separately with readTIFFPages")
  }
  let pixels = pages.flatMap(\.pixels)
  let range = pages.dropFirst().reduce(first.nominalRange) {
    min($0.lowerBound, $1.nominalRange.lowerBound)...max($0.upperBound, $1.nominalRange.upperBound)
  }
  return Image(
    channels: pages.reduce(0) { $0 + $1.channels }, height: first.height, width: first.width, pixels: pixels,
    bitsPerSample: first.bitsPerSample, sampleFormat: first.sampleFormat, nominalRange: range)
}
