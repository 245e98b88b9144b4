import Foundation

/// The SVG form of a plate map: the same layout as the raster, with real `<text>`, one `<rect class="well">` per
/// well (carrying `data-well`) and one `<rect class="site">` per site, missing ones filled with a hatch pattern.
enum PlateMapSVG {
  static func document(_ plates: [PlateMapPanel], cells: [PlateMap.Cell], layout: PlateMapLayout, measure: String,
                       unit: String, scale: ClosedRange<Double>) -> String {
    var s = """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" width="\(layout.width)" height="\(layout.height)" \
      viewBox="0 0 \(layout.width) \(layout.height)" font-family="sans-serif">
      <title>\(escape(measure)) (\(escape(unit)))</title>
      <defs>
      <pattern id="missing" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
      <rect width="6" height="6" fill="\(PlateMap.missing.hex)"/><rect width="2" height="6" \
      fill="\(PlateMap.missingHatch.hex)"/></pattern>
      <linearGradient id="viridis" x1="0" y1="1" x2="0" y2="0">

      """
    for k in 0...9 {
      let t = Double(k) / 9
      s += "<stop offset=\"\(t)\" stop-color=\"\(Viridis.colour(t).hex)\"/>\n"
    }
    s += "</linearGradient>\n</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    for (p, plate) in plates.enumerated() {
      let title = PlateMap.title(plate, measure: measure, unit: unit)
      s += text(title, x: PlateMapLayout.margin, y: layout.titleTops[p] + 12, size: 13, anchor: "start")
      for c in 0..<plate.columns {
        let rect = layout.well(panel: p, row: 0, column: c)
        s += text(String(c + 1), x: rect.centre.x, y: layout.origins[p].y - 4, size: 9, anchor: "middle")
      }
      for r in 0..<plate.rows {
        let rect = layout.well(panel: p, row: r, column: 0)
        s += text(PlateMapPanel.rowName(r), x: layout.origins[p].x - 6, y: rect.centre.y + 4, size: 10, anchor: "end")
      }
    }
    for cell in cells {
      let fill = cell.colour?.hex ?? "url(#missing)"
      let kind = cell.site == nil ? "well" : "site"
      let site = cell.site.map { " data-site=\"\($0 + 1)\"" } ?? ""
      let value = cell.value.map { "<title>\(cell.well) site \((cell.site ?? 0) + 1): \($0)</title>" } ?? ""
      let r = cell.rect
      s += "<rect class=\"\(kind)\" data-panel=\"\(cell.panel)\" data-well=\"\(cell.well)\"\(site) x=\"\(r.x)\" "
        + "y=\"\(r.y)\" width=\"\(r.width)\" height=\"\(r.height)\" fill=\"\(fill)\">\(value)</rect>\n"
    }
    let bar = layout.colourBar
    s += "<rect class=\"colourbar\" x=\"\(bar.x)\" y=\"\(bar.y)\" width=\"\(bar.width)\" height=\"\(bar.height)\" "
      + "fill=\"url(#viridis)\"/>\n"
    s += text(PlateMap.label(scale.upperBound), x: bar.x + bar.width + 4, y: bar.y + 8, size: 10, anchor: "start")
    s += text(PlateMap.label(scale.lowerBound), x: bar.x + bar.width + 4, y: bar.y + bar.height, size: 10,
              anchor: "start")
    s += text(unit, x: bar.x, y: bar.y + bar.height + 14, size: 10, anchor: "start")
    s += "<rect x=\"\(bar.x)\" y=\"\(bar.y + bar.height + 20)\" width=\"10\" height=\"10\" fill=\"url(#missing)\"/>\n"
    s += text("missing", x: bar.x + 14, y: bar.y + bar.height + 29, size: 10, anchor: "start")
    return s + "</svg>\n"
  }

  static func text(_ t: String, x: Int, y: Int, size: Int, anchor: String) -> String {
    "<text x=\"\(x)\" y=\"\(y)\" font-size=\"\(size)\" text-anchor=\"\(anchor)\">\(escape(t))</text>\n"
  }

  /// XML-escapes text and attribute content.
  static func escape(_ t: String) -> String {
    t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }
}
