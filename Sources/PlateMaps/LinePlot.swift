import Foundation

/// Curves of y against x, each optionally with a band (partial dependence with its spread: the paper's Figure 6).
public struct LinePlot: Figure, Sendable {
  /// One curve; `low`/`high`, when given, have one value per x.
  public struct Series: Sendable, Equatable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    public var low: [Double]?
    public var high: [Double]?
    public init(name: String, x: [Double], y: [Double], low: [Double]? = nil, high: [Double]? = nil) {
      self.name = name
      self.x = x
      self.y = y
      self.low = low
      self.high = high
    }
  }

  public let title: String
  public let series: [Series]
  public let xLabel: String
  public let yLabel: String
  public let palette: CategoryPalette
  let legendWidth: Double
  static let plot = (width: 380.0, height: 240.0)
  let left: Double

  /// Throws when a series' x and y (or band) lengths differ.
  public init(title: String, series: [Series], xLabel: String, yLabel: String, palette: CategoryPalette? = nil)
    throws
  {
    for s in series where s.x.count != s.y.count || (s.low?.count ?? s.x.count) != s.x.count
      || (s.high?.count ?? s.x.count) != s.x.count
    {
      throw PlateMapError("LinePlot: series '\(s.name)' has \(s.x.count) x and \(s.y.count) y values; need equal")
    }
    self.title = title
    self.series = series
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.palette = palette ?? CategoryPalette(levels: series.map(\.name))
    let m = Canvas.measuring()
    let yd = LinearScale.padded(series.flatMap { $0.y + ($0.low ?? []) + ($0.high ?? []) }, pad: 0.06)
    left = Axes.leftMargin(m, ticks: niceTicks(yd.0, yd.1))
    legendWidth = series.count > 1 ? Legend(entries: series.map { ($0.name, .init(0, 0, 0)) }).width(m) : 0
  }

  var area: Rect { Rect(x: 10 + left, y: 10 + FigureStyle.title + 16, width: Self.plot.width,
                        height: Self.plot.height) }
  public var width: Int { Int((area.maxX + (legendWidth > 0 ? 20 + legendWidth : 0) + 14).rounded(.up)) }
  public var height: Int {
    Int(max(area.maxY + 14 + FigureStyle.tick + FigureStyle.label + 10,
            area.y + Double(series.count) * Legend.row + 10).rounded(.up))
  }
  public var caption: String { title }

  public func draw(on c: Canvas) {
    c.page(width: width, height: height, title: title)
    let a = area
    let xd = LinearScale.padded(series.flatMap(\.x), pad: 0.02)
    let yd = LinearScale.padded(series.flatMap { $0.y + ($0.low ?? []) + ($0.high ?? []) }, pad: 0.06)
    let sx = LinearScale(domain: xd, range: (a.x, a.maxX))
    let sy = LinearScale(domain: yd, range: (a.maxY, a.y))
    Axes.draw(c, area: a, x: sx, y: sy, xTicks: niceTicks(xd.0, xd.1), yTicks: niceTicks(yd.0, yd.1),
              xLabel: xLabel, yLabel: yLabel)
    for s in series {
      let colour = series.count > 1 ? palette.colour(s.name) : CategoryPalette.colours[0]
      if let low = s.low, let high = s.high {
        let upper = zip(s.x, high).map { Point(sx($0), sy($1)) }
        let lower = zip(s.x, low).map { Point(sx($0), sy($1)) }.reversed()
        c.polygon(upper + lower, colour, alpha: 0.22)
      }
      c.line(zip(s.x, s.y).map { Point(sx($0), sy($1)) }, colour, width: 2)
    }
    if series.count > 1 {
      Legend(entries: series.map { ($0.name, palette.colour($0.name)) }).draw(c, x: a.maxX + 20, y: a.y)
    }
  }

  /// The data behind the figure: one line per point of every series.
  public func csv() -> String {
    var lines = ["series,x,y,low,high"]
    for s in series {
      for i in s.x.indices {
        lines.append([s.name, "\(s.x[i])", "\(s.y[i])", s.low.map { "\($0[i])" } ?? "",
                      s.high.map { "\($0[i])" } ?? ""].map(csvField).joined(separator: ","))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
