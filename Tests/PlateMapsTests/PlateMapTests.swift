import ConfoundImaging
import Foundation
#if canImport(FoundationXML)
  import FoundationXML
#endif
import TestSupport
import XCTest

import FocusMeasures
@testable import PlateMaps

/// Pixel layout and SVG structure of plate maps.
final class PlateMapTests: XCTestCase {
  /// The colour of pixel (x, y) of a rendered raster.
  func pixel(_ image: Image, _ p: (x: Int, y: Int)) -> RGB {
    let n = image.width * image.height
    let i = p.y * image.width + p.x
    return RGB(UInt8(image.pixels[i]), UInt8(image.pixels[n + i]), UInt8(image.pixels[2 * n + i]))
  }

  /// A 96-well plate whose value falls with row-major well index: A01 highest, H12 lowest; `missing` left out.
  func gradientPlate(sites: Int = 1, missing: Set<String> = []) throws -> PlateMapPanel {
    var values: [String: [Double?]] = [:]
    for r in 0..<8 {
      for c in 0..<12 where !missing.contains(PlateMapPanel.wellName(row: r, column: c)) {
        let value = Double(95 - (r * 12 + c))
        values[PlateMapPanel.wellName(row: r, column: c)] = (0..<sites).map { value + 0.1 * Double($0) }
      }
    }
    return try PlateMapPanel(plate: "P1", batch: "B7", values: values)
  }

  func testCornersCarryTheExtremeColoursAndMissingWellIsHatched() throws {
    let map = try PlateMap.render(plates: [try gradientPlate(missing: ["D05"])], measure: "FocusScore", unit: "a.u.")
    XCTAssertEqual(map.range, 0...95)
    let a01 = map.layout.well(panel: 0, row: 0, column: 0)
    let h12 = map.layout.well(panel: 0, row: 7, column: 11)
    XCTAssertLessThan(a01.x, h12.x)
    XCTAssertLessThan(a01.y, h12.y)
    XCTAssertEqual(pixel(map.png, a01.centre), Viridis.colour(1))
    XCTAssertEqual(pixel(map.png, h12.centre), Viridis.colour(0))
    XCTAssertEqual(Viridis.colour(1), RGB(0xfd, 0xe7, 0x25))
    XCTAssertEqual(Viridis.colour(0), RGB(0x44, 0x01, 0x54))
    let d05 = map.layout.well(panel: 0, row: 3, column: 4)
    var seen = Set<RGB>()
    for y in d05.y..<(d05.y + d05.height) {
      for x in d05.x..<(d05.x + d05.width) { seen.insert(pixel(map.png, (x, y))) }
    }
    XCTAssertEqual(seen, [PlateMap.missing, PlateMap.missingHatch])
    // Value 95 - index: B01 (index 12, value 83) is 83/95 of the way up the colour scale.
    XCTAssertEqual(pixel(map.png, map.layout.well(panel: 0, row: 1, column: 0).centre), Viridis.colour(83.0 / 95))
    // The colour bar: top is the maximum colour, bottom the minimum.
    let bar = map.layout.colourBar
    XCTAssertEqual(pixel(map.png, (bar.centre.x, bar.y)), Viridis.colour(1))
    XCTAssertEqual(pixel(map.png, (bar.centre.x, bar.y + bar.height - 1)), Viridis.colour(0))
  }

  func testSitesAreOrderedSubCellsRowMajor() throws {
    let map = try PlateMap.render(plates: [try gradientPlate(sites: 4)], measure: "m", unit: "u", range: 0...100)
    XCTAssertEqual(map.layout.siteColumns, 2)
    XCTAssertEqual(map.layout.siteRows, 2)
    let well = map.layout.well(panel: 0, row: 0, column: 0)
    let rects = (0..<4).map { map.layout.site($0, in: well) }
    XCTAssertLessThan(rects[0].x, rects[1].x)
    XCTAssertEqual(rects[0].y, rects[1].y)
    XCTAssertEqual(rects[2].x, rects[0].x)
    XCTAssertLessThan(rects[1].y, rects[2].y)
    for (s, rect) in rects.enumerated() {
      XCTAssertEqual(pixel(map.png, rect.centre), Viridis.colour((95 + 0.1 * Double(s)) / 100), "site \(s + 1)")
      XCTAssertTrue(rect.x >= well.x && rect.x + rect.width <= well.x + well.width + 1)
    }
  }

  func test384WellLayoutAndNamesRoundTrip() throws {
    let panel = try PlateMapPanel(plate: "Q", wells: 384, values: ["A01": [1], "P24": [0], "a2": [0.5]])
    let map = try PlateMap.render(plates: [panel, try gradientPlate()], measure: "m", unit: "u")
    let p24 = map.layout.well(panel: 0, row: 15, column: 23)
    XCTAssertEqual(pixel(map.png, map.layout.well(panel: 0, row: 0, column: 0).centre), Viridis.colour(1 / 95))
    XCTAssertEqual(pixel(map.png, p24.centre), Viridis.colour(0))
    XCTAssertEqual(pixel(map.png, map.layout.well(panel: 0, row: 0, column: 1).centre), Viridis.colour(0.5 / 95))
    XCTAssertLessThan(p24.x + p24.width, map.layout.origins[1].x, "second panel right of the first")
    XCTAssertEqual(map.layout.origins[0].y, map.layout.origins[1].y)
    XCTAssertEqual(PlateMapPanel.position(of: "P24")?.row, 15)
    XCTAssertEqual(PlateMapPanel.wellName(row: 15, column: 23), "P24")
    XCTAssertThrowsError(try PlateMapPanel(plate: "x", values: ["I01": [1]]))
  }

