import ConfoundImaging
import Foundation

/// The PNG form of a scatter figure, drawn with the plate maps' canvas and bitmap font.
enum ScatterRaster {
  static func draw(_ plot: ScatterPlot, layout: ScatterLayout, resolved: [ScatterPlot.Resolved]) -> Image {
    var canvas = PlateMapCanvas(width: layout.width, height: layout.height)
    canvas.text(plot.title, x: ScatterLayout.margin, y: 8, scale: 2)
    for (k, panel) in plot.panels.enumerated() {
      let area = layout.area(k)
      let frame = RGB(0x66, 0x66, 0x66)
      canvas.fill(PixelRect(x: area.x - 1, y: area.y - 1, width: area.width + 2, height: 1), frame)
      canvas.fill(PixelRect(x: area.x - 1, y: area.y + area.height, width: area.width + 2, height: 1), frame)
      canvas.fill(PixelRect(x: area.x - 1, y: area.y, width: 1, height: area.height), frame)
      canvas.fill(PixelRect(x: area.x + area.width, y: area.y, width: 1, height: area.height), frame)
      canvas.text(panel.covariate, x: area.x, y: area.y - 14, scale: 2)
      // The bitmap font has no rotated form: both axes are named under the plot.
      canvas.text("x: \(plot.xLabel)   y: \(plot.yLabel)", x: area.x, y: area.y + area.height + 6, scale: 1)
      let points = plot.pixels(in: area)
      // Missing values first, so coloured points stay on top.
      let order = points.indices.sorted {
        (resolved[k].colours[$0] == ScatterPlot.missing ? 0 : 1, $0)
          < (resolved[k].colours[$1] == ScatterPlot.missing ? 0 : 1, $1)
      }
      for i in order {
        let cx = Int(points[i].x.rounded())
        let cy = Int(points[i].y.rounded())
        for dy in -2...2 {
          for dx in -2...2 where dx * dx + dy * dy <= 5 { canvas.set(cx + dx, cy + dy, resolved[k].colours[i]) }
        }
      }
      legend(&canvas, resolved[k], x: area.x + area.width + 12, y: area.y)
    }
    return canvas.image
  }

  static func legend(_ canvas: inout PlateMapCanvas, _ r: ScatterPlot.Resolved, x: Int, y: Int) {
    if let range = r.range {
      for row in 0..<200 {
        canvas.fill(PixelRect(x: x, y: y + row, width: 14, height: 1), Viridis.colour(1 - Double(row) / 199))
      }
      canvas.text(PlateMap.label(range.upperBound), x: x + 18, y: y, scale: 1)
      canvas.text(PlateMap.label(range.lowerBound), x: x + 18, y: y + 195, scale: 1)
      return
    }
    for (k, entry) in r.legend.enumerated() {
      canvas.fill(PixelRect(x: x, y: y + 16 * k, width: 10, height: 10), entry.1)
      canvas.text(String(entry.0.prefix(34)), x: x + 14, y: y + 16 * k + 2, scale: 1)
    }
    if r.hiddenLevels > 0 {
      canvas.text("+\(r.hiddenLevels) more", x: x + 14, y: y + 16 * r.legend.count + 2, scale: 1)
    }
  }
}

/// The SVG form: real text, one `<g class="panel" data-covariate=...>` per panel, one `<circle>` per point.
enum ScatterSVG {
  static func document(_ plot: ScatterPlot, layout: ScatterLayout, resolved: [ScatterPlot.Resolved]) -> String {
    var s = """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" width="\(layout.width)" height="\(layout.height)" \
      viewBox="0 0 \(layout.width) \(layout.height)" font-family="sans-serif">
      <title>\(PlateMapSVG.escape(plot.title))</title>
      <defs><linearGradient id="viridis" x1="0" y1="1" x2="0" y2="0">

      """
    for k in 0...9 { s += "<stop offset=\"\(Double(k) / 9)\" stop-color=\"\(Viridis.colour(Double(k) / 9).hex)\"/>\n" }
    s += "</linearGradient></defs>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    s += PlateMapSVG.text(plot.title, x: ScatterLayout.margin, y: 20, size: 15, anchor: "start")
    for (k, panel) in plot.panels.enumerated() {
      let area = layout.area(k)
      s += "<g class=\"panel\" data-covariate=\"\(PlateMapSVG.escape(panel.covariate))\">\n"
      s += PlateMapSVG.text(panel.covariate, x: area.x, y: area.y - 6, size: 13, anchor: "start")
      s +=
        "<rect x=\"\(area.x)\" y=\"\(area.y)\" width=\"\(area.width)\" height=\"\(area.height)\" fill=\"none\" "
        + "stroke=\"#666666\"/>\n"
      s += PlateMapSVG.text(
        plot.xLabel, x: area.x + area.width / 2, y: area.y + area.height + 16, size: 11,
        anchor: "middle")
      s +=
        "<text x=\"\(area.x - 8)\" y=\"\(area.y + area.height / 2)\" font-size=\"11\" text-anchor=\"middle\" "
        + "transform=\"rotate(-90 \(area.x - 8) \(area.y + area.height / 2))\">\(PlateMapSVG.escape(plot.yLabel))</text>\n"
      for (i, p) in plot.pixels(in: area).enumerated() {
        s +=
          "<circle cx=\"\(String(format: "%.1f", p.x))\" cy=\"\(String(format: "%.1f", p.y))\" r=\"2.5\" "
          + "fill=\"\(resolved[k].colours[i].hex)\"/>\n"
      }
      s += legend(resolved[k], x: area.x + area.width + 12, y: area.y)
      s += "</g>\n"
    }
    return s + "</svg>\n"
  }

  static func legend(_ r: ScatterPlot.Resolved, x: Int, y: Int) -> String {
    if let range = r.range {
      return "<rect class=\"colourbar\" x=\"\(x)\" y=\"\(y)\" width=\"14\" height=\"200\" fill=\"url(#viridis)\"/>\n"
        + PlateMapSVG.text(PlateMap.label(range.upperBound), x: x + 18, y: y + 9, size: 10, anchor: "start")
        + PlateMapSVG.text(PlateMap.label(range.lowerBound), x: x + 18, y: y + 200, size: 10, anchor: "start")
    }
    var s = ""
    for (k, entry) in r.legend.enumerated() {
      s +=
        "<rect class=\"legend\" x=\"\(x)\" y=\"\(y + 16 * k)\" width=\"10\" height=\"10\" fill=\"\(entry.1.hex)\"/>\n"
      s += PlateMapSVG.text(entry.0, x: x + 14, y: y + 16 * k + 9, size: 10, anchor: "start")
    }
    if r.hiddenLevels > 0 {
      s += PlateMapSVG.text(
        "+\(r.hiddenLevels) more", x: x + 14, y: y + 16 * r.legend.count + 9, size: 10, anchor: "start")
    }
    return s
  }
}
