import ConfoundImaging
import Foundation

/// A figure of one 2-D projection (PCA or t-SNE) drawn once per covariate, each panel coloured by that covariate:
/// categories from a `CategoryPalette` with a legend, numbers on the viridis scale with a colour bar (the paper's
/// Figure 3). Up to three panels a row; the legend column is as wide as its longest label (cut at 180 pixels).
public struct ScatterPlot: Figure, Sendable {
  /// How one panel colours the points.
  public enum Colouring: Sendable, Equatable {
    /// A label per point; "" or "NA" is drawn grey and listed as missing.
    case categorical([String])
    /// A value per point; NaN is drawn grey.
    case numeric([Double])
  }

  /// One panel: its covariate's name and colouring.
  public struct Panel: Sendable, Equatable {
    public let covariate: String
    public let colouring: Colouring
    public init(covariate: String, colouring: Colouring) {
      self.covariate = covariate
      self.colouring = colouring
    }
  }

  public let x: [Double]
  public let y: [Double]
  public let panels: [Panel]
  /// Axis names, e.g. "t-SNE 1" / "t-SNE 2" or "PC1 (32%)".
  public let xLabel: String
  public let yLabel: String
  public let title: String
  /// Colours of categories; one palette shared by a report's figures keeps a category's colour across them.
  public let palette: CategoryPalette?
  let layout: ScatterLayout

  /// Fails when a panel's colouring does not have one entry per point, or when there is no panel or point.
  public init(x: [Double], y: [Double], panels: [Panel], xLabel: String, yLabel: String, title: String,
              palette: CategoryPalette? = nil) throws {
    guard x.count == y.count, !x.isEmpty else {
      throw PlateMapError("ScatterPlot: \(x.count) x values and \(y.count) y values; need the same, non-zero count")
    }
    guard !panels.isEmpty else { throw PlateMapError("ScatterPlot: no covariate to colour by; pass at least one") }
    for panel in panels {
      let count: Int
      switch panel.colouring {
      case .categorical(let v): count = v.count
      case .numeric(let v): count = v.count
      }
      guard count == x.count else {
        throw PlateMapError("ScatterPlot: covariate '\(panel.covariate)' has \(count) values for \(x.count) points")
      }
    }
    self.x = x
    self.y = y
    self.panels = panels
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.title = title
    self.palette = palette
    let m = Canvas.measuring()
    let resolved = panels.map { Self.resolve($0, palette: palette) }
    let legend = resolved.map { r in
      r.range.map { ColourBar(title: "", range: $0, map: Viridis.colour).width(m) }
        ?? Legend(entries: r.legend, more: r.hiddenLevels).width(m)
    }.max() ?? 0
    let ys = LinearScale.padded(y)
    layout = ScatterLayout(panels: panels.count, legend: legend,
                           left: Axes.leftMargin(m, ticks: niceTicks(ys.0, ys.1, count: 4)))
  }

  static let missing = CategoryPalette.missing
  /// Legend entries shown before "+N more".
  static let legendEntries = 14

  /// Colour of every point in a panel, with the legend: (label, colour) pairs for categories, or the value range.
  struct Resolved {
    var colours: [RGB]
    var legend: [(label: String, colour: RGB)]
    var range: ClosedRange<Double>?
    var hiddenLevels: Int
  }

  static func resolve(_ panel: Panel, palette: CategoryPalette?) -> Resolved {
    switch panel.colouring {
    case .categorical(let labels):
      let levels = Array(Set(labels.filter { !isMissingLabel($0) })).sorted(by: naturalOrder)
      let colours = (palette ?? CategoryPalette()).adding(covariate: panel.covariate, levels: levels)
      let colour = { (level: String) in colours.colour(level, covariate: panel.covariate) }
      var legend = levels.prefix(legendEntries).map { ($0, colour($0)) }
      if labels.contains(where: isMissingLabel) { legend.append(("missing", missing)) }
      return Resolved(colours: labels.map(colour), legend: legend, range: nil,
                      hiddenLevels: max(0, levels.count - legendEntries))
    case .numeric(let values):
      let finite = values.filter(\.isFinite)
      let low = finite.min() ?? 0
      let high = finite.max() ?? 1
      let span = high > low ? high - low : 1
      return Resolved(
        colours: values.map { $0.isFinite ? Viridis.colour(($0 - low) / span) : missing }, legend: [],
        range: low...high, hiddenLevels: 0)
    }
  }

