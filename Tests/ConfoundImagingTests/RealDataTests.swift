import ConfoundImaging
import Foundation
import TestSupport
import XCTest

/// The shared data sets decode to exactly what tifffile (TIFF) and PIL (PNG) return for the same files.
final class RealDataTests: XCTestCase {
  /// Reads `urls` with `readImage` and compares them with the reference readers, `batch` files per Python call.
  private func assertAllMatch(_ urls: [URL], batch: Int = 24, check: (Image, URL) -> Void = { _, _ in }) throws {
    let scratch = try TemporaryDirectory(prefix: "imaging-real")
    for start in stride(from: 0, to: urls.count, by: batch) {
      let chunk = Array(urls[start..<min(start + batch, urls.count)])
      let references = try referenceImages(chunk, scratch: scratch)
      for (url, reference) in zip(chunk, references) {
        let image = try readImage(url)
        assertMatches(image, reference, url.lastPathComponent)
        check(image, url)
      }
    }
  }

  func testBBBC013PlateAll192PaletteFilesMatchTifffile() throws {
    let plate = try files(in: try sharedData("bbbc013-sbs-plate"), suffix: ".tif")
    XCTAssertEqual(plate.count, 192)
    try assertAllMatch(plate) { image, url in
      XCTAssertEqual([image.channels, image.height, image.width], [1, 640, 640], url.lastPathComponent)
      XCTAssertEqual(image.nominalRange, 0...255)
      XCTAssertEqual(image.bitsPerSample, 8)
    }
  }

  func testBBBC006TIFFsAndPNGsMatchReferenceReaders() throws {
    let folder = try sharedData("bbbc006-focus")
    let images = try files(in: folder, suffix: ".tif") + files(in: folder, suffix: ".png")
    XCTAssertGreaterThan(images.count, 12)
    try assertAllMatch(images) { image, url in
      XCTAssertEqual(image.bitsPerSample, 16, url.lastPathComponent)
      XCTAssertEqual(image.nominalRange, 0...65535)
    }
    // Most `.png` files of this set are TIFFs inside: the reader goes by content.
    let named = folder.appendingPathComponent("BBBC006_z_aligned__a01__s1__w1_10.png")
    XCTAssertEqual(try ImageFileFormat.of(path: named.path), .tiff)
    let real = folder.appendingPathComponent("BBBC006_z_aligned__a01__s1__w1_10_cropped.png")
    XCTAssertEqual(try ImageFileFormat.of(path: real.path), .png)
  }

  func testDefocusStackBigEndianTIFFsMatchTifffile() throws {
    let stack = try files(in: try sharedData("dfnn-defocus-stack"), suffix: ".tif")
    XCTAssertFalse(stack.isEmpty)
    try assertAllMatch(stack) { image, url in
      XCTAssertEqual([image.height, image.width], [800, 512], url.lastPathComponent)
    }
  }

  func testStardistImageAndMaskMatchTifffile() throws {
    let folder = try sharedData("stardist-img2d")
    let urls = ["img2d.tif", "mask2d.tif"].map(folder.appendingPathComponent)
    try assertAllMatch(urls)
    let mask = try readTIFF(urls[1])
    XCTAssertEqual(Set(mask.pixels).count, 126, "125 nuclei and background")
  }

  func testDSB2018ColourPNGsMatchPIL() throws {
    let root = try sharedData("dsb2018-stage1-test/stage1_test")
    let cases = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted().prefix(20)
    let urls = cases.map { root.appendingPathComponent("\($0)/images/\($0).png") }
    var channelCounts = Set<Int>()
    try assertAllMatch(urls) { image, _ in channelCounts.insert(image.channels) }
    XCTAssertTrue(channelCounts.isSubset(of: [3, 4]) && !channelCounts.isEmpty, "\(channelCounts)")
  }
}
