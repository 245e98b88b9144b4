import ConfoundImaging
import Foundation
import TestSupport
import XCTest

/// Damaged, missing and foreign files throw an `ImageError` naming the file, and nothing is printed.
final class ErrorTests: XCTestCase {
  /// Asserts reading `url` throws an ImageError of `kind` whose description names the file.
  private func assertFails(
    _ url: URL, _ kind: ImageError.Kind, read: (URL) throws -> Any = { try readImage($0) },
    file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try read(url), url.lastPathComponent, file: file, line: line) { error in
      guard let error = error as? ImageError else { return XCTFail("\(error)", file: file, line: line) }
      XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
      XCTAssertEqual(error.path, url.path, file: file, line: line)
      XCTAssertTrue(error.description.contains(url.path), error.description, file: file, line: line)
    }
  }

  /// The first `fraction` of `source` copied to `name` in `folder`.
  private func truncated(_ source: URL, to fraction: Double, as name: String, in folder: TemporaryDirectory) throws
    -> URL
  {
    let bytes = try Data(contentsOf: source)
    let url = folder.file(name)
    try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: url)
    return url
  }

  func testTruncatedTIFFsThrowNamingTheFileAndPrintNothing() throws {
    let plate = try sharedData("bbbc013-sbs-plate")
    let folder = try TemporaryDirectory(prefix: "imaging-errors")
    let lzw = plate.appendingPathComponent("Channel1-01-A-01.tif")
    let deflate = plate.appendingPathComponent("Channel2-01-A-01.tif")
    let stack = try files(in: try sharedData("dfnn-defocus-stack"), suffix: ".tif")[0]
    let damaged = [
      try truncated(lzw, to: 0.5, as: "lzw-half.tif", in: folder),
      try truncated(deflate, to: 0.3, as: "deflate-third.tif", in: folder),
      try truncated(stack, to: 0.9, as: "raw-90.tif", in: folder),
      try truncated(lzw, to: 0.0005, as: "header-only.tif", in: folder),
    ]
    // tifffile puts the directory before the pixels, so cutting these files leaves the tags and loses strips.
    let written = ["raw.tif", "lzw.tif", "tiled.tif"].map(folder.file)
    _ = try python(
      """
      import sys, numpy as np, tifffile
      a = np.arange(300 * 200, dtype=np.uint16).reshape(300, 200)
      tifffile.imwrite(sys.argv[1], a, rowsperstrip=16)
      tifffile.imwrite(sys.argv[2], a, compression='lzw', rowsperstrip=16)
      tifffile.imwrite(sys.argv[3], a, compression='zlib', tile=(64, 64))
      """, written.map(\.path))
    for url in written { XCTAssertEqual(try readTIFF(url).pixels[12345], 12345) }
    let cutStrips = try written.map { try truncated($0, to: 0.6, as: "cut-\($0.lastPathComponent)", in: folder) }
    let printed = captureOutput {
      for url in damaged + cutStrips { assertFails(url, .corrupt) }
      assertFails(damaged[0], .corrupt) { try readTIFFPages($0) }
    }
    XCTAssertEqual(printed, "", "libtiff must not print")
  }

  /// libtiff's handlers are per file: reading good and damaged files on many threads gives each file its own
  /// result and its own message, the same as reading it alone.
  func testConcurrentReadsKeepTheirOwnMessages() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-threads")
    let source = folder.file("source.tif")
    _ = try python(
      "import sys, numpy as np, tifffile; tifffile.imwrite(sys.argv[1], np.ones((400, 300), 'u2'), rowsperstrip=4)",
      [source.path])
    let urls = try (0..<24).map { index in
      index % 2 == 0 ? source : try truncated(source, to: 0.2 + 0.03 * Double(index), as: "cut\(index).tif", in: folder)
    }
    @Sendable func outcome(_ url: URL) -> String {
      do { return "sum \(try readTIFF(url).pixels.reduce(0, +))" } catch { return "\(error)" }
    }
    let alone = urls.map(outcome)
    XCTAssertEqual(Set(alone).count, 13, "one result for the good file, a distinct message per cut")
    final class Results: @unchecked Sendable {
      let lock = NSLock()
      var values: [Int: String] = [:]
    }
    let results = Results()
    let captured = urls
    let printed = captureOutput {
      DispatchQueue.concurrentPerform(iterations: 4 * captured.count) { iteration in
        let index = iteration % captured.count
        let text = outcome(captured[index])
        results.lock.withLock {
          if let previous = results.values[index], previous != text { results.values[index] = "DIFFERS: \(text)" }
          if results.values[index] == nil { results.values[index] = text }
        }
      }
    }
    XCTAssertEqual(printed, "")
    XCTAssertEqual((0..<urls.count).map { results.values[$0] ?? "" }, alone)
  }

  func testTruncatedPNGsThrowNamingTheFile() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-errors")
    let pixels = (0..<64 * 64).map { Float(($0 * 37) % 65536) }
    try writePNG(
      Image(channels: 1, height: 64, width: 64, pixels: pixels), to: folder.file("whole.png"), bitDepth: .sixteen)
    let printed = captureOutput {
      for fraction in [0.2, 0.6, 0.95] {
        let url = try! truncated(folder.file("whole.png"), to: fraction, as: "cut-\(fraction).png", in: folder)
        assertFails(url, .corrupt)
        assertFails(url, .corrupt) { try readPNG($0) }
      }
    }
    XCTAssertEqual(printed, "", "libpng must not print")
  }

  /// Files with overwritten bytes (in the header, the directory or the pixel data) either decode or throw an
  /// `ImageError` naming the file; they never crash and never print.
  func testDamagedBytesThrowImageErrorsOrDecode() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-damage")
    let sources = [
      try sharedData("bbbc013-sbs-plate").appendingPathComponent("Channel2-01-A-01.tif"),
      try sharedData("stardist-img2d").appendingPathComponent("img2d.tif"),
      try sharedData("bbbc006-focus").appendingPathComponent("BBBC006_z_aligned__a01__s1__w1_10_cropped.png"),
    ]
    var damaged: [URL] = []
    for (fileIndex, source) in sources.enumerated() {
      let original = [UInt8](try Data(contentsOf: source))
      for variant in 0..<40 {
        var bytes = original
        let positions = scrambled(1 + variant % 6, modulo: UInt64(bytes.count), seed: UInt64(variant * 7919))
        let values = scrambled(positions.count, modulo: 256, seed: UInt64(variant))
        for (position, value) in zip(positions, values) {
          // Half of the variants hit the first 512 bytes, where PNG headers and tifffile's directories live.
          let index = variant % 2 == 0 ? Int(position) % min(512, bytes.count) : Int(position)
          bytes[index] = UInt8(value)
        }
        let url = folder.file("damaged-\(fileIndex)-\(variant).\(source.pathExtension)")
        try Data(bytes).write(to: url)
        damaged.append(url)
      }
    }
    var failures = 0
    let printed = captureOutput {
      for url in damaged {
        do { _ = try readImage(url) } catch let error as ImageError {
          failures += 1
          XCTAssertEqual(error.path, url.path)
        } catch { XCTFail("\(url.lastPathComponent): not an ImageError: \(error)") }
      }
    }
    XCTAssertEqual(printed, "")
    XCTAssertGreaterThan(failures, damaged.count / 4, "most damage is detected")
  }

  /// Headers claiming enormous images throw instead of overflowing or exhausting memory.
  func testHugeClaimedSizesThrow() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-errors")
    let script = """
      import sys, struct, zlib
      def entry(tag, kind, value): return struct.pack('<HHII', tag, kind, 1, value)
      tags = [entry(256, 4, 4294967295), entry(257, 4, 4294967295), entry(258, 3, 16), entry(259, 3, 1),
              entry(262, 3, 1), entry(273, 4, 8), entry(278, 4, 1), entry(279, 4, 4)]
      ifd = struct.pack('<H', len(tags)) + b''.join(tags) + struct.pack('<I', 0)
      open(sys.argv[1], 'wb').write(b'II*\\x00' + struct.pack('<I', 16) + b'\\x00' * 8 + ifd)
      def chunk(kind, body):
          return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))
      ihdr = struct.pack('>IIBBBBB', 999999, 999999, 16, 6, 0, 0, 0)
      open(sys.argv[2], 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', ihdr) + chunk(b'IEND', b''))
      """
    let urls = [folder.file("huge.tif"), folder.file("huge.png")]
    _ = try python(script, urls.map(\.path))
    var messages: [String] = []
    let printed = captureOutput {
      for url in urls {
        do { _ = try readImage(url) } catch { messages.append("\(error)") }
      }
    }
    XCTAssertEqual(printed, "")
    XCTAssertEqual(messages.count, 2, "\(messages)")
    for (url, message) in zip(urls, messages) { XCTAssertTrue(message.hasPrefix(url.path), message) }
  }

  func testMissingForeignAndMislabelledFiles() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-errors")
    assertFails(folder.file("absent.tif"), .missingFile)
    try Data("Row,Column\nA,1\n".utf8).write(to: folder.file("plate.tif"))
    assertFails(folder.file("plate.tif"), .unknownFormat)
    try Data().write(to: folder.file("empty.png"))
    assertFails(folder.file("empty.png"), .unknownFormat)
    assertFails(folder.url, .unknownFormat)
    try writePNG(Image(channels: 1, height: 2, width: 2, pixels: [1, 2, 3, 4]), to: folder.file("really-png.tif"))
    assertFails(folder.file("really-png.tif"), .unknownFormat) { try readTIFF($0) }
    XCTAssertEqual(try readImage(folder.file("really-png.tif")).pixels, [1, 2, 3, 4])
    assertFails(folder.file("really-png.tif"), .unknownFormat) { try NPYArray.read($0) }
  }

  func testUnsupportedLayoutsSayWhat() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-errors")
    let script = """
      import sys, numpy as np, tifffile
      tifffile.imwrite(sys.argv[1], np.zeros((8, 8), bool))
      tifffile.imwrite(sys.argv[2], np.zeros((8, 8), np.complex64))
      tifffile.imwrite(sys.argv[3], np.zeros((8, 8), np.float16))
      """
    let names = ["bilevel.tif", "complex.tif", "half.tif"]
    _ = try python(script, names.map { folder.file($0).path })
    for name in names { assertFails(folder.file(name), .unsupported) }
  }
}
