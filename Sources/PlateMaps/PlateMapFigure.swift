import Foundation

/// The plate map as a `Figure`: layout fixed at creation from measured text, drawn the same on every surface.
public struct PlateMapFigure: Figure {
  public let plates: [PlateMapPanel]
  public let measure: String
  public let unit: String
  /// The value range mapped to the colour bar's ends.
  public let range: ClosedRange<Double>
  /// Signed values use the diverging map, centred on 0.
  public let signed: Bool
  public let layout: PlateMapLayout
  let bar: ColourBar
  let cells: [PlateMap.Cell]

  public var width: Int { layout.width }
  public var height: Int { layout.height }
  public var caption: String { "\(measure) (\(unit)), \(plates.count) plate\(plates.count == 1 ? "" : "s")" }

  /// Throws when there is no plate. `signed` maps values on the diverging map with 0 at its centre (the default
  /// range is then symmetric about 0).
  public init(plates: [PlateMapPanel], measure: String, unit: String, range: ClosedRange<Double>? = nil,
              signed: Bool = false) throws {
    guard !plates.isEmpty else { throw PlateMapError("PlateMap.render: no plates; pass at least one panel") }
    let finite = plates.flatMap { $0.values.values.flatMap { $0.compactMap { $0 } } }.filter(\.isFinite)
    var scale = range ?? ((finite.min() ?? 0)...(finite.max() ?? 1))
    if signed && range == nil {
      let m = max(abs(scale.lowerBound), abs(scale.upperBound))
      scale = -m...m
    }
    let map: @Sendable (Double) -> RGB = signed ? Diverging.colour : Viridis.colour
    self.plates = plates
    self.measure = measure
    self.unit = unit
    self.range = scale
    self.signed = signed
    let m = Canvas.measuring()
    bar = ColourBar(title: unit, range: scale, map: map)
    let keyWidth = 14 + m.measure("missing", size: FigureStyle.tick).width
    layout = PlateMapLayout(panels: plates, barWidth: max(bar.width(m), keyWidth), measuring: m)
    cells = PlateMap.cellList(plates, layout: layout, scale: scale, map: map)
  }

  public func draw(on c: Canvas) {
    c.page(width: width, height: height, title: measure, margin: Double(PlateMapLayout.margin))
    for (p, plate) in plates.enumerated() {
      PlateMap.drawLabels(c, title: PlateMap.title(plate), rows: plate.rows, columns: plate.columns,
                          titleTop: Double(layout.titleTops[p]), slot: layout.slots[p], origin: layout.origins[p],
                          wellSize: layout.wellSize, everyColumnNumber: layout.everyColumnNumber)
    }
    for cell in cells {
      if let colour = cell.colour { c.fill(cell.rect.rect, colour) } else {
        c.hatch(cell.rect.rect, base: PlateMap.missing, line: PlateMap.missingHatch)
      }
    }
    let barRect = layout.colourBar
    bar.draw(c, x: Double(barRect.x), top: Double(barRect.y) - ColourBar.titleHeight, height: Double(barRect.height))
    let keyTop = Double(barRect.y + barRect.height) + 16
    c.hatch(Rect(x: Double(barRect.x), y: keyTop, width: 10, height: 10), base: PlateMap.missing,
            line: PlateMap.missingHatch)
    c.text("missing", x: Double(barRect.x) + 14, y: keyTop + 9, size: FigureStyle.tick)
  }

  /// The data behind the figure: one row per site.
  public func csv() -> String {
    var lines = ["plate,batch,well,site,\(csvField(measure))"]
    for plate in plates {
      for well in plate.values.keys.sorted() {
        for (s, v) in plate.values[well]!.enumerated() {
          lines.append([plate.plate, plate.batch ?? "", well, String(s + 1), v.map { "\($0)" } ?? ""]
            .map(csvField).joined(separator: ","))
        }
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
public func csvField(_ s: String) -> String {
  s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
    ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}
