import ConfoundImaging
import Foundation
import TestSupport
import XCTest

/// TIFFs we write are read by tifffile with the same values, dtype, compression and one page per channel.
final class TIFFWriteTests: XCTestCase {
  static let describe = """
    import sys, json, tifffile
    out = []
    for path in sys.argv[1:]:
        with tifffile.TiffFile(path) as tif:
            out.append([[p.dtype.str for p in tif.pages], [int(p.compression) for p in tif.pages], len(tif.pages)])
    print(json.dumps(out))
    """

  private func labelledImage(channels: Int, height: Int, width: Int, low: Int, high: Int) -> Image {
    let span = UInt64(high - low + 1)
    let pixels = scrambled(channels * height * width, modulo: span, seed: span).map { $0 + Float(low) }
    return Image(channels: channels, height: height, width: width, pixels: pixels)
  }

  func testEveryWritableTypeRoundTripsThroughTifffile() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-write")
    let (height, width) = (37, 53)
    let cases: [(TIFFSampleType, Image, String)] = [
      (.uint8, labelledImage(channels: 2, height: height, width: width, low: 0, high: 255), "|u1"),
      (.uint16, labelledImage(channels: 3, height: height, width: width, low: 0, high: 65535), "<u2"),
      (.uint32, labelledImage(channels: 1, height: height, width: width, low: 0, high: 1 << 24), "<u4"),
      (.int16, labelledImage(channels: 1, height: height, width: width, low: -32768, high: 32767), "<i2"),
      (.int32, labelledImage(channels: 2, height: height, width: width, low: -(1 << 24), high: 1 << 24), "<i4"),
      (
        .float32,
        Image(channels: 1, height: 2, width: 3, pixels: [0.1, -2.5e-7, 3e30, .pi, -0, .leastNonzeroMagnitude * 3]),
        "<f4"
      ),
    ]
    var urls: [URL] = []
    for (type, image, _) in cases {
      let url = folder.file("\(type).tif")
      try writeTIFF(image, to: url, as: type)
      urls.append(url)
      let back = try readTIFF(url)
      XCTAssertEqual(back.pixels, image.pixels, "\(type)")
      let signed = type == .int16 || type == .int32
      XCTAssertEqual(back.sampleFormat, type == .float32 ? .floatingPoint : signed ? .signedInteger : .unsignedInteger)
    }
    let references = try referenceImages(urls, scratch: folder)
    let described = try pythonJSON(Self.describe, urls.map(\.path)) as! [[Any]]
    for ((type, image, dtype), (reference, description)) in zip(cases, zip(references, described)) {
      assertMatches(image, reference, "tifffile reading our \(type)")
      XCTAssertEqual(description[0] as? [String], Array(repeating: dtype, count: image.channels), "\(type)")
      XCTAssertEqual(description[1] as? [Int], Array(repeating: 8, count: image.channels), "Adobe Deflate by default")
      XCTAssertEqual(description[2] as? Int, image.channels, "one page per channel")
    }
  }

  func testOtherCompressionsAndClamping() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-write")
    let image = labelledImage(channels: 1, height: 300, width: 41, low: 0, high: 4000)
    let compressions: [TIFFCompression] = [.none, .lzw, .packBits]
    let urls = compressions.map { folder.file("\($0).tif") }
    for (compression, url) in zip(compressions, urls) {
      try writeTIFF(image, to: url, as: .uint16, compression: compression)
    }
    let described = try pythonJSON(Self.describe, urls.map(\.path)) as! [[Any]]
    XCTAssertEqual(described.map { ($0[1] as! [Int])[0] }, [1, 5, 32773])
    for (url, reference) in zip(urls, try referenceImages(urls, scratch: folder)) {
      assertMatches(image, reference, url.lastPathComponent)
    }
    let wild = Image(channels: 1, height: 1, width: 5, pixels: [-3, 2.5, 3.5, 300, .nan])
    try writeTIFF(wild, to: folder.file("wild.tif"), as: .uint8)
    XCTAssertEqual(try readTIFF(folder.file("wild.tif")).pixels, [0, 3, 4, 255, 0], "halves round away from zero")
  }

  func testReadImageWriteKeepsStorageType() throws {
    let plate = try sharedData("bbbc006-focus")
    let source = try files(in: plate, suffix: ".tif")[0]
    let folder = try TemporaryDirectory(prefix: "imaging-write")
    let image = try readTIFF(source)
    try writeTIFF(image, to: folder.file("copy.tif"))
    let copy = try readTIFF(folder.file("copy.tif"))
    XCTAssertEqual(copy, image)
  }
}
