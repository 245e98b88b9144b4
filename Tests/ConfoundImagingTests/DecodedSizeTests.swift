import ConfoundImaging
import Foundation
import TestSupport
import XCTest

/// What a file decodes to is checked, for the whole file, before anything is allocated: small files that claim
/// huge images are refused with the file, the size and the limit.
final class DecodedSizeTests: XCTestCase {
  override func tearDown() {
    ImageLimits.maxDecodedSamples = ImageLimits.defaultMaxDecodedSamples
    super.tearDown()
  }

  private func tooLarge(_ url: URL, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
      _ = try readImage(url)
      XCTFail("\(url.lastPathComponent) was decoded", file: file, line: line)
    } catch let error as ImageError {
      XCTAssertEqual(error.kind, .tooLarge, "\(error)", file: file, line: line)
      XCTAssertEqual(error.path, url.path, file: file, line: line)
      return error.description
    } catch { XCTFail("\(error)", file: file, line: line) }
    return ""
  }

  /// A TIFF of `pages` pages of `side` x `side` 8-bit pixels, every page pointing at one strip of zeros.
  private func sharedStripTIFF(pages: Int, side: Int, to url: URL) throws {
    var bytes: [UInt8] = Array("II".utf8) + [42, 0]
    func u16(_ v: Int) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    func u32(_ v: Int) { for k in 0..<4 { bytes.append(UInt8(v >> (8 * k) & 0xFF)) } }
    let stripOffset = 8
    let strip = side * side
    u32(stripOffset + strip)  // the first IFD follows the strip
    bytes += [UInt8](repeating: 0, count: strip)
    let entries: [(Int, Int, Int)] = [(256, 4, side), (257, 4, side), (258, 3, 8), (259, 3, 1), (262, 3, 1),
                                      (273, 4, stripOffset), (277, 3, 1), (278, 4, side), (279, 4, strip)]
    for page in 0..<pages {
      u16(entries.count)
      for (tag, type, value) in entries {
        u16(tag)
        u16(type)
        u32(1)
        u32(value)
      }
      u32(page + 1 < pages ? bytes.count + 4 : 0)  // the next IFD follows this one
    }
    try Data(bytes).write(to: url)
  }

  func testATIFFWhosePagesShareOneStripIsRefusedForItsWholeSize() throws {
    let dir = try TemporaryDirectory(prefix: "decoded-size")
    let url = dir.file("pages.tif")
    // 5000 pages of 256 x 256: 327,680,000 samples, over the default 2^28, in a file of under 1 MB.
    try sharedStripTIFF(pages: 5000, side: 256, to: url)
    XCTAssertLessThan(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int, 1 << 20)
    let message = tooLarge(url)
    XCTAssertTrue(message.contains("5000 pages (the first 256x256x1) = 327680000 samples"), message)
    XCTAssertTrue(message.contains("over the limit of \(ImageLimits.defaultMaxDecodedSamples)"), message)
    XCTAssertTrue(message.contains("--max-image-pixels"), message)
    // Raising the limit is what the message says to do; a few pages then decode.
    try sharedStripTIFF(pages: 3, side: 256, to: url)
    ImageLimits.maxDecodedSamples = 3 * 256 * 256
    XCTAssertEqual(try readImage(url).channels, 3)
    ImageLimits.maxDecodedSamples = 3 * 256 * 256 - 1
    _ = tooLarge(url)
  }

  func testAPNGOverTheLimitIsRefusedBeforeDecoding() throws {
    let dir = try TemporaryDirectory(prefix: "decoded-size")
    let url = dir.file("wide.png")
    try writePNG(Image(channels: 1, height: 64, width: 64, pixels: [Float](repeating: 3, count: 4096)), to: url)
    ImageLimits.maxDecodedSamples = 4095
    let message = tooLarge(url)
    XCTAssertTrue(message.contains("64x64x1 = 4096 samples, over the limit of 4095"), message)
    ImageLimits.maxDecodedSamples = 4096
    XCTAssertEqual(try readImage(url).pixels.count, 4096)
  }

  func testAnNPYShapeWhoseProductOverflowsIsCorruptNotACrash() throws {
    let dir = try TemporaryDirectory(prefix: "decoded-size")
    let url = dir.file("overflow.npy")
    var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3037000500, 3037000500, 7), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    try Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)).write(to: url)
    XCTAssertThrowsError(try NPYArray.read(url)) { error in
      XCTAssertEqual((error as? ImageError)?.kind, .corrupt, "\(error)")
      XCTAssertTrue("\(error)".contains("more elements than can be counted"), "\(error)")
    }
  }

  func testAFIFOIsRefusedWithoutOpeningIt() throws {
    let dir = try TemporaryDirectory(prefix: "decoded-size")
    let fifo = dir.file("site.tif")
    XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
    for read in [{ try readImage(fifo) }, { _ = try NPYArray.read(fifo) }] as [() throws -> Any] {
      XCTAssertThrowsError(try read()) { error in
        XCTAssertEqual((error as? ImageError)?.kind, .unknownFormat)
        XCTAssertTrue("\(error)".contains("a FIFO"), "\(error)")
      }
    }
  }
}
