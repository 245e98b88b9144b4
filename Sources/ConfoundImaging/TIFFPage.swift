import CTIFF

/// What one TIFF directory (page) says about its pixels, read from its tags and checked before decoding.
struct TIFFPage {
  let width: Int
  let height: Int
  let samplesPerPixel: Int
  let bitsPerSample: Int
  let format: SampleFormat
  let planar: Bool
  let photometric: Int
  let tiled: Bool
  /// Rows per strip, or tile height when tiled.
  let blockHeight: Int
  /// Image width for strips, tile width when tiled.
  let blockWidth: Int

  /// Reads the current directory's tags; throws `.unsupported` for layouts this reader does not decode.
  init(_ tiff: TIFFSession) throws {
    let handle = tiff.handle
    guard let width = tiff.uint32Field(TIFFTAG_IMAGEWIDTH), let height = tiff.uint32Field(TIFFTAG_IMAGELENGTH) else {
      throw tiff.failure(.corrupt, "no ImageWidth/ImageLength tag")
    }
    self.width = Int(width)
    self.height = Int(height)
    samplesPerPixel = Int(tiff.uint16Field(TIFFTAG_SAMPLESPERPIXEL) ?? 1)
    bitsPerSample = Int(tiff.uint16Field(TIFFTAG_BITSPERSAMPLE) ?? 1)
    planar = tiff.uint16Field(TIFFTAG_PLANARCONFIG).map { Int32($0) == PLANARCONFIG_SEPARATE } ?? false
    photometric = Int(tiff.uint16Field(TIFFTAG_PHOTOMETRIC) ?? UInt16(PHOTOMETRIC_MINISBLACK))
    switch Int32(tiff.uint16Field(TIFFTAG_SAMPLEFORMAT) ?? UInt16(SAMPLEFORMAT_UINT)) {
    case SAMPLEFORMAT_UINT: format = .unsignedInteger
    case SAMPLEFORMAT_INT: format = .signedInteger
    case SAMPLEFORMAT_IEEEFP: format = .floatingPoint
    case let other: throw ImageError(.unsupported, path: tiff.path, detail: "SampleFormat \(other)")
    }
    tiled = TIFFIsTiled(handle) != 0
    if tiled {
      blockWidth = Int(tiff.uint32Field(TIFFTAG_TILEWIDTH) ?? 0)
      blockHeight = Int(tiff.uint32Field(TIFFTAG_TILELENGTH) ?? 0)
    } else {
      blockWidth = self.width
      blockHeight = min(Int(tiff.uint32Field(TIFFTAG_ROWSPERSTRIP) ?? height), self.height)
    }
    try validate(path: tiff.path)
  }

  private func validate(path: String) throws {
    let integerBits = [8, 16, 32]
    let floatBits = [32, 64]
    let bitsOK = format == .floatingPoint ? floatBits.contains(bitsPerSample) : integerBits.contains(bitsPerSample)
    guard bitsOK else {
      throw ImageError(.unsupported, path: path, detail: "\(bitsPerSample)-bit \(format.rawValue) samples")
    }
    let plain: Set<Int32> = [PHOTOMETRIC_MINISBLACK, PHOTOMETRIC_MINISWHITE, PHOTOMETRIC_RGB, PHOTOMETRIC_SEPARATED]
    if Int32(photometric) == PHOTOMETRIC_PALETTE {
      guard samplesPerPixel == 1, format == .unsignedInteger, bitsPerSample <= 16 else {
        throw ImageError(
          .unsupported, path: path, detail: "palette with \(samplesPerPixel)x\(bitsPerSample)-bit samples")
      }
    } else if !plain.contains(Int32(photometric)) {
      throw ImageError(.unsupported, path: path, detail: "photometric interpretation \(photometric) (YCbCr, CIELab...)")
    }
    guard width > 0, height > 0, samplesPerPixel > 0, blockWidth > 0, blockHeight > 0 else {
      throw ImageError(
        .corrupt, path: path, detail: "empty size \(width)x\(height) or block \(blockWidth)x\(blockHeight)")
    }
    try checkDecodedSize(width: width, height: height, channels: samplesPerPixel, path: path)
  }

  var isPalette: Bool { Int32(photometric) == PHOTOMETRIC_PALETTE }
  var bytesPerSample: Int { bitsPerSample / 8 }
}
