/// An axis-aligned rectangle in pixels (origin top left, y down), shared by the PNG and SVG renderers.
public struct PixelRect: Sendable, Equatable {
  public let x: Int
  public let y: Int
  public let width: Int
  public let height: Int

  /// The centre pixel.
  public var centre: (x: Int, y: Int) { (x + width / 2, y + height / 2) }
}

/// Where everything of a plate map goes: panels stacked top to bottom, each with a title line, column numbers
/// above and row letters left of the wells; one colour bar right of the first panel.
///
/// Sites are sub-cells of their well in row-major order on a `siteColumns x siteRows` grid (the most square grid
/// that holds the plate's largest site count), so site 1 is top left and site 2 is right of it.
public struct PlateMapLayout: Sendable {
  /// Glyph scale of the bitmap font (each glyph is 3 x 5 cells of this many pixels).
  static let fontScale = 2
  static let lineHeight = 6 * fontScale + 4
  static let margin = 8

  public let wellSize: Int
  public let siteColumns: Int
  public let siteRows: Int
  /// Top-left pixel of each panel's first well (A01).
  public let origins: [(x: Int, y: Int)]
  /// Baseline-free top of each panel's title line.
  public let titleTops: [Int]
  public let colourBar: PixelRect
  public let width: Int
  public let height: Int

  init(panels: [PlateMapPanel]) {
    let largest = panels.map { $0.rows * $0.columns }.max() ?? 96
    wellSize = largest > 384 ? 14 : largest > 96 ? 24 : 40
    let sites = panels.map(\.sitesPerWell).max() ?? 1
    var columns = 1
    while columns * columns < sites { columns += 1 }
    siteColumns = columns
    siteRows = (sites + columns - 1) / columns
    let labelWidth = 3 * 4 * Self.fontScale
    var y = Self.margin
    var origins: [(x: Int, y: Int)] = []
    var titles: [Int] = []
    var widest = 0
    for panel in panels {
      titles.append(y)
      y += 2 * Self.lineHeight  // title, then column numbers
      origins.append((Self.margin + labelWidth, y))
      y += panel.rows * wellSize + Self.lineHeight
      widest = max(widest, panel.columns * wellSize)
    }
    self.origins = origins
    titleTops = titles
    let barTop = origins.first?.y ?? Self.margin
    let barHeight = max(60, (panels.first?.rows ?? 8) * wellSize)
    colourBar = PixelRect(x: Self.margin + labelWidth + widest + 24, y: barTop, width: 16, height: barHeight)
    width = colourBar.x + colourBar.width + 12 * 4 * Self.fontScale
    height = max(y, barTop + barHeight + Self.lineHeight) + Self.margin
  }

  /// The rectangle of a well (0-based row and column) of panel `p`, with a 1-pixel gap on its right and bottom.
  public func well(panel p: Int, row: Int, column: Int) -> PixelRect {
    PixelRect(x: origins[p].x + column * wellSize, y: origins[p].y + row * wellSize,
              width: wellSize - 1, height: wellSize - 1)
  }

  /// The sub-rectangle of site `s` (0-based) within a well rectangle.
  public func site(_ s: Int, in well: PixelRect) -> PixelRect {
    let c = s % siteColumns
    let r = s / siteColumns
    let x0 = well.x + c * well.width / siteColumns
    let x1 = well.x + (c + 1) * well.width / siteColumns
    let y0 = well.y + r * well.height / siteRows
    let y1 = well.y + (r + 1) * well.height / siteRows
    return PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
  }
}
