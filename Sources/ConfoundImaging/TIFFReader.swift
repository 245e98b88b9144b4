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
  case .all: return try stackPages(try decodeAllPages(tiff), path: path)
  }
}

/// Reads every page of a TIFF file as its own `Image` (pages may differ in size and type).
public func readTIFFPages(_ url: URL) throws -> [Image] {
  try ImageFileFormat.require(.tiff, at: url.path)
  return try decodeAllPages(try TIFFSession(path: url.path, mode: "r"))
}

private func decodeAllPages(_ tiff: TIFFSession) throws -> [Image] {
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

private func decodeCurrentPage(_ tiff: TIFFSession) throws -> Image {
  let page = try TIFFPage(tiff)
  let samples = try decodeSamples(tiff, page)
  if page.isPalette {
    guard let map = tiff.colormap(bitsPerSample: page.bitsPerSample) else {
      throw tiff.failure(.corrupt, "palette image without a colormap")
    }
    return applyPalette(map, indices: consume samples, page: page)
  }
  return Image(
    channels: page.samplesPerPixel, height: page.height, width: page.width, pixels: samples,
    bitsPerSample: page.bitsPerSample, sampleFormat: page.format)
}

/// Maps palette indices through the colormap, by the rule documented on `readTIFF`.
private func applyPalette(_ map: [[UInt16]], indices: consuming [Float], page: TIFFPage) -> Image {
  let isGrey = map[0] == map[1] && map[1] == map[2]
  let top = Float((1 << page.bitsPerSample) - 1)
  let lookups: [[Float]] =
    isGrey ? [map[0].map { (Float($0) * top / 65535).rounded() }] : map.map { $0.map(Float.init) }
  // Grey palettes map in place; colour ones need room for three planes.
  let count = indices.count
  var pixels = indices
  if !isGrey { pixels += pixels + pixels }
  pixels.withUnsafeMutableBufferPointer { out in
    for (channel, lookup) in lookups.enumerated() {
      lookup.withUnsafeBufferPointer { table in
        // Indices were decoded from bitsPerSample-bit integers, so they are within the 2^bits-entry table.
        for offset in channel * count..<(channel + 1) * count { out[offset] = table[Int(out[offset])] }
      }
    }
  }
  return Image(
    channels: lookups.count, height: page.height, width: page.width, pixels: pixels,
    bitsPerSample: isGrey ? page.bitsPerSample : 16, sampleFormat: .unsignedInteger,
    nominalRange: isGrey ? 0...top : 0...65535)
}

/// Decodes every strip or tile of the current page into [sample][row][col] floats.
private func decodeSamples(_ tiff: TIFFSession, _ page: TIFFPage) throws -> [Float] {
  let handle = tiff.handle
  let blockBytes = page.tiled ? TIFFTileSize(handle) : TIFFStripSize(handle)
  guard blockBytes > 0 else { throw tiff.failure(.corrupt, "strip or tile size is zero") }
  let buffer = UnsafeMutableRawPointer.allocate(byteCount: Int(blockBytes), alignment: 16)
  defer { buffer.deallocate() }
  let planeCount = page.width * page.height
  let planes = page.planar ? page.samplesPerPixel : 1
  let interleaved = page.planar ? 1 : page.samplesPerPixel
  // Left uninitialised: the blocks tile the whole image, so every sample is written before it is read.
  let count = page.samplesPerPixel * planeCount
  return try [Float](unsafeUninitializedCapacity: count) { out, initialized in
    for plane in 0..<planes {
      for top in stride(from: 0, to: page.height, by: page.blockHeight) {
        for left in stride(from: 0, to: page.width, by: page.blockWidth) {
          let rows = min(page.blockHeight, page.height - top)
          let placement = BlockPlacement(
            firstChannel: plane, samplesPerPixel: interleaved, top: top, left: left, rows: rows,
            columns: min(page.blockWidth, page.width - left), stride: page.blockWidth)
          // Strips at the bottom hold only the remaining rows; tiles are always full size.
          let needed = (page.tiled ? page.blockHeight : rows) * page.blockWidth * interleaved * page.bytesPerSample
          let got: tmsize_t
          if page.tiled {
            let tile = TIFFComputeTile(handle, UInt32(left), UInt32(top), 0, UInt16(plane))
            got = TIFFReadEncodedTile(handle, tile, buffer, blockBytes)
          } else {
            let strip = TIFFComputeStrip(handle, UInt32(top), UInt16(plane))
            got = TIFFReadEncodedStrip(handle, strip, buffer, blockBytes)
          }
          guard got >= needed else {
            throw tiff.failure(.corrupt, "block at row \(top), column \(left) decoded \(got) of \(needed) bytes")
          }
          convertBlock(page, buffer, out.baseAddress!, placement, planeCount)
        }
      }
    }
    initialized = count
  }
}

private func convertBlock(
  _ page: TIFFPage, _ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ p: BlockPlacement,
  _ planeCount: Int
) {
  // A concrete type per call, so each `scatter` is specialised rather than dispatched per sample.
  func copy<T: StoredSample>(_ type: T.Type) {
    scatter(type, block: block, into: out, placement: p, width: page.width, planeCount: planeCount)
  }
  switch (page.format, page.bitsPerSample) {
  case (.unsignedInteger, 8): copy(UInt8.self)
  case (.unsignedInteger, 16): copy(UInt16.self)
  case (.unsignedInteger, _): copy(UInt32.self)
  case (.signedInteger, 8): copy(Int8.self)
  case (.signedInteger, 16): copy(Int16.self)
  case (.signedInteger, _): copy(Int32.self)
  case (.floatingPoint, 32): copy(Float.self)
  case (.floatingPoint, _): copy(Double.self)
  }
}
