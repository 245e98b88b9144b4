import Foundation

/// Partial dependence of a model's predicted probability on single features (the paper's Figure 6): one panel per
/// feature with its own x axis in the feature's units, one y scale shared by the panels (the probability of one
/// class), the average curve drawn thick over a few individual (ICE) curves drawn thin and grey. Up to three panels
/// a row; a key under them says which line is which.
public struct PartialDependencePlot: Figure, Sendable {
  /// One feature's curves; `individual` holds one curve per sample, each with one value per grid point.
  public struct Panel: Sendable, Equatable {
    public var feature: String
    public var xLabel: String
    public var grid: [Double]
    public var average: [Double]
    public var individual: [[Double]]
    public init(feature: String, xLabel: String, grid: [Double], average: [Double], individual: [[Double]] = []) {
      self.feature = feature
      self.xLabel = xLabel
      self.grid = grid
      self.average = average
      self.individual = individual
    }
  }

  public let title: String
  public let panels: [Panel]
  /// The y axis name ("P(disease = healthy)").
  public let yLabel: String
  /// What one individual curve is of ("well"), for the key.
  public let sampleName: String
  let left: Double
  let yDomain: (Double, Double)
  static let plot = (width: 320.0, height: 190.0)
  /// Room under a plot area for tick labels, the axis name and the gap to the next row's panel titles.
  static let below = 76.0
  static let top = 10 + FigureStyle.title + 16 + 18

  /// Throws when there is no panel, a grid is empty, or a curve's length differs from its grid's.
  public init(title: String, panels: [Panel], yLabel: String, sampleName: String = "sample") throws {
    guard !panels.isEmpty else { throw PlateMapError("PartialDependencePlot: no feature; pass at least one panel") }
    for p in panels where p.grid.isEmpty || p.average.count != p.grid.count
      || p.individual.contains(where: { $0.count != p.grid.count })
    {
      throw PlateMapError("PartialDependencePlot: feature '\(p.feature)' has \(p.grid.count) grid points and "
                            + "\(p.average.count) averages (or an individual curve of another length); need "
                            + "equal, non-zero")
    }
    self.title = title
    self.panels = panels
    self.yLabel = yLabel
    self.sampleName = sampleName
    let values = panels.flatMap { $0.average + $0.individual.flatMap { $0 } }
    yDomain = LinearScale.padded(values, pad: 0.06)
    left = Axes.leftMargin(Canvas.measuring(), ticks: niceTicks(yDomain.0, yDomain.1, count: 4))
  }

  var columns: Int { min(3, panels.count) }
  var rows: Int { (panels.count + 2) / 3 }
  var slot: Double { left + Self.plot.width + 24 }

  /// The plot area of panel k.
  public func area(_ k: Int) -> Rect {
    Rect(x: 10 + Double(k % 3) * slot + left, y: Self.top + Double(k / 3) * (Self.plot.height + Self.below),
         width: Self.plot.width, height: Self.plot.height)
  }

  public var width: Int { Int((10 + Double(columns) * slot).rounded(.up)) + 10 }
  public var height: Int { Int((Self.top + Double(rows) * (Self.plot.height + Self.below) + 6).rounded(.up)) }
  public var caption: String { title }

  /// The colour of the average curve, and of the individual ones.
  static let averageColour = CategoryPalette.colours[0]
  static let individualColour = RGB(0xa8, 0xa8, 0xa8)

  public func draw(on c: Canvas) {
    c.page(width: width, height: height, title: title)
    for (k, panel) in panels.enumerated() {
      let a = area(k)
      let xd = LinearScale.padded(panel.grid, pad: 0.02)
      let sx = LinearScale(domain: xd, range: (a.x, a.maxX))
      let sy = LinearScale(domain: yDomain, range: (a.maxY, a.y))
      // The feature's name may use the slot's whole width, tick labels' room included.
      c.text(c.fitted(panel.feature, size: FigureStyle.label, width: slot - 24, bold: true), x: a.x - left + 10,
             y: a.y - 8, size: FigureStyle.label, bold: true)
      Axes.draw(c, area: a, x: sx, y: sy, xTicks: niceTicks(xd.0, xd.1, count: 4),
                yTicks: niceTicks(yDomain.0, yDomain.1, count: 4), xLabel: panel.xLabel, yLabel: yLabel)
      for curve in panel.individual {
        c.line(zip(panel.grid, curve).map { Point(sx($0), sy($1)) }, Self.individualColour, width: 0.8, alpha: 0.8)
      }
      c.line(zip(panel.grid, panel.average).map { Point(sx($0), sy($1)) }, Self.averageColour, width: 2.4)
    }
    // The key, under the last row: which line is which.
    let y = Self.top + Double(rows) * (Self.plot.height + Self.below) - 14
    var x = 10 + left
    let entries = [("average over the \(sampleName)s", Self.averageColour, 2.4)]
      + (panels.contains { !$0.individual.isEmpty } ? [("one \(sampleName) (ICE)", Self.individualColour, 1.0)] : [])
    for (name, colour, lineWidth) in entries {
      c.line([Point(x, y - 4), Point(x + 22, y - 4)], colour, width: lineWidth)
      let box = c.text(name, x: x + 28, y: y, size: FigureStyle.tick)
      x = box.rect.maxX + 18
    }
  }

  /// The data behind the figure: one line per grid point of each feature: the average, then each individual curve.
  public func csv() -> String {
    let most = panels.map(\.individual.count).max() ?? 0
    var lines = [(["feature", "x", "average"] + (0..<most).map { "individual_\($0 + 1)" }).joined(separator: ",")]
    for p in panels {
      for i in p.grid.indices {
        let ice = (0..<most).map { j in j < p.individual.count ? "\(p.individual[j][i])" : "" }
        lines.append(([p.feature, "\(p.grid[i])", "\(p.average[i])"] + ice).map(csvField).joined(separator: ","))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
