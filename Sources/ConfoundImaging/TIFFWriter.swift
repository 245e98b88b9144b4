import CTIFF
import Foundation

/// The sample type a TIFF is written with.
public enum TIFFSampleType: Sendable, Equatable, CaseIterable {
  case uint8, uint16, uint32, int16, int32, float32

  var bits: Int {
    switch self {
    case .uint8: 8
    case .uint16, .int16: 16
    case .uint32, .int32, .float32: 32
    }
  }

  var format: SampleFormat {
    switch self {
    case .uint8, .uint16, .uint32: .unsignedInteger
    case .int16, .int32: .signedInteger
    case .float32: .floatingPoint
    }
  }

  /// The type that stores `image` without loss when it came from a file this module reads; float32 otherwise.
  static func matching(_ image: Image) -> TIFFSampleType {
    allCases.first { $0.bits == image.bitsPerSample && $0.format == image.sampleFormat } ?? .float32
  }
}

/// How TIFF strips are compressed when written.
public enum TIFFCompression: Sendable, Equatable {
  case none, lzw, deflate, packBits

  var tag: Int32 {
    switch self {
    case .none: COMPRESSION_NONE
    case .lzw: COMPRESSION_LZW
    case .deflate: COMPRESSION_ADOBE_DEFLATE
    case .packBits: COMPRESSION_PACKBITS
    }
  }
}

/// Writes `image` as a TIFF with one page per channel (greyscale, MinIsBlack).
///
/// `type` defaults to the image's own storage type (so a read 16-bit image is written 16-bit), or float32 when it
/// has none. Integer types round to nearest (halves away from zero) and clamp to the type's range (NaN becomes
/// 0); label masks fit uint32 or int32 exactly up to 2^24. Integer pages use the horizontal-differencing
/// predictor with LZW and Deflate.
public func writeTIFF(
  _ image: Image, to url: URL, as type: TIFFSampleType? = nil, compression: TIFFCompression = .deflate
) throws {
  let type = type ?? TIFFSampleType.matching(image)
  let tiff = try TIFFSession(path: url.path, mode: "w")
  for channel in 0..<image.channels {
    try writePage(image, channel: channel, type: type, compression: compression, into: tiff)
  }
}

private func writePage(
  _ image: Image, channel: Int, type: TIFFSampleType, compression: TIFFCompression, into tiff: TIFFSession
) throws {
  let handle = tiff.handle
  try tiff.setField(TIFFTAG_IMAGEWIDTH, image.width)
  try tiff.setField(TIFFTAG_IMAGELENGTH, image.height)
  try tiff.setField(TIFFTAG_BITSPERSAMPLE, type.bits)
  try tiff.setField(TIFFTAG_SAMPLESPERPIXEL, 1)
  try tiff.setField(TIFFTAG_SAMPLEFORMAT, Int(sampleFormatTag(type.format)))
  try tiff.setField(TIFFTAG_PHOTOMETRIC, Int(PHOTOMETRIC_MINISBLACK))
  try tiff.setField(TIFFTAG_PLANARCONFIG, Int(PLANARCONFIG_CONTIG))
  try tiff.setField(TIFFTAG_COMPRESSION, Int(compression.tag))
  if type.format != .floatingPoint && (compression == .lzw || compression == .deflate) {
    try tiff.setField(TIFFTAG_PREDICTOR, Int(PREDICTOR_HORIZONTAL))
  }
  if image.channels > 1 {
    try tiff.setField(TIFFTAG_SUBFILETYPE, Int(FILETYPE_PAGE))
  }
  let rowsPerStrip = max(1, min(image.height, Int(TIFFDefaultStripSize(handle, 0))))
  try tiff.setField(TIFFTAG_ROWSPERSTRIP, rowsPerStrip)
  let bytesPerSample = type.bits / 8
  let buffer = UnsafeMutableRawPointer.allocate(byteCount: rowsPerStrip * image.width * bytesPerSample, alignment: 16)
  defer { buffer.deallocate() }
  try image.withPlane(channel) { plane in
    for (strip, top) in stride(from: 0, to: image.height, by: rowsPerStrip).enumerated() {
      let count = min(rowsPerStrip, image.height - top) * image.width
      convert(plane.baseAddress! + top * image.width, count: count, to: type, into: buffer)
      if TIFFWriteEncodedStrip(handle, UInt32(strip), buffer, tmsize_t(count * bytesPerSample)) < 0 {
        throw tiff.failure(.writeFailed, "strip \(strip) could not be written")
      }
    }
  }
  guard TIFFWriteDirectory(handle) == 1 else { throw tiff.failure(.writeFailed, "page \(channel) not written") }
}

private func sampleFormatTag(_ format: SampleFormat) -> Int32 {
  switch format {
  case .unsignedInteger: SAMPLEFORMAT_UINT
  case .signedInteger: SAMPLEFORMAT_INT
  case .floatingPoint: SAMPLEFORMAT_IEEEFP
  }
}

private func convert(
  _ source: UnsafePointer<Float>, count: Int, to type: TIFFSampleType, into target: UnsafeMutableRawPointer
) {
  switch type {
  case .uint8: gather(UInt8.self, from: source, count: count, into: target)
  case .uint16: gather(UInt16.self, from: source, count: count, into: target)
  case .uint32: gather(UInt32.self, from: source, count: count, into: target)
  case .int16: gather(Int16.self, from: source, count: count, into: target)
  case .int32: gather(Int32.self, from: source, count: count, into: target)
  case .float32: gather(Float.self, from: source, count: count, into: target)
  }
}
