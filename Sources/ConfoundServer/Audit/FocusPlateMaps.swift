import ConfoundCore
import ConfoundImaging
import Foundation
import PlateMaps

/// Plate maps of the focus stage's results, written as `DIR/plots/<measure>.png` and `.svg`: the learned defocus
/// score of every channel (`Focus_score_<channel>`, 1 = in focus) and the measure the spatial finding tests.
/// One panel per plate with its batch in the title, sites as sub-cells, missing wells hatched.
struct FocusPlateMaps {
  let store: RunStore
  let screen: Screen
  let siteIDs: [SiteKey: Int64]

  /// The measures mapped for a spatial `measure`, with their units.
  func measures(spatial measure: String) -> [(name: String, unit: String)] {
    screen.channels.map { ("Focus_score_\($0)", "defocus score, 1 = in focus") }
      + [(measure, measure.hasSuffix("Normalized_\(screen.channels.first ?? "")") ? "per mean^2" : "")]
  }

  /// Writes every map into `out/plots` and returns the files written. A measure no site has is skipped.
  func write(into out: URL, spatial measure: String) throws -> [URL] {
    let plots = out.appendingPathComponent("plots")
    try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
    var perSite: [Int64: [String: Double]] = [:]
    for id in siteIDs.values { perSite[id] = try store.measurements(siteID: id) }
    var written: [URL] = []
    for (name, unit) in measures(spatial: measure) {
      let panels = try self.panels(name, perSite: perSite)
      guard !panels.isEmpty else { continue }
      let map = try PlateMap.render(plates: panels, measure: name, unit: unit.isEmpty ? "value" : unit)
      let png = plots.appendingPathComponent("\(name).png")
      let svg = plots.appendingPathComponent("\(name).svg")
      try writePNG(map.png, to: png)
      try map.svg.write(to: svg, atomically: true, encoding: .utf8)
      written += [png, svg]
    }
    return written
  }

  /// One panel per plate holding at least one value of `measure`; a site without the value is a missing sub-cell.
  func panels(_ measure: String, perSite: [Int64: [String: Double]]) throws -> [PlateMapPanel] {
    var out: [PlateMapPanel] = []
    for batch in screen.batches {
      for plate in batch.plates {
        var values: [String: [Double?]] = [:]
        var any = false
        for well in plate.wells {
          let name = PlateMapPanel.wellName(row: well.position.row, column: well.position.column)
          values[name] = well.sites.sorted { $0.number < $1.number }.map { site -> Double? in
            let id = siteIDs[SiteKey(plate: plate.name, well: well.name, site: site.number)]
            let v = id.flatMap { perSite[$0]?[measure] }.flatMap { $0.isFinite ? $0 : nil }
            if v != nil { any = true }
            return v
          }
        }
        guard any else { continue }
        out.append(try PlateMapPanel(plate: plate.name, batch: batch.name, rows: plate.format.rows,
                                     columns: plate.format.columns, values: values))
      }
    }
    return out
  }
}
