import ConfoundCore
import ConfoundImaging
import Foundation
import PlateMaps

extension ReportSections {
  /// PCA and t-SNE panels re-drawn from `plots/wells-<method>-coordinates.csv` (and the cells' t-SNE from
  /// `plots/cells-tsne-coordinates.csv`) with the report's palette, and the batch-mixing scores of
  /// `plots/batch-mixing.json` (and `plots/cell-batch-mixing.json`).
  func projections() throws -> Section {
    var s = Section(id: "projections", title: "Projections and batch mixing")
    s.paragraphs = texts("projections")
    let plots = builder.folder.appendingPathComponent("plots")
    let projections = [
      ("wells-pca", "PCA", "wells (hand features, well means)", "the wells' mean hand features"),
      ("wells-tsne", "t-SNE", "wells (hand features, well means)", "the wells' mean hand features"),
      ("cells-tsne", "t-SNE", "cells (embeddings, one point per cell crop)", "the cells' embeddings (a seeded sample of at most 5,000 cells, stratified by plate)"),
    ]
    for (stem, name, points, what) in projections {
      let file = plots.appendingPathComponent("\(stem)-coordinates.csv")
      guard FileManager.default.fileExists(atPath: file.path) else { continue }
      let table = try CSVTable(contentsOf: file)
      guard let xi = table.column("x"), let yi = table.column("y"), !table.rows.isEmpty else { continue }
      // Identifiers of the point are not panels; a "row" column after y is the plate row, a covariate.
      let skip: Set<String> = ["row", "x", "y", "well", "site", "crop"]
      let panels = table.columns.enumerated().filter { !skip.contains($0.element) || $0.offset > yi && $0.element == "row" }
        .map { column in
          ScatterPlot.Panel(covariate: column.element, colouring: Self.colouring(table.rows.map { $0[column.offset] }))
        }
      guard !panels.isEmpty else { continue }
      let x = table.rows.map { Double($0[xi]) ?? .nan }
      let y = table.rows.map { Double($0[yi]) ?? .nan }
      let plot = try ScatterPlot(x: x, y: y, panels: panels, xLabel: "\(name) 1", yLabel: "\(name) 2",
                                 title: "\(name) of \(x.count) \(points)", palette: builder.palette)
      s.figures.append(ReportFigure(
        id: "projection-\(stem)",
        caption: "\(name) of \(what), one panel per covariate (the coordinates are in plots/\(file.lastPathComponent)).",
        figure: plot))
    }
    for (stem, caption) in [("batch-mixing", "Batch mixing of the wells' hand features"),
                            ("cell-batch-mixing", "Batch mixing of the cell embeddings")] {
      let mixing = plots.appendingPathComponent("\(stem).json")
      guard let data = try? Data(contentsOf: mixing), let json = try? JSONSerialization.jsonObject(with: data) else { continue }
      let pairs = ReportBuilder.flatten(json)
      if let verdict = pairs.first(where: { $0.0 == "verdict" })?.1 { s.paragraphs.append(verdict) }
      s.tables.append(Table(caption: "\(caption) (plots/\(stem).json)", header: ["score", "value"],
                            rows: pairs.filter { $0.0 != "verdict" }.map { [$0.0, $0.1] }))
    }
    if s.isEmpty { s.note = "No projection in this run (too few wells or hand features, or the stage did not run)." }
    return s
  }

  /// Numbers with more than 12 distinct values get a colour bar; anything else is a category.
  static func colouring(_ values: [String]) -> ScatterPlot.Colouring {
    let present = values.filter { !ScatterPlot.isMissingLabel($0) }
    if present.allSatisfy({ Double($0) != nil }), Set(present).count > 12 {
      return .numeric(values.map { Double($0) ?? .nan })
    }
    return .categorical(values)
  }

  /// Montages of the first channel of random, control and worst-focus sites, read from the screen's images.
  func samples() throws -> Section {
    var s = Section(id: "samples", title: "Sample images")
    let inputs = try builder.store.inputRecords().map(\.path)
    guard let csv = inputs.first(where: { $0.hasSuffix(".csv") && !$0.hasSuffix("barcode_platemap.csv") }),
      FileManager.default.fileExists(atPath: csv)
    else {
      s.note = "No LoadData CSV among the run's inputs that still exists: no images to show (a profiles-only input)."
      return s
    }
    let screen = try LoadDataReader.read(URL(fileURLWithPath: csv)).screen
    guard let channel = screen.channels.first else { return s }
    var images: [SiteKey: String] = [:]
    for (plate, well, site) in screen.sites {
      if let path = site.images[channel]?.path { images[SiteKey(plate: plate.name, well: well.name, site: site.number)] = path }
    }
    let sites = builder.sites.filter { images[$0.key] != nil }
    guard !sites.isEmpty else { return s }
    var random = SplitMix(seed: 1)
    var pool = sites
    var picked: [(String, RunStore.SiteRecord)] = []
    for _ in 0..<min(4, pool.count) { picked.append(("random", pool.remove(at: Int(random.next() % UInt64(pool.count))))) }
    picked += sites.filter { $0.covariates["control"] == "1" }.prefix(4).map { ("control", $0) }
    let focus = "Focus_score_\(channel)"
    let worst = sites.filter { builder.value($0, focus) != nil }.sorted {
      (builder.value($0, focus)!, $0.id) < (builder.value($1, focus)!, $1.id)
    }
    picked += worst.prefix(4).map { ("worst focus \(formatNumber(builder.value($0, focus)!))", $0) }
    var tiles: [ImageGrid.Tile] = []
    for (why, site) in picked {
      guard let path = images[site.key], let image = try? readImage(URL(fileURLWithPath: path)) else { continue }
      let (w, h, grey) = Self.thumbnail(image, side: 96)
      tiles.append(ImageGrid.Tile(caption: "\(why)\n\(site.key.plate) \(site.key.well) s\(site.key.site)", width: w,
                                  height: h, grey: grey))
    }
    guard !tiles.isEmpty else {
      s.note = "The screen's images could not be read."
      return s
    }
    s.figures.append(ReportFigure(
      id: "sample-sites",
      caption: "Channel \(channel) of random, control and worst-focus sites, each scaled to its 1st-99th percentile.",
      figure: try ImageGrid(title: "Sample sites (\(channel))", tiles: tiles, columns: 4, tileSize: 150)))
    return s
  }

  /// The first plane block-averaged to at most `side` pixels a side, scaled to its 1st-99th percentile.
  static func thumbnail(_ image: Image, side: Int) -> (Int, Int, [Float]) {
    let plane = Array(image.plane(0))
    let factor = max(1, (max(image.width, image.height) + side - 1) / side)
    let w = image.width / factor
    let h = image.height / factor
    var out = [Float](repeating: 0, count: w * h)
    for y in 0..<h {
      for x in 0..<w {
        var sum: Float = 0
        for dy in 0..<factor { for dx in 0..<factor { sum += plane[(y * factor + dy) * image.width + x * factor + dx] } }
        out[y * w + x] = sum / Float(factor * factor)
      }
    }
    return (w, h, percentileStretch(out))
  }
}

/// SplitMix64: a seeded generator, the same picks on every machine.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}