  func testSVGIsWellFormedAndListsItsTexts() throws {
    let map = try PlateMap.render(plates: [try gradientPlate(sites: 2, missing: ["H01"])], measure: "Focus & <x>",
                                  unit: "a.u.")
    let parser = XMLParser(data: Data(map.svg.utf8))
    XCTAssertTrue(parser.parse(), "SVG not well-formed: \(String(describing: parser.parserError))")
    XCTAssertTrue(map.svg.contains("<title>Focus &amp; &lt;x&gt; (a.u.), 1 plate</title>"), map.svg.prefix(300).description)
    XCTAssertTrue(map.svg.contains("Plate P1 · batch B7"))
    XCTAssertTrue(map.svg.contains("width=\"\(map.layout.width)px\""), "SVG in pixels, the PNG's size")
    let texts = map.textBoxes.map(\.text)
    XCTAssertEqual(texts.filter { Int($0) != nil && Int($0)! <= 12 }.count >= 12, true, "column numbers")
    XCTAssertTrue(texts.contains("a.u."), "the colour bar names its unit")
    XCTAssertTrue(texts.contains("missing"))
    let pdf = try map.figure.pdf()
    XCTAssertEqual(String(decoding: pdf.prefix(5), as: UTF8.self), "%PDF-")
  }

  /// The PNG bytes Cairo writes decode (with our reader) to the raster the figure drew.
  func testPNGDecodesToTheDrawnRaster() throws {
    let map = try PlateMap.render(plates: [try gradientPlate(missing: ["A02"])], measure: "m", unit: "u")
    let dir = try TemporaryDirectory()
    let file = dir.url.appendingPathComponent("map.png")
    try map.pngData.write(to: file)
    let decoded = try readPNG(file)
    XCTAssertEqual(decoded.width, map.layout.width)
    XCTAssertEqual(decoded.height, map.layout.height)
    XCTAssertEqual(decoded.channels, 3)
    XCTAssertEqual(decoded.pixels, map.png.pixels)
    XCTAssertEqual(pixel(decoded, map.layout.well(panel: 0, row: 7, column: 11).centre), Viridis.colour(0))
  }

  /// Signed values on the diverging map: 0 at its grey centre, the ends blue and red.
  func testSignedMapIsCentredOnZero() throws {
    let panel = try PlateMapPanel(plate: "S", values: ["A01": [-2], "A02": [0], "A03": [1]])
    let map = try PlateMap.render(plates: [panel], measure: "log2 ratio", unit: "log2", signed: true)
    XCTAssertEqual(map.range, -2...2)
    XCTAssertEqual(pixel(map.png, map.layout.well(panel: 0, row: 0, column: 1).centre), RGB(0xdd, 0xdd, 0xdd))
    XCTAssertEqual(pixel(map.png, map.layout.well(panel: 0, row: 0, column: 0).centre), RGB(0x3b, 0x4c, 0xc0))
    XCTAssertEqual(pixel(map.png, map.layout.well(panel: 0, row: 0, column: 2).centre), Diverging.colour(0.75))
  }
}

/// The real BBBC013 plate: FocusScore of each well's DNA image drawn in place, A01 top left and H12 bottom right.
final class PlateMapBBBC013Tests: XCTestCase {
  func testBBBC013FocusMapPutsEachWellInItsPlace() throws {
    let folder: URL
    do { folder = try SharedData.require("data/bbbc013-sbs-plate") } catch let s as SkipReason {
      throw XCTSkip(s.description)
    }
    var values: [String: [Double?]] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasPrefix("Channel2-") {
      // Channel2-<index>-<Row>-<Col>.tif
      let parts = name.dropLast(4).split(separator: "-")
      let well = String(parts[2]) + (parts[3].count == 1 ? "0" : "") + parts[3]
      let image = try readImage(folder.appendingPathComponent(name))
      let plane = try FocusPlane(pixels: image.plane(0).map { $0 / 255 }, width: image.width, height: image.height)
      values[well] = [ImageQuality.focusScore(plane)]
    }
    XCTAssertEqual(values.count, 96)
    let panel = try PlateMapPanel(plate: "BBBC013", batch: "SBS", values: values)
    let map = try PlateMap.render(plates: [panel], measure: "ImageQuality_FocusScore", unit: "var/mean")
    let span = map.range.upperBound - map.range.lowerBound
    func expected(_ well: String) -> RGB { Viridis.colour((values[well]![0]! - map.range.lowerBound) / span) }
    let image = map.png
    func pixel(_ p: (x: Int, y: Int)) -> RGB {
      let n = image.width * image.height
      let i = p.y * image.width + p.x
      return RGB(UInt8(image.pixels[i]), UInt8(image.pixels[n + i]), UInt8(image.pixels[2 * n + i]))
    }
    XCTAssertEqual(pixel(map.layout.well(panel: 0, row: 0, column: 0).centre), expected("A01"))
    XCTAssertEqual(pixel(map.layout.well(panel: 0, row: 7, column: 11).centre), expected("H12"))
    XCTAssertEqual(pixel(map.layout.well(panel: 0, row: 2, column: 5).centre), expected("C06"))
    let out = try TemporaryDirectory()
    try writePNG(image, to: out.url.appendingPathComponent("bbbc013.png"))
    XCTAssertGreaterThan(try Data(contentsOf: out.url.appendingPathComponent("bbbc013.png")).count, 1000)
  }
}
