import ConfoundImaging
import Foundation
import TestSupport
import XCTest

@testable import PlateMaps

/// No two texts of a figure share pixels, on crowded real-size figures (many plates, long labels, many
/// categories), checked from the layout the drawing code records; and every text stays on the page.
final class FigureLayoutTests: XCTestCase {
  func assertClean(_ figure: some Figure, file: StaticString = #filePath, line: UInt = #line) throws {
    let boxes = try figure.textBoxes()
    XCTAssertFalse(boxes.isEmpty, file: file, line: line)
    let clashes = overlappingTexts(boxes)
    XCTAssertTrue(clashes.isEmpty, "\(figure.caption): \(clashes.prefix(3).map { "'\($0.0.text)' meets '\($0.1.text)'" })",
                  file: file, line: line)
    for box in boxes where !box.text.isEmpty {
      XCTAssertTrue(box.rect.x >= 0 && box.rect.y >= 0 && box.rect.maxX <= Double(figure.width) + 0.5
                      && box.rect.maxY <= Double(figure.height) + 0.5,
                    "\(figure.caption): '\(box.text)' at \(box.rect) leaves the \(figure.width) x \(figure.height) page",
                    file: file, line: line)
    }
    // The raster records the same layout as the vector drawing.
    XCTAssertEqual(try figure.raster().textBoxes, boxes, file: file, line: line)
  }

  /// The check itself finds a clash when there is one.
  func testOverlapCheckFindsTouchingTexts() {
    let a = TextBox(text: "Plate A", rect: Rect(x: 0, y: 0, width: 50, height: 14))
    let b = TextBox(text: "unit", rect: Rect(x: 49, y: 13, width: 20, height: 14))
    let c = TextBox(text: "far", rect: Rect(x: 50, y: 0, width: 20, height: 14))
    XCTAssertEqual(overlappingTexts([a, b, c]).map { [$0.0.text, $0.1.text] }, [["Plate A", "unit"], ["unit", "far"]])
  }

  /// Ten 384-well plates with long plate and batch names, a long measure and unit.
  func testTenPlatesWithLongNames() throws {
    var random = SystemRandomNumberGenerator()
    let plates = try (1...10).map { k in
      try PlateMapPanel(plate: "BR00117010-screen-replicate-\(k)-long-barcode", batch: "2020_11_04_CPJUMP1_batch_\(k)_of_the_compound_screen_at_the_broad",
                        wells: 384, values: Dictionary(uniqueKeysWithValues: (0..<384).map { i in
                          (PlateMapPanel.wellName(row: i / 24, column: i % 24),
                           (0..<4).map { _ in Optional(Double.random(in: 0...1000, using: &random)) })
                        }))
    }
    let map = try PlateMap.render(plates: plates, measure: "ImageQuality_TenengradNormalized_OrigDNA_and_more",
                                  unit: "Tenengrad / mean intensity squared, per site")
    try assertClean(map.figure)
    // Titles are cut to their slot, never past it.
    for (p, box) in map.textBoxes.filter({ $0.text.hasPrefix("Plate ") }).enumerated() {
      XCTAssertLessThanOrEqual(box.rect.maxX, Double(map.layout.slots[p].x + map.layout.slots[p].width) + 0.5)
      XCTAssertTrue(box.text.hasSuffix("…"), box.text)
    }
    XCTAssertEqual(map.textBoxes.filter { $0.text.hasPrefix("Plate ") }.count, 10)
  }

  /// A 1536-well plate: column numbers thinned so neighbours never meet.
  func test1536Wells() throws {
    let panel = try PlateMapPanel(plate: "P", wells: 1536, values: ["A01": [1], "AF48": [2]])
    let map = try PlateMap.render(plates: [panel, panel], measure: "Count_Nuclei", unit: "nuclei per site")
    XCTAssertEqual(map.textBoxes.filter { $0.text == "48" }.count, map.layout.everyColumnNumber ? 2 : 0)
    try assertClean(map.figure)
  }

  func testScatterWithManyLongCategories() throws {
    let n = 300
    let x = (0..<n).map { sin(Double($0)) * 1000 }
    let y = (0..<n).map { cos(Double($0) * 1.3) * 0.002 }
    let long = (0..<n).map { "compound-\($0 % 25)-with-a-very-long-broad-institute-identifier-BRD-K\($0 % 25)" }
    let plot = try ScatterPlot(
      x: x, y: y,
      panels: [.init(covariate: "compound (Metadata_broad_sample, a long covariate name)", colouring: .categorical(long)),
               .init(covariate: "Count_Nuclei", colouring: .numeric(x.map { $0 * 1e4 })),
               .init(covariate: "batch", colouring: .categorical((0..<n).map { "batch \($0 % 3)" })),
               .init(covariate: "row", colouring: .categorical((0..<n).map { String($0 % 16) }))],
      xLabel: "t-SNE 1 (perplexity 30, seed 1, standardised hand features)", yLabel: "t-SNE 2 (a long axis name too)",
      title: "t-SNE of 300 wells, hand features, well means, coloured by every covariate of the screen")
    try assertClean(plot)
  }

