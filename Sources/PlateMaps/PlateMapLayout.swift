/// An axis-aligned rectangle in whole pixels (origin top left, y down): the cells of a plate map, so a cell's
/// pixels carry exactly its colour.
public struct PixelRect: Sendable, Equatable {
  public let x: Int
  public let y: Int
  public let width: Int
  public let height: Int

  /// The centre pixel.
  public var centre: (x: Int, y: Int) { (x + width / 2, y + height / 2) }
  var rect: Rect { Rect(x: Double(x), y: Double(y), width: Double(width), height: Double(height)) }
}

/// Where everything of a plate map goes, from measured text: the measure's name across the top, then the plates
/// in a grid of slots (up to three a row, two for 384 wells and more), each slot with its title line (cut to the
/// slot's width, so titles never meet), column numbers above and row letters left of the wells; one colour bar
/// with its unit right of the slots, the missing-data key below it.
///
/// Sites are sub-cells of their well in row-major order on a `siteColumns x siteRows` grid (the most square grid
/// that holds the plate's largest site count), so site 1 is top left and site 2 is right of it.
public struct PlateMapLayout: Sendable {
  static let margin = 10
  static let headerHeight = 26
  static let titleHeight = 20
  static let numbersHeight = 14
  static let slotGap = 24

  public let wellSize: Int
  public let siteColumns: Int
  public let siteRows: Int
  /// Top-left pixel of each panel's first well (A01).
  public let origins: [(x: Int, y: Int)]
  /// Top of each panel's slot (its title line).
  public let titleTops: [Int]
  /// Left edge and width of each panel's slot: its title is cut to fit it.
  public let slots: [(x: Int, width: Int)]
  public let colourBar: PixelRect
  public let width: Int
  public let height: Int
  /// Whether every column number fits over its well (else every other one is drawn).
  public let everyColumnNumber: Bool
  /// Width of the row-letter column left of the wells.
  let labelWidth: Int

  init(panels: [PlateMapPanel], barWidth: Double, measuring m: Canvas) {
    let largest = panels.map { $0.rows * $0.columns }.max() ?? 96
    wellSize = largest > 384 ? 14 : largest > 96 ? 24 : 40
    let sites = panels.map(\.sitesPerWell).max() ?? 1
    var columns = 1
    while columns * columns < sites { columns += 1 }
    siteColumns = columns
    siteRows = (sites + columns - 1) / columns
    let rowLetters = panels.contains { $0.rows > 26 } ? "AF" : "W"
    labelWidth = Int(m.measure(rowLetters, size: 10).width.rounded(.up)) + 6
    everyColumnNumber = m.measure("48", size: 9).width + 2 < Double(wellSize)
    let perRow = panels.count <= 1 ? 1 : largest > 96 ? 2 : 3
    let slotWidth = labelWidth + (panels.map(\.columns).max() ?? 12) * wellSize
    var origins: [(x: Int, y: Int)] = []
    var titles: [Int] = []
    var slots: [(x: Int, width: Int)] = []
    var top = Self.margin + Self.headerHeight
    var k = 0
    while k < panels.count {
      let row = panels[k..<min(panels.count, k + perRow)]
      for (j, _) in row.enumerated() {
        let x = Self.margin + j * (slotWidth + Self.slotGap)
        titles.append(top)
        slots.append((x, slotWidth))
        origins.append((x + labelWidth, top + Self.titleHeight + Self.numbersHeight))
      }
      top += Self.titleHeight + Self.numbersHeight + (row.map(\.rows).max() ?? 8) * wellSize + Self.slotGap
      k += perRow
    }
    self.origins = origins
    titleTops = titles
    self.slots = slots
    let slotsRight = Self.margin + min(perRow, panels.count) * (slotWidth + Self.slotGap)
    let barTop = Self.margin + Self.headerHeight
    let barHeight = max(120, min(320, (panels.first?.rows ?? 8) * wellSize))
    colourBar = PixelRect(x: slotsRight, y: barTop + Int(ColourBar.titleHeight), width: Int(ColourBar.barWidth),
                          height: barHeight)
    width = slotsRight + Int(barWidth.rounded(.up)) + Self.margin
    height = max(top - Self.slotGap, colourBar.y + barHeight + 40) + Self.margin
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
