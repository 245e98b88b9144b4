import ConfoundImaging
import Foundation
import TestSupport
import XCTest

@testable import PlateMaps

extension FigureLayoutTests {
  /// Six crops of two classes with long unit, site and channel names: no two texts meet, every text on the page.
  func testSaliencyOverlaysWithLongNames() throws {
    let crops = (0..<6).map { (k: Int) -> SaliencyOverlayPlot.Crop in
      let channels: [[Float]] = (0..<4).map { (c: Int) in (0..<1024).map { (i: Int) in Float((i * (c + 1)) % 97) } }
      let map: [Float] = (0..<1024).map { (i: Int) in Float(i % 32) * Float(k + 1) / 10 }
      return SaliencyOverlayPlot.Crop(
        className: k % 2 == 0 ? "healthy donor" : "disease donor (familial ALS)", probability: 0.5 + Double(k) / 13,
        unit: "cell line \(k) from the long-named consortium biobank", site: "SIM-P0\(k)_A0\(k)_s1 of the long plate",
        width: 32, height: 32, channels: channels, maps: [map])
    }
    let plot = try SaliencyOverlayPlot(
      title: "What the supervised CNN looks at: GradCAM over each channel of correctly predicted held-out crops",
      channelNames: ["DNA (Hoechst 33342, nuclei)", "ER (concanavalin A)", "Mito (MitoTracker Deep Red)", "AGP"],
      crops: crops, className: "Metadata_disease_status", probabilityName: "P(Metadata_disease_status = disease)")
    try assertClean(plot)
    let boxes = try plot.textBoxes()
    XCTAssertEqual(boxes.filter { $0.text.hasPrefix("unit cell line") }.count, 6, "one unit label per row")
    XCTAssertTrue(boxes.contains { $0.text == "GradCAM (raw scale)" }, "the colour bar names its scale")
    // No text lies on a panel.
    for box in boxes where !box.text.isEmpty {
      XCTAssertFalse(plot.panels.contains { $0.rect.overlaps(box.rect) }, "'\(box.text)' lies on a panel")
    }
  }
}

/// The overlay's pixels, read back from the PNG Cairo wrote: the channel in grey, the map over it on one scale.
final class SaliencyOverlayPixelTests: XCTestCase {
  /// 8 x 8 crops of 3 channels: a ramp in each channel; crop "a" (class 1) has its map at 2 on its left half and 0
  /// on its right half, crop "b" (class 0) has 1 everywhere, crop "c" (class 1) 0 everywhere.
  func crops() -> [SaliencyOverlayPlot.Crop] {
    let ramp = { (c: Int) in (0..<64).map { Float(($0 % 8) * 10 + ($0 / 8) + c) } }
    let left = (0..<64).map { $0 % 8 < 4 ? Float(2) : 0 }
    return [
      .init(className: "1", probability: 0.9, unit: "L01", site: "P1_A01_s1", width: 8, height: 8,
            channels: (0..<3).map(ramp), maps: [left]),
      .init(className: "0", probability: 0.2, unit: "L02", site: "P1_B01_s1", width: 8, height: 8,
            channels: (0..<3).map(ramp), maps: (0..<3).map { _ in [Float](repeating: 1, count: 64) }),
      .init(className: "1", probability: 0.8, unit: "L03", site: "P1_C01_s1", width: 8, height: 8,
            channels: (0..<3).map(ramp), maps: [[Float](repeating: 0, count: 64)]),
    ]
  }

  func decodedPNG(_ figure: some Figure) throws -> Image {
    let dir = try TemporaryDirectory()
    let file = dir.url.appendingPathComponent("overlay.png")
    try figure.raster().png.write(to: file)
    return try readPNG(file)
  }

  func pixel(_ image: Image, _ x: Double, _ y: Double) -> RGB {
    let n = image.width * image.height
    let i = Int(y) * image.width + Int(x)
    return RGB(UInt8(image.pixels[i]), UInt8(image.pixels[n + i]), UInt8(image.pixels[2 * n + i]))
  }

  /// The centre of crop pixel (x, y) in a panel.
  func centre(_ r: Rect, _ x: Int, _ y: Int) -> (Double, Double) {
    (r.x + (Double(x) + 0.5) * r.width / 8, r.y + (Double(y) + 0.5) * r.height / 8)
  }