  /// The design on ten 384-well plates with long names, 30 cell lines (a legend cut to "+N more"), three layers.
  func testDesignMapOfTenPlatesWithManyLevels() throws {
    let plates = (1...10).map { k in
      DesignPlateMap.Plate(
        name: "BR00117010-screen-replicate-\(k)-long-barcode", batch: "2020_11_04_CPJUMP1_batch_\(k)_of_the_screen",
        rows: 16, columns: 24, wells: Dictionary(uniqueKeysWithValues: (0..<380).map { i in
          (PlateMapPanel.wellName(row: i / 24, column: i % 24),
           ["Metadata_disease_status_of_the_donor": i % 2 == 0 ? "healthy donor" : "disease donor (familial)",
            "cell_line": "cell line \(i % 30) from the long-named consortium biobank",
            "role": i % 11 == 5 ? "control" : ""])
        }))
    }
    let map = try DesignPlateMap(
      title: "The design on the plates of a screen with a long name", plates: plates,
      layers: [.init(key: "Metadata_disease_status_of_the_donor",
                     title: "Metadata_disease_status_of_the_donor (target)"),
               .init(key: "cell_line", title: "cell_line (unit)"),
               .init(key: "role", title: "controls (role=control)")],
      palette: CategoryPalette())
    try assertClean(map)
    let boxes = try map.textBoxes()
    XCTAssertTrue(boxes.contains { $0.text == "+16 more" }, "30 lines, 14 shown")
    XCTAssertTrue(boxes.contains { $0.text == "no value" }, "the role layer has wells without one")
    XCTAssertEqual(boxes.filter { $0.text.hasPrefix("Plate ") }.count, 30, "every plate in every layer")
    // Short level names: the legend's "+N more" line still fits on the page.
    let short = DesignPlateMap.Plate(name: "P1", batch: nil, rows: 8, columns: 12, wells: Dictionary(
      uniqueKeysWithValues: (0..<96).map {
        (PlateMapPanel.wellName(row: $0 / 12, column: $0 % 12), ["line": "L\($0 % 30)"])
      }))
    let small = try DesignPlateMap(title: "d", plates: [short], layers: [.init(key: "line", title: "line")],
                                   palette: CategoryPalette())
    try assertClean(small)
    XCTAssertTrue(try small.textBoxes().contains { $0.text == "+16 more" })
  }

  /// Partial dependence of five features with long names and ICE curves, values of very different magnitudes.
  func testPartialDependenceWithLongFeatureNames() throws {
    let panels = (0..<5).map { k in
      let grid = (0..<30).map { Double($0) * pow(10, Double(k - 2)) * 1234.5 }
      let average = grid.indices.map { 0.2 + 0.02 * Double($0) }
      return PartialDependencePlot.Panel(
        feature: "Intensity_IntegratedIntensityEdge_OrigDNA_channel_\(k)_long",
        xLabel: "the feature, well mean (as measured)",
        grid: grid, average: average, individual: (0..<12).map { j in average.map { $0 + Double(j - 6) / 60 } })
    }
    try assertClean(try PartialDependencePlot(title: "Partial dependence of the probability that disease = healthy",
                                              panels: panels, yLabel: "probability that disease = healthy"))
    XCTAssertThrowsError(try PartialDependencePlot(title: "t", panels: [.init(feature: "f", xLabel: "x", grid: [1, 2],
                                                                                average: [0.5])], yLabel: "y"))
  }

