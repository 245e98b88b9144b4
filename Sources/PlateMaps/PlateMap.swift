import ConfoundImaging
import Foundation

/// A plate heat map of one per-site or per-well measure, as an RGB raster (for `writePNG`) and as SVG text: one
/// panel per plate with its wells in their real row/column layout, sites as sub-cells within each well, a viridis
/// colour bar labelled with the measure's range and unit, the plate and batch in each panel's title, and missing
/// wells and sites hatched grey.
public enum PlateMap {
  /// Fill of a missing well or site, and the colour of its hatch lines.
  public static let missing = RGB(210, 210, 210)
  public static let missingHatch = RGB(150, 150, 150)

  /// A rendered map: the raster (3 channels, 0...255, `writePNG`-ready) and the same drawing as SVG.
  public struct Rendering: Sendable {
    public let png: Image
    public let svg: String
    public let layout: PlateMapLayout
    /// The value range mapped to the colour bar's ends.
    public let range: ClosedRange<Double>
  }

  /// Renders `plates` for `measure` in `unit`. The colour scale spans `range`, by default the finite values'
  /// minimum...maximum over all plates (so panels are comparable). Throws when there is no plate.
  public static func render(plates: [PlateMapPanel], measure: String, unit: String,
                            range: ClosedRange<Double>? = nil) throws -> Rendering {
    guard !plates.isEmpty else { throw PlateMapError("PlateMap.render: no plates; pass at least one panel") }
    let finite = plates.flatMap { $0.values.values.flatMap { $0.compactMap { $0 } } }.filter(\.isFinite)
    let scale = range ?? ((finite.min() ?? 0)...(finite.max() ?? 1))
    let layout = PlateMapLayout(panels: plates)
    let cells = cellList(plates, layout: layout, scale: scale)
    let png = raster(plates, cells: cells, layout: layout, measure: measure, unit: unit, scale: scale)
    let svg = PlateMapSVG.document(plates, cells: cells, layout: layout, measure: measure, unit: unit, scale: scale)
    return Rendering(png: png, svg: svg, layout: layout, range: scale)
  }

  /// One drawn cell: a well (missing or not) or a site of a present well; `colour` nil means missing.
  struct Cell {
    let panel: Int
    let well: String
    let site: Int?
    let rect: PixelRect
    let colour: RGB?
    let value: Double?
  }

  /// Every well rectangle, then (for present wells) its site sub-cells.
  static func cellList(_ plates: [PlateMapPanel], layout: PlateMapLayout, scale: ClosedRange<Double>) -> [Cell] {
    var out: [Cell] = []
    let span = scale.upperBound - scale.lowerBound
    for (p, plate) in plates.enumerated() {
      for r in 0..<plate.rows {
        for c in 0..<plate.columns {
          let name = PlateMapPanel.wellName(row: r, column: c)
          let rect = layout.well(panel: p, row: r, column: c)
          let values = plate.values[name]
          out.append(Cell(panel: p, well: name, site: nil, rect: rect, colour: values == nil ? nil : missing,
                          value: nil))
          for (s, v) in (values ?? []).enumerated() {
            let colour = v.flatMap { x in
              x.isFinite ? Viridis.colour(span > 0 ? (x - scale.lowerBound) / span : 0.5) : nil
            }
            out.append(Cell(panel: p, well: name, site: s, rect: layout.site(s, in: rect), colour: colour, value: v))
          }
        }
      }
    }
    return out
  }

  /// Number formatting for labels: up to 4 significant digits, without exponent for ordinary magnitudes.
  static func label(_ v: Double) -> String {
    if v == 0 { return "0" }
    let magnitude = abs(v)
    if magnitude >= 1e5 || magnitude < 1e-3 { return String(format: "%.3e", v) }
    let decimals = max(0, 3 - Int(magnitude.rounded(.down) == 0 ? -1 : log10(magnitude).rounded(.down)))
    return String(format: "%.\(decimals)f", v)
  }

  /// Title of panel `p`: plate, batch when known, measure and unit.
  static func title(_ plate: PlateMapPanel, measure: String, unit: String) -> String {
    "Plate \(plate.plate)" + (plate.batch.map { "  batch \($0)" } ?? "") + "  \(measure) (\(unit))"
  }

  static func raster(_ plates: [PlateMapPanel], cells: [Cell], layout: PlateMapLayout, measure: String, unit: String,
                     scale: ClosedRange<Double>) -> Image {
    var canvas = PlateMapCanvas(width: layout.width, height: layout.height)
    let s = PlateMapLayout.fontScale
    for (p, plate) in plates.enumerated() {
      let heading = title(plate, measure: measure, unit: unit)
      canvas.text(heading, x: PlateMapLayout.margin, y: layout.titleTops[p], scale: s)
      let numbersTop = layout.origins[p].y - PlateMapLayout.lineHeight + 2
      for c in 0..<plate.columns where plate.columns <= 24 || c % 2 == 0 {
        let rect = layout.well(panel: p, row: 0, column: c)
        let text = String(c + 1)
        canvas.text(text, x: rect.centre.x - PlateMapFont.width(text, scale: 1) / 2, y: numbersTop, scale: 1)
      }
      for r in 0..<plate.rows {
        let rect = layout.well(panel: p, row: r, column: 0)
        canvas.text(PlateMapPanel.rowName(r), x: PlateMapLayout.margin, y: rect.centre.y - 5 * s / 2, scale: s)
      }
    }
    for cell in cells {
      if let colour = cell.colour { canvas.fill(cell.rect, colour) } else {
        canvas.hatch(cell.rect, base: missing, line: missingHatch)
      }
    }
    let bar = layout.colourBar
    for y in 0..<bar.height {
      let t = 1 - Double(y) / Double(max(1, bar.height - 1))
      canvas.fill(PixelRect(x: bar.x, y: bar.y + y, width: bar.width, height: 1), Viridis.colour(t))
    }
    let textX = bar.x + bar.width + 4
    canvas.text(label(scale.upperBound), x: textX, y: bar.y, scale: 1)
    canvas.text(label(scale.lowerBound), x: textX, y: bar.y + bar.height - 5, scale: 1)
    canvas.text(unit, x: bar.x, y: bar.y + bar.height + 4, scale: 1)
    let key = PixelRect(x: bar.x, y: bar.y + bar.height + 14, width: 10, height: 10)
    canvas.hatch(key, base: missing, line: missingHatch)
    canvas.text("missing", x: bar.x + 14, y: bar.y + bar.height + 16, scale: 1)
    return canvas.image
  }
}
