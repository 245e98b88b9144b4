/// A plot area's frame, grid, ticks and axis names. Tick labels that would meet the previous one are left out,
/// and the y axis name sits left of the widest tick label, so no two texts share pixels.
enum Axes {
  /// Room left of a plot area for the tick labels of `ticks` and the rotated axis name.
  static func leftMargin(_ m: Canvas, ticks: [Double]) -> Double {
    let widest = ticks.map { m.measure(formatNumber($0), size: FigureStyle.tick).width }.max() ?? 0
    return 6 + widest + 4 + FigureStyle.label * 1.3 + 8
  }

  static func draw(_ c: Canvas, area: Rect, x: LinearScale?, y: LinearScale?, xTicks: [Double], yTicks: [Double],
                   xLabel: String, yLabel: String, xTickNames: [Double: String] = [:]) {
    if let y {
      for v in yTicks where y(v) >= area.y - 0.5 && y(v) <= area.maxY + 0.5 {
        c.line([Point(area.x, y(v)), Point(area.maxX, y(v))], FigureStyle.grid)
      }
    }
    if let x {
      for v in xTicks where x(v) >= area.x - 0.5 && x(v) <= area.maxX + 0.5 {
        c.line([Point(x(v), area.y), Point(x(v), area.maxY)], FigureStyle.grid)
      }
    }
    c.strokeRect(area, FigureStyle.frame)
    var widest = 0.0
    if let y {
      var lastTop = Double.infinity
      for v in yTicks.sorted() where y(v) >= area.y - 0.5 && y(v) <= area.maxY + 0.5 {
        let baseline = y(v) + FigureStyle.tick * 0.35
        let size = c.measure(formatNumber(v), size: FigureStyle.tick)
        guard baseline + 2 < lastTop else { continue }
        c.line([Point(area.x - 4, y(v)), Point(area.x, y(v))], FigureStyle.frame)
        let box = c.text(formatNumber(v), x: area.x - 6, y: baseline, size: FigureStyle.tick, anchor: .end)
        lastTop = box.rect.y
        widest = max(widest, size.width)
      }
    }
    if let x {
      var lastRight = -Double.infinity
      for v in xTicks.sorted() where x(v) >= area.x - 0.5 && x(v) <= area.maxX + 0.5 {
        let name = xTickNames[v] ?? formatNumber(v)
        let w = c.measure(name, size: FigureStyle.tick).width
        guard x(v) - w / 2 > lastRight + 4 else { continue }
        c.line([Point(x(v), area.maxY), Point(x(v), area.maxY + 4)], FigureStyle.frame)
        c.text(name, x: x(v), y: area.maxY + 6 + FigureStyle.tick, size: FigureStyle.tick, anchor: .middle)
        lastRight = x(v) + w / 2
      }
    }
    if !xLabel.isEmpty {
      c.text(c.fitted(xLabel, size: FigureStyle.label, width: area.width), x: area.x + area.width / 2,
             y: area.maxY + 12 + FigureStyle.tick + FigureStyle.label, size: FigureStyle.label, anchor: .middle)
    }
    if !yLabel.isEmpty {
      // The name's baseline sits right of its box: ascent to the left, descent towards the tick labels.
      c.text(c.fitted(yLabel, size: FigureStyle.label, width: area.height), x: area.x - 6 - widest - 4 - 4,
             y: area.y + area.height / 2, size: FigureStyle.label, anchor: .middle, rotated: true)
    }
  }
}
