import ConfoundImaging
import Foundation

/// A plate heat map of one per-site or per-well measure: one panel per plate with its wells in their real
/// row/column layout, sites as sub-cells within each well, several plates on a page, a viridis colour bar (or the
/// diverging map for signed values) titled with the unit, the plate and batch in each panel's title, missing
/// wells and sites hatched grey. Drawn with Cairo (`Figure`): PNG, SVG and PDF from one drawing.
public enum PlateMap {
  /// Fill of a missing well or site, and the colour of its hatch lines.
  public static let missing = RGB(210, 210, 210)
  public static let missingHatch = RGB(150, 150, 150)

  /// A rendered map: the raster (3 channels, 0...255, `writePNG`-ready), the same drawing as SVG, and the figure
  /// itself (for PDF or its text layout).
  public struct Rendering {
    public let png: Image
    public let pngData: Data
    public let svg: String
    public let layout: PlateMapLayout
    /// The value range mapped to the colour bar's ends.
    public let range: ClosedRange<Double>
    public let figure: PlateMapFigure
    /// Every text of the drawing with its box.
    public let textBoxes: [TextBox]
  }

  /// Renders `plates` for `measure` in `unit`. The colour scale spans `range`, by default the finite values'
  /// minimum...maximum over all plates (so panels are comparable). Throws when there is no plate.
  public static func render(plates: [PlateMapPanel], measure: String, unit: String,
                            range: ClosedRange<Double>? = nil, signed: Bool = false) throws -> Rendering {
    let figure = try PlateMapFigure(plates: plates, measure: measure, unit: unit, range: range, signed: signed)
    let raster = try figure.raster()
    return Rendering(png: raster.image, pngData: raster.png, svg: try figure.svg(), layout: figure.layout,
                     range: figure.range, figure: figure, textBoxes: raster.textBoxes)
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
  static func cellList(_ plates: [PlateMapPanel], layout: PlateMapLayout, scale: ClosedRange<Double>,
                       map: (Double) -> RGB) -> [Cell] {
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
              x.isFinite ? map(span > 0 ? (x - scale.lowerBound) / span : 0.5) : nil
            }
            out.append(Cell(panel: p, well: name, site: s, rect: layout.site(s, in: rect), colour: colour, value: v))
          }
        }
      }
    }
    return out
  }

  /// Number formatting for labels (`formatNumber`).
  static func label(_ v: Double) -> String { formatNumber(v) }

  /// Title of a panel: the plate, and its batch when known.
  static func title(_ plate: PlateMapPanel) -> String {
    "Plate \(plate.plate)" + (plate.batch.map { " · batch \($0)" } ?? "")
  }

  /// A plate panel's title line (cut to its slot), column numbers over its first row (every other one when they do
  /// not fit) and row letters left of its first column (every other one on wells under 12 pixels).
  static func drawLabels(_ c: Canvas, title: String, rows: Int, columns: Int, titleTop: Double,
                         slot: (x: Int, width: Int), origin: (x: Int, y: Int), wellSize: Int, everyColumnNumber: Bool) {
    c.text(c.fitted(title, size: FigureStyle.label, width: Double(slot.width)), x: Double(slot.x),
           y: titleTop + FigureStyle.label + 2, size: FigureStyle.label)
    let numbers = Double(origin.y) - 4
    for col in 0..<columns where everyColumnNumber || col % 2 == 0 {
      c.text(String(col + 1), x: Double(origin.x + col * wellSize) + Double(wellSize - 1) / 2, y: numbers, size: 9,
             anchor: .middle)
    }
    for r in 0..<rows where wellSize >= 12 || r % 2 == 0 {
      c.text(PlateMapPanel.rowName(r), x: Double(origin.x) - 4,
             y: Double(origin.y + r * wellSize) + Double(wellSize - 1) / 2 + 3.5, size: 10, anchor: .end)
    }
  }
}
