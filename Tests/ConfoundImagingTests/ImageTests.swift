import ConfoundImaging
import XCTest

/// The value type's layout, views and normalisation, against closed forms.
final class ImageTests: XCTestCase {
  private let image = Image(
    channels: 2, height: 2, width: 3, pixels: [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 255], bitsPerSample: 8,
    sampleFormat: .unsignedInteger)

  func testPlanesAreContiguousRowMajorViewsWithoutCopies() {
    XCTAssertEqual(Array(image.plane(1)), [10, 11, 12, 13, 14, 255])
    XCTAssertEqual(image.plane(1).startIndex, 6, "a slice of pixels, not a copy")
    XCTAssertEqual(image.withPlane(0) { Array($0) }, [0, 1, 2, 3, 4, 5])
    image.pixels.withUnsafeBufferPointer { all in
      image.withPlane(1) { plane in XCTAssertEqual(plane.baseAddress, all.baseAddress! + 6) }
    }
    XCTAssertEqual(image.channel(1).pixels, [10, 11, 12, 13, 14, 255])
    XCTAssertEqual(image.channel(1).nominalRange, 0...255)
    XCTAssertEqual(image.planeCount, 6)
  }

  func testNominalRangesFollowTheStorageType() {
    XCTAssertEqual(image.nominalRange, 0...255)
    XCTAssertEqual(Image.nominalRange(of: .unsignedInteger, bits: 16, data: []), 0...65535)
    XCTAssertEqual(
      Image.nominalRange(of: .unsignedInteger, bits: 32, data: []).upperBound, 4_294_967_296, "2^32 - 1 in float32")
    XCTAssertEqual(Image.nominalRange(of: .signedInteger, bits: 16, data: []), -32768...32767)
    XCTAssertEqual(Image.nominalRange(of: .floatingPoint, bits: 32, data: [3, .nan, -2, .infinity]), -2...3)
    XCTAssertEqual(Image.nominalRange(of: .floatingPoint, bits: 32, data: []), 0...0)
  }

  func testNormalisedMapsTheNominalRangeOntoZeroOne() {
    let unit = image.normalised()
    XCTAssertEqual(unit.pixels, image.pixels.map { $0 / 255 })
    XCTAssertEqual(unit.nominalRange, 0...1)
    XCTAssertEqual(unit.sampleFormat, .floatingPoint)
    let signed = Image(
      channels: 1, height: 1, width: 3, pixels: [-32768, 0, 32767], bitsPerSample: 16, sampleFormat: .signedInteger)
    XCTAssertEqual(signed.normalised().pixels, [0, 32768 / 65535, 1])
    let constant = Image(channels: 1, height: 1, width: 2, pixels: [7, 7])
    XCTAssertEqual(constant.nominalRange, 7...7)
    XCTAssertEqual(constant.normalised().pixels, [0, 0])
  }
}