  /// Labels drawn grey and listed as "missing": empty, "NA", "nan".
  public static func isMissingLabel(_ label: String) -> Bool { label.isEmpty || label == "NA" || label == "nan" }

  public var width: Int { layout.width }
  public var height: Int { layout.height }
  public var caption: String { title }

  /// The figure as a raster image and as SVG text.
  public func render() throws -> (image: Image, svg: String) {
    (try raster().image, try svg())
  }

  public func draw(on c: Canvas) {
    c.page(width: width, height: height, title: title)
    let xs = LinearScale.padded(x)
    let ys = LinearScale.padded(y)
    for (k, panel) in panels.enumerated() {
      let area = layout.area(k)
      let resolved = Self.resolve(panel, palette: palette)
      let sx = LinearScale(domain: xs, range: (area.x, area.maxX))
      let sy = LinearScale(domain: ys, range: (area.maxY, area.y))
      c.text(c.fitted(panel.covariate, size: FigureStyle.label, width: area.width, bold: true), x: area.x,
             y: area.y - 8, size: FigureStyle.label, bold: true)
      Axes.draw(c, area: area, x: sx, y: sy, xTicks: niceTicks(xs.0, xs.1, count: 4),
                yTicks: niceTicks(ys.0, ys.1, count: 4), xLabel: xLabel, yLabel: yLabel)
      // Missing values first, so coloured points stay on top.
      let order = x.indices.sorted {
        (resolved.colours[$0] == Self.missing ? 0 : 1, $0) < (resolved.colours[$1] == Self.missing ? 0 : 1, $1)
      }
      for i in order where x[i].isFinite && y[i].isFinite {
        c.circle(Point(sx(x[i]), sy(y[i])), radius: 2.6, resolved.colours[i])
      }
      let legendX = area.maxX + 14
      if let range = resolved.range {
        ColourBar(title: "", range: range, map: Viridis.colour).draw(c, x: legendX, top: area.y - ColourBar.titleHeight,
                                                                    height: 180)
      } else {
        Legend(entries: resolved.legend, more: resolved.hiddenLevels).draw(c, x: legendX, y: area.y)
      }
    }
  }

  /// The data behind the figure: one row per point with every panel's covariate.
  public func csv() -> String {
    var lines = [(["x", "y"] + panels.map(\.covariate)).map(csvField).joined(separator: ",")]
    for i in x.indices {
      let values = panels.map { p -> String in
        switch p.colouring {
        case .categorical(let v): return v[i]
        case .numeric(let v): return v[i].isFinite ? "\(v[i])" : ""
        }
      }
      lines.append((["\(x[i])", "\(y[i])"] + values).map(csvField).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// Where the panels of a scatter figure go: up to three a row, each a square plot area with room for its title
/// above, tick labels and axis names left and below, and the legend column right.
struct ScatterLayout: Sendable {
  static let plot = 300.0
  static let top = 44.0
  static let bottom = 44.0
  let columns: Int
  let rows: Int
  let slot: Double
  let left: Double
  let width: Int
  let height: Int

  init(panels: Int, legend: Double, left: Double) {
    columns = min(3, panels)
    rows = (panels + 2) / 3
    self.left = left
    slot = left + Self.plot + 14 + legend + 20
    width = Int((Double(columns) * slot).rounded(.up)) + 10
    height = Int(Self.top + Double(rows) * (Self.plot + Self.bottom + 30)) + 10
  }

  /// The plot area of panel k.
  func area(_ k: Int) -> Rect {
    Rect(x: 10 + Double(k % 3) * slot + left, y: Self.top + Double(k / 3) * (Self.plot + Self.bottom + 30) + 20,
         width: Self.plot, height: Self.plot)
  }
}