  func testDotLineAndImageFiguresWithLongLabels() throws {
    var rows: [DotPlot.Row] = []
    for k in 0..<12 {
      let shift = Double(k) / 30
      let points: [Double] = (0..<4).map { 0.5 + Double($0 + k) / 40 }
      let labs: [String] = (0..<4).map { "source lab \($0) of the consortium with a long name" }
      rows.append(DotPlot.Row(label: "feature set \(k): CNN embeddings of the cells (EfficientNet-Lite0, random weights)",
                              estimate: 0.5 + shift, low: 0.45 + shift, high: 0.6 + shift, baseline: 0.5,
                              baselineLow: 0.4, baselineHigh: 0.6, points: points, pointCategories: labs))
    }
    try assertClean(DotPlot(title: "ROC AUC per fold for each feature set", rows: rows, axisLabel: "ROC AUC",
                            reference: 0.5, categoryName: "held-out source"))
    var series: [LinePlot.Series] = []
    for k in 0..<6 {
      let x: [Double] = (0..<20).map(Double.init)
      let y: [Double] = x.map { $0 * Double(k) * 1e4 }
      series.append(LinePlot.Series(name: "Intensity_MeanIntensity_channel_\(k)_long_name", x: x, y: y,
                                    low: y.map { $0 - 5 }, high: y.map { $0 + 5 }))
    }
    try assertClean(try LinePlot(title: "Partial dependence of the disease score", series: series,
                                 xLabel: "feature value (standardised)", yLabel: "predicted probability of disease"))
    var tiles: [ImageGrid.Tile] = []
    for k in 0..<9 {
      let grey: [Float] = (0..<(32 * 24)).map { Float($0 % 32) / 31 }
      let overlay: [Float] = (0..<(32 * 24)).map { Float($0) }
      tiles.append(ImageGrid.Tile(caption: "SIM-P01 / B07 / site \(k) (worst focus, score 0.0\(k))", width: 32,
                                  height: 24, grey: grey, overlay: overlay))
    }
    try assertClean(try ImageGrid(title: "Saliency over the worst-focus sites", tiles: tiles, columns: 4, tileSize: 120,
                                  overlayName: "saliency (|gradient|)"))
  }
}

/// Pixels of the figures where the values are known.
final class FigurePixelTests: XCTestCase {
  func pixel(_ image: Image, _ x: Double, _ y: Double) -> RGB {
    let n = image.width * image.height
    let i = Int(y) * image.width + Int(x)
    return RGB(UInt8(image.pixels[i]), UInt8(image.pixels[n + i]), UInt8(image.pixels[2 * n + i]))
  }

  /// The estimate dot sits at its value on the axis; a fold's dot carries its category's colour.
  func testDotPlotPutsEstimatesAndFoldsWhereTheirValuesAre() throws {
    let palette = CategoryPalette(covariates: [("lab", ["lab A", "lab B"])])
    let plot = DotPlot(title: "t", rows: [DotPlot.Row(label: "density", estimate: 0.8),
                                         DotPlot.Row(label: "focus", points: [0.3], pointCategories: ["lab B"])],
                       axisLabel: "ROC AUC", categoryName: "lab", palette: palette, domain: 0...1)
    let image = try plot.raster().image
    let a = plot.area
    XCTAssertEqual(pixel(image, a.x + 0.8 * a.width, a.y + 0.5 * DotPlot.rowHeight), FigureStyle.ink)
    XCTAssertEqual(pixel(image, a.x + 0.3 * a.width, a.y + 1.5 * DotPlot.rowHeight - 5), CategoryPalette.colours[1])
    XCTAssertNotEqual(pixel(image, a.x + 0.5 * a.width, a.y + 0.5 * DotPlot.rowHeight), FigureStyle.ink)
  }

  /// One palette, one colour per category in every figure; unknown names hash to the same colour every time.
  func testCategoryColoursAreStableAcrossFigures() throws {
    let palette = CategoryPalette(covariates: [("batch", ["B2", "B10", "B1", "NA"]), ("plate", ["P1", "P2"])])
    XCTAssertEqual(palette.colour("B1", covariate: "batch"), CategoryPalette.colours[0])
    XCTAssertEqual(palette.colour("B10", covariate: "batch"), CategoryPalette.colours[1], "B1 < B10 < B2 by characters")
    XCTAssertEqual(palette.colour("NA", covariate: "batch"), CategoryPalette.missing)
    XCTAssertEqual(palette.colour("P2", covariate: "plate"), CategoryPalette.colours[1], "each covariate on its own")
    XCTAssertEqual(palette.colour("unseen"), CategoryPalette().colour("unseen"), "a hash of the name")
    let panel = ScatterPlot.Panel(covariate: "batch", colouring: .categorical(["B2", "B2", "B2"]))
    let resolved = ScatterPlot.resolve(panel, palette: palette)
    XCTAssertEqual(resolved.colours[0], CategoryPalette.colours[2])
    // Without the report's palette, a lone B2 would take the first colour: the palette is what keeps it.
    XCTAssertEqual(ScatterPlot.resolve(panel, palette: nil).colours[0], CategoryPalette.colours[0])
    let dots = DotPlot(title: "t", rows: [DotPlot.Row(label: "r", points: [0.5], pointCategories: ["B2"])],
                       axisLabel: "x", categoryName: "batch", palette: palette)
    XCTAssertEqual(dots.palette.colour("B2", covariate: "batch"), CategoryPalette.colours[2])
    // Levels the palette was not given join their covariate on its unused colours.
    XCTAssertEqual(palette.adding(covariate: "plate", levels: ["P3"]).colour("P3", covariate: "plate"),
                   CategoryPalette.colours[2])
  }

