import ConfoundImaging
import Foundation
import Statistics
import TestSupport
import XCTest

/// A bounded, seeded fuzz run of the TIFF, PNG and NPY readers on mutated copies of small valid files (fixed seed,
/// fixed count, a few seconds): each read returns an image or throws an `ImageError` naming the file, never
/// crashes, prints nothing, and never decodes past the size limit. The longer run is Tests/fuzz/README.md.
final class ReaderFuzzTests: XCTestCase {

  func testMutatedImagesAreReadOrRefusedNeverCrash() throws {
    let dir = try TemporaryDirectory(prefix: "reader-fuzz")
    let image = Image(channels: 2, height: 12, width: 10, pixels: (0..<240).map { Float($0 % 200) })
    try writeTIFF(image, to: dir.file("seed.tif"))
    try writePNG(image.channel(0), to: dir.file("seed.png"))
    try NPYArray(shape: [2, 12, 10], values: image.pixels).write(to: dir.file("seed.npy"))
    // A small limit, so a mutated size field is refused rather than allocated: the fuzz run stays fast.
    ImageLimits.maxDecodedSamples = 1 << 20
    defer { ImageLimits.maxDecodedSamples = ImageLimits.defaultMaxDecodedSamples }
    var rng = SeededGenerator(seed: 2026)
    var outcomes: [String: Int] = [:]
    let printed = captureOutput {
      for name in ["seed.tif", "seed.png", "seed.npy"] {
        let seed = [UInt8]((try? Data(contentsOf: dir.file(name))) ?? Data())
        for round in 0..<300 {
          var bytes = seed
          for _ in 0..<Int.random(in: 1...8, using: &rng) {
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes[at] ^= 0xFF
            default: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...32, using: &rng)))
            }
            if bytes.isEmpty { bytes = [0] }
          }
          let url = dir.file("m\(round)-\(name)")
          try? Data(bytes).write(to: url)
          do {
            if name.hasSuffix("npy") { _ = try NPYArray.read(url) } else { _ = try readImage(url) }
            outcomes["read", default: 0] += 1
          } catch let error as ImageError {
            XCTAssertEqual(error.path, url.path)
            outcomes["\(error.kind)", default: 0] += 1
          } catch {
            XCTFail("\(url.lastPathComponent): not an ImageError: \(error)")
          }
          try? FileManager.default.removeItem(at: url)
        }
      }
    }
    XCTAssertEqual(printed, "", "a reader printed")
    XCTAssertEqual(outcomes.values.reduce(0, +), 900)
    XCTAssertGreaterThan(outcomes["read", default: 0], 0, "\(outcomes)")
    XCTAssertGreaterThan(outcomes["corrupt", default: 0] + outcomes["unknownFormat", default: 0], 0, "\(outcomes)")
  }
}
