import ConfoundImaging

/// A figure of one 2-D projection (PCA or t-SNE) drawn once per covariate, each panel coloured by that covariate:
/// categories from a colour-blind-safe palette with a legend, numbers on the viridis scale with a colour bar (the
/// paper's Figure 3). Rendered as an RGB raster (for `writePNG`) and as SVG with one `<g class="panel">` per panel
/// and one `<circle>` per point.
public struct ScatterPlot: Sendable {
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

  /// Fails when a panel's colouring does not have one entry per point, or when there is no panel or point.
  public init(x: [Double], y: [Double], panels: [Panel], xLabel: String, yLabel: String, title: String) throws {
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
  }

  /// Tableau's 10-colour palette (distinct for the common forms of colour blindness); more levels reuse viridis.
  static let palette: [RGB] = [
    RGB(0x4e, 0x79, 0xa7), RGB(0xf2, 0x8e, 0x2b), RGB(0xe1, 0x57, 0x59), RGB(0x76, 0xb7, 0xb2), RGB(0x59, 0xa1, 0x4f),
    RGB(0xed, 0xc9, 0x48), RGB(0xb0, 0x7a, 0xa1), RGB(0xff, 0x9d, 0xa7), RGB(0x9c, 0x75, 0x5f), RGB(0xba, 0xb0, 0xac),
  ]
  static let missing = RGB(0xbb, 0xbb, 0xbb)
  /// Legend entries shown before "+N more".
  static let legendEntries = 14

  /// Colour of every point in a panel, with the legend: (label, colour) pairs for categories, or the value range.
  struct Resolved {
    var colours: [RGB]
    var legend: [(String, RGB)]
    var range: ClosedRange<Double>?
    var hiddenLevels: Int
  }

  static func resolve(_ colouring: Colouring) -> Resolved {
    switch colouring {
    case .categorical(let labels):
      let levels = Array(Set(labels.filter { !isMissingLabel($0) })).sorted(by: naturalOrder)
      let colour: [String: RGB] = Dictionary(
        uniqueKeysWithValues: levels.enumerated().map { k, level in
          (level, levels.count <= palette.count ? palette[k] : Viridis.colour(Double(k) / Double(levels.count - 1)))
        })
      var legend = levels.prefix(legendEntries).map { ($0, colour[$0]!) }
      if labels.contains(where: isMissingLabel) { legend.append(("missing", missing)) }
      return Resolved(
        colours: labels.map { colour[$0] ?? missing }, legend: legend, range: nil,
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

  /// Numbers in numeric order ("2" before "10"), other labels alphabetically.
  static func naturalOrder(_ a: String, _ b: String) -> Bool {
    if let p = Double(a), let q = Double(b) { return p < q }
    return a < b
  }

  /// The figure as a raster image and as SVG text.
  public func render() -> (image: Image, svg: String) {
    let layout = ScatterLayout(panels: panels.count)
    let resolved = panels.map { Self.resolve($0.colouring) }
    return (
      ScatterRaster.draw(self, layout: layout, resolved: resolved),
      ScatterSVG.document(self, layout: layout, resolved: resolved)
    )
  }

  /// Plot-area pixel position of each point: the data range with 4% padding, y pointing up.
  func pixels(in area: PixelRect) -> [(x: Double, y: Double)] {
    func span(_ v: [Double]) -> (Double, Double) {
      let f = v.filter(\.isFinite)
      let lo = f.min() ?? 0
      let hi = f.max() ?? 1
      let pad = hi > lo ? (hi - lo) * 0.04 : 1
      return (lo - pad, hi + pad)
    }
    let (x0, x1) = span(x)
    let (y0, y1) = span(y)
    return zip(x, y).map { px, py in
      (
        Double(area.x) + (px - x0) / (x1 - x0) * Double(area.width),
        Double(area.y + area.height) - (py - y0) / (y1 - y0) * Double(area.height)
      )
    }
  }
}

/// Where the panels, plot areas and legends of a scatter figure go: up to three panels a row.
struct ScatterLayout {
  static let plot = 340
  static let margin = 40
  static let legend = 170
  static let titleBar = 30
  let columns: Int
  let rows: Int
  let width: Int
  let height: Int

  init(panels: Int) {
    columns = min(3, panels)
    rows = (panels + 2) / 3
    width = columns * (Self.margin + Self.plot + Self.legend)
    height = Self.titleBar + rows * (Self.margin + Self.plot + Self.margin)
  }

  /// The plot area of panel k.
  func area(_ k: Int) -> PixelRect {
    let left = (k % 3) * (Self.margin + Self.plot + Self.legend) + Self.margin
    let top = Self.titleBar + (k / 3) * (Self.margin + Self.plot + Self.margin) + Self.margin / 2 + 6
    return PixelRect(x: left, y: top, width: Self.plot, height: Self.plot)
  }
}
