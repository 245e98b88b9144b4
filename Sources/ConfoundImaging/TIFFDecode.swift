import CTIFF

/// A TIFF colormap turned into lookup tables: one table (grey) or three (red, green, blue), each with
/// 2^bitsPerSample entries, by the rule documented on `readTIFF`.
struct TIFFPalette {
  let tables: [[Float]]
  let bitsPerSample: Int
  let nominalRange: ClosedRange<Float>

  init(colormap map: [[UInt16]], bitsPerSample bits: Int) {
    if map[0] == map[1] && map[1] == map[2] {
      let top = Float((1 << bits) - 1)
      tables = [map[0].map { (Float($0) * top / 65535).rounded() }]
      bitsPerSample = bits
      nominalRange = 0...top
    } else {
      tables = map.map { $0.map(Float.init) }
      bitsPerSample = 16
      nominalRange = 0...65535
    }
  }
}

/// Decodes the current directory of `tiff` into an image.
func decodeCurrentPage(_ tiff: TIFFSession) throws -> Image {
  let page = try TIFFPage(tiff)
  var palette: TIFFPalette?
  if page.isPalette {
    guard let map = tiff.colormap(bitsPerSample: page.bitsPerSample) else {
      throw tiff.failure(.corrupt, "palette image without a colormap")
    }
    palette = TIFFPalette(colormap: map, bitsPerSample: page.bitsPerSample)
  }
  let channels = palette?.tables.count ?? page.samplesPerPixel
  let pixels = try decodeSamples(tiff, page, channels: channels) { block, out, placement in
    convertBlock(page, palette, block, out, placement)
  }
  guard let palette else {
    return Image(
      channels: channels, height: page.height, width: page.width, pixels: pixels,
      bitsPerSample: page.bitsPerSample, sampleFormat: page.format)
  }
  return Image(
    channels: channels, height: page.height, width: page.width, pixels: pixels,
    bitsPerSample: palette.bitsPerSample, sampleFormat: .unsignedInteger, nominalRange: palette.nominalRange)
}

/// Decodes every strip or tile of the current page, handing each to `convert` with where it belongs, into
/// `channels` planes of [row][col] floats.
private func decodeSamples(
  _ tiff: TIFFSession, _ page: TIFFPage, channels: Int,
  convert: (UnsafeRawPointer, UnsafeMutablePointer<Float>, BlockPlacement) -> Void
) throws -> [Float] {
  let handle = tiff.handle
  let blockBytes = page.tiled ? TIFFTileSize(handle) : TIFFStripSize(handle)
  guard blockBytes > 0 else { throw tiff.failure(.corrupt, "strip or tile size is zero") }
  let buffer = UnsafeMutableRawPointer.allocate(byteCount: Int(blockBytes), alignment: 16)
  defer { buffer.deallocate() }
  let planeCount = page.width * page.height
  let planes = page.planar ? page.samplesPerPixel : 1
  let interleaved = page.planar ? 1 : page.samplesPerPixel
  // Left uninitialised: the blocks tile the whole image, so every sample is written before it is read.
  let count = channels * planeCount
  return try [Float](unsafeUninitializedCapacity: count) { out, initialized in
    for plane in 0..<planes {
      for top in stride(from: 0, to: page.height, by: page.blockHeight) {
        for left in stride(from: 0, to: page.width, by: page.blockWidth) {
          let rows = min(page.blockHeight, page.height - top)
          let placement = BlockPlacement(
            firstChannel: plane, samplesPerPixel: interleaved, top: top, left: left, rows: rows,
            columns: min(page.blockWidth, page.width - left), stride: page.blockWidth, width: page.width,
            planeCount: planeCount)
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
          convert(buffer, out.baseAddress!, placement)
        }
      }
    }
    initialized = count
  }
}

private func convertBlock(
  _ page: TIFFPage, _ palette: TIFFPalette?, _ block: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>,
  _ p: BlockPlacement
) {
  // A concrete type per call, so each `scatter` is specialised rather than dispatched per sample.
  func copy<T: StoredSample>(_ type: T.Type) { scatter(type, block: block, into: out, placement: p) }
  if let palette {
    // TIFFPage allows palettes of 8 or 16-bit unsigned indices only.
    if page.bitsPerSample == 8 {
      scatterIndexed(UInt8.self, block: block, into: out, placement: p, tables: palette.tables)
    } else {
      scatterIndexed(UInt16.self, block: block, into: out, placement: p, tables: palette.tables)
    }
    return
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
