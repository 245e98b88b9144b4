import ConfoundCore
import ConfoundImaging
import Foundation
import PlateMaps
import Report

/// Plate maps of per-site measurements, written as `DIR/plots/<measure>.png` and `.svg` and registered as
/// artifacts: one panel per plate with its batch in the title, sites as sub-cells, missing wells hatched.
struct PlateMapFigures {
  let audit: Audit

  /// Draws `measure` (one colour scale over all plates); returns the files written, none when no site has it.
  @discardableResult
  func draw(_ measure: String, unit: String, stage: String, perSite: [Int64: [String: Double]]) throws -> [URL] {
    var panels: [PlateMapPanel] = []
    for batch in audit.screen.batches {
      for plate in batch.plates {
        var values: [String: [Double?]] = [:]
        var any = false
        for well in plate.wells {
          let name = PlateMapPanel.wellName(row: well.position.row, column: well.position.column)
          values[name] = well.sites.sorted { $0.number < $1.number }.map { site -> Double? in
            let id = audit.siteIDs[SiteKey(plate: plate.name, well: well.name, site: site.number)]
            let v = id.flatMap { perSite[$0]?[measure] }.flatMap { $0.isFinite ? $0 : nil }
            if v != nil { any = true }
            return v
          }
        }
        guard any else { continue }
        panels.append(try PlateMapPanel(plate: plate.name, batch: batch.name, rows: plate.format.rows,
                                        columns: plate.format.columns, values: values))
      }
    }
    guard !panels.isEmpty else { return [] }
    let plots = audit.out.appendingPathComponent("plots")
    try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
    let map = try PlateMap.render(plates: panels, measure: measure, unit: unit)
    let png = plots.appendingPathComponent("\(measure).png")
    let svg = plots.appendingPathComponent("\(measure).svg")
    try writePNG(map.png, to: png)
    try map.svg.write(to: svg, atomically: true, encoding: .utf8)
    for file in [png, svg] {
      try audit.artifact(file, kind: "figure", stage: stage, description: "plate map of \(measure) (\(unit)), per site")
    }
    return [png, svg]
  }
}

extension Audit {
  /// Writes `figure` as `plots/<id>.png` and `.svg` with the data behind it as `plots/<id>.csv`, each registered
  /// as an artifact of `stage`; returns the files.
  @discardableResult
  func write(_ figure: ReportFigure, stage: String) throws -> [URL] {
    let plots = out.appendingPathComponent("plots")
    try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
    let files = ["png", "svg", "csv"].map { plots.appendingPathComponent("\(figure.id).\($0)") }
    try figure.figure.raster().png.write(to: files[0])
    try figure.figure.svg().write(to: files[1], atomically: true, encoding: .utf8)
    try figure.csv.write(to: files[2], atomically: true, encoding: .utf8)
    for file in files {
      try artifact(file, kind: file.pathExtension == "csv" ? "table" : "figure", stage: stage,
                   description: file.pathExtension == "csv" ? "the data behind \(figure.id)" : figure.caption)
    }
    return files
  }
}