  /// An overlay at its maximum over a black crop is viridis' yellow at half strength.
  func testOverlayBlendsViridisOverTheCrop() throws {
    let tile = ImageGrid.Tile(caption: "c", width: 4, height: 4, grey: [Float](repeating: 0, count: 16),
                              overlay: (0..<16).map { $0 == 15 ? 1 : 0 })
    let grid = try ImageGrid(title: "t", tiles: [tile], tileSize: 80, overlayName: "saliency")
    let image = try grid.raster().image
    let r = grid.tileRect(0)
    let top = pixel(image, r.maxX - 5, r.maxY - 5)
    let yellow = Viridis.colour(1)
    for (got, want) in [(top.r, yellow.r), (top.g, yellow.g), (top.b, yellow.b)] {
      XCTAssertEqual(Double(got), Double(want) * 0.5, accuracy: 1.5)
    }
    let low = pixel(image, r.x + 5, r.y + 5)
    XCTAssertEqual(Double(low.r), Double(Viridis.colour(0).r) * 0.5, accuracy: 1.5)
  }

  /// The partial-dependence panel draws its average curve through its points, over its individual curves.
  func testPartialDependencePassesThroughItsAverage() throws {
    let plot = try PartialDependencePlot(
      title: "t", panels: [.init(feature: "f", xLabel: "x", grid: [0, 1], average: [0, 1], individual: [[1, 0]])],
      yLabel: "p")
    let image = try plot.raster().image
    let a = plot.area(0)
    // Domains are padded by 2% (x) and 6% (y): the average's midpoint (0.5, 0.5) is at the area's centre, where it
    // crosses the individual curve, and is drawn over it.
    func near(_ x: Double, _ y: Double, _ want: RGB) -> Bool {
      for dx in -1...1 {
        for dy in -1...1 {
          let p: RGB = pixel(image, x + Double(dx), y + Double(dy))
          let d: Int = abs(Int(p.r) - Int(want.r)) + abs(Int(p.g) - Int(want.g)) + abs(Int(p.b) - Int(want.b))
          if d < 12 { return true }
        }
      }
      return false
    }
    XCTAssertTrue(near(a.x + a.width / 2, a.y + a.height / 2, PartialDependencePlot.averageColour))
    // The individual curve at x = 0.25 is at y = 0.75.
    let (fx, fy) = ((0.25 + 0.02) / 1.04, 1 - (0.75 + 0.06) / 1.12)
    XCTAssertFalse(near(a.x + a.width * fx, a.y + a.height * fy, PartialDependencePlot.averageColour))
    func darkest(_ x: Double, _ y: Double) -> Int {
      var least = Int.max
      for dx in -1...1 {
        for dy in -1...1 {
          let p: RGB = pixel(image, x + Double(dx), y + Double(dy))
          least = min(least, Int(p.r) + Int(p.g) + Int(p.b))
        }
      }
      return least
    }
    XCTAssertLessThan(darkest(a.x + a.width * fx, a.y + a.height * fy), 3 * 225, "the individual curve is there")
    XCTAssertEqual(darkest(a.x + a.width * fx, a.y + a.height * (1 - 0.46 / 1.12)), 3 * 255, "nothing at y = 0.4")
  }

  /// Partial dependence: the curve passes through its points (a straight line from (0,0) to (1,1)).
  func testLinePlotDrawsThroughItsPoints() throws {
    let plot = try LinePlot(title: "t", series: [.init(name: "s", x: [0, 1], y: [0, 1])], xLabel: "x", yLabel: "y")
    let image = try plot.raster().image
    let a = plot.area
    // Domains are padded by 2% (x) and 6% (y): the midpoint (0.5, 0.5) is at the area's centre.
    let want = CategoryPalette.colours[0]
    let near = (-1...1).flatMap { dx in (-1...1).map { dy in pixel(image, a.x + a.width / 2 + Double(dx),
                                                                 a.y + a.height / 2 + Double(dy)) } }
    XCTAssertTrue(near.contains { abs(Int($0.r) - Int(want.r)) + abs(Int($0.g) - Int(want.g))
                    + abs(Int($0.b) - Int(want.b)) < 12 }, "\(near)")
    let far = pixel(image, a.x + a.width * 0.2, a.y + a.height * 0.2)
    XCTAssertGreaterThan(abs(Int(far.r) - Int(want.r)) + abs(Int(far.g) - Int(want.g)) + abs(Int(far.b) - Int(want.b)),
                         100, "nothing drawn far above the line")
  }
}