  func testPanelsAreCropsTimesChannelsGroupedByClass() throws {
    let plot = try SaliencyOverlayPlot(title: "t", channelNames: ["DNA", "ER", "Mito"], crops: crops())
    XCTAssertEqual(plot.panels.count, 3 * 3)
    XCTAssertEqual(plot.crops.map(\.unit), ["L01", "L03", "L02"], "class 1 (first seen) together, then class 0")
    XCTAssertEqual(plot.panels.map(\.crop), [0, 0, 0, 1, 1, 1, 2, 2, 2])
    for (i, a) in plot.panels.enumerated() {
      for b in plot.panels[(i + 1)...] { XCTAssertFalse(a.rect.overlaps(b.rect), "\(a) meets \(b)") }
    }
    // Every panel is drawn: its pixels are not the page's white.
    let image = try decodedPNG(plot)
    for p in plot.panels {
      let (x, y) = centre(p.rect, 6, 6)
      XCTAssertNotEqual(pixel(image, x, y), RGB(255, 255, 255), "panel \(p)")
    }
    XCTAssertEqual(plot.csv().split(separator: "\n").count, 1 + 9)
    XCTAssertEqual(plot.range, 0...2, "from 0 to the greatest raw value of every map")
  }

  func testHighSaliencyIsRedderAndTheScaleIsSharedByEveryPanel() throws {
    let plot = try SaliencyOverlayPlot(title: "t", channelNames: ["DNA", "ER", "Mito"], crops: crops())
    let image = try decodedPNG(plot)
    func redness(_ p: RGB) -> Int { Int(p.r) - Int(p.b) }
    for channel in 0..<3 {
      let a = plot.panels[channel].rect
      let (hx, hy) = centre(a, 1, 3)
      let (zx, zy) = centre(a, 6, 3)
      let high = pixel(image, hx, hy)
      let zero = pixel(image, zx, zy)
      XCTAssertGreaterThan(redness(high), redness(zero) + 60, "channel \(channel): \(high) vs \(zero)")
      // Exactly the channel's grey (stretched to its 1st-99th percentile) blended half and half with viridis.
      let grey = percentileStretch(plot.crops[0].channels[channel])
      for (x, y, v, p) in [(1, 3, 2.0, high), (6, 3, 0.0, zero)] {
        let g = Double(min(1, max(0, grey[y * 8 + x]))) * 255
        let want = Viridis.colour(v / 2)
        for (got, c) in [(p.r, want.r), (p.g, want.g), (p.b, want.b)] {
          XCTAssertEqual(Double(got), 0.5 * g + 0.5 * Double(c), accuracy: 1.5, "(\(x), \(y)) channel \(channel)")
        }
      }
    }
    // Crop "b"'s map is 1 everywhere: the middle of the shared 0...2 scale, not the top of its own.
    let b = plot.panels[6].rect
    let (bx, by) = centre(b, 1, 3)
    let g = Double(min(1, max(0, percentileStretch(plot.crops[2].channels[0])[3 * 8 + 1]))) * 255
    XCTAssertEqual(Double(pixel(image, bx, by).r), 0.5 * g + 0.5 * Double(Viridis.colour(0.5).r), accuracy: 1.5)
    XCTAssertEqual(plot.colour(1), Viridis.colour(0.5))
  }

  func testPercentilesInterpolateBetweenOrderStatistics() {
    let (lo, hi) = percentiles((0...100).map(Float.init).shuffled())
    XCTAssertEqual(lo, 1, accuracy: 1e-5)
    XCTAssertEqual(hi, 99, accuracy: 1e-5)
    // numpy.percentile([0, 10], [1, 99]) == [0.1, 9.9]
    let two = percentiles([10, 0, .nan])
    XCTAssertEqual(two.0, 0.1, accuracy: 1e-6)
    XCTAssertEqual(two.1, 9.9, accuracy: 1e-5)
    let stretched = percentileStretch([0, 10])
    XCTAssertEqual(stretched[0], -0.1 / 9.8, accuracy: 1e-6)
    XCTAssertEqual(stretched[1], 9.9 / 9.8, accuracy: 1e-6)
    XCTAssertEqual(percentileStretch([3, 3, 3]), [0, 0, 0], "a flat plane is drawn black, not divided by zero")
  }

  func testMalformedCropsAreRefusedNamingTheCrop() {
    var bad = crops()
    bad[2].maps = [[Float](repeating: 0, count: 63)]
    XCTAssertThrowsError(try SaliencyOverlayPlot(title: "t", channelNames: ["DNA", "ER", "Mito"], crops: bad)) {
      XCTAssertTrue("\($0)".contains("crop 3 (1, P1_C01_s1)"), "\($0)")
    }
    XCTAssertThrowsError(try SaliencyOverlayPlot(title: "t", channelNames: ["DNA", "ER"], crops: crops()))
  }
}
