import Foundation

/// The design of a screen on its plates: one block per layer (the target, the unit of replication, the controls,
/// ...), each with every plate in its real row/column layout and each well filled with its level's colour from the
/// report's `CategoryPalette` (keyed by the layer's covariate, so a level has the colour it has in every other
/// figure), a legend of the levels right of the block, wells without a value grey and wells not on the screen
/// hatched. A reader sees at a glance where the disease wells and the controls sit on each plate.
public struct DesignPlateMap: Figure, Sendable {
  /// One plate: its wells (named like `A01`) with their level in each layer, by layer key.
  public struct Plate: Sendable, Equatable {
    public var name: String
    public var batch: String?
    public var rows: Int
    public var columns: Int
    public var wells: [String: [String: String]]
    public init(name: String, batch: String?, rows: Int, columns: Int, wells: [String: [String: String]]) {
      self.name = name
      self.batch = batch
      self.rows = rows
      self.columns = columns
      self.wells = wells
    }
  }

  /// One colouring: the covariate it reads (`key`, the palette's covariate) and its title ("disease (target)").
  public struct Layer: Sendable, Equatable {
    public var key: String
    public var title: String
    public init(key: String, title: String) {
      self.key = key
      self.title = title
    }
  }

  public let title: String
  public let plates: [Plate]
  public let layers: [Layer]
  public let palette: CategoryPalette
  public let wellSize: Int
  let labelWidth: Int
  let everyColumnNumber: Bool
  let legendWidth: Double
  /// Each layer's legend, and the top of each layer's block (its title line) then the bottom of the last.
  let legends: [Legend]
  let layerTops: [Int]
  let perRow: Int
  let slotWidth: Int
  let plateRowHeight: Int
  public let width: Int
  public let height: Int
  static let margin = 10
  static let header = 36
  static let layerTitle = 22
  static let plateTitle = 18
  static let numbers = 13
  static let gap = 16
  static let legendEntries = 14

  /// Throws when there is no plate or no layer, or a well is not on its plate.
  public init(title: String, plates: [Plate], layers: [Layer], palette: CategoryPalette) throws {
    guard !plates.isEmpty, !layers.isEmpty else {
      throw PlateMapError(
        "DesignPlateMap: \(plates.count) plates and \(layers.count) layers; need at least one of each")
    }
    for plate in plates {
      for well in plate.wells.keys {
        guard let (r, c) = PlateMapPanel.position(of: well), r < plate.rows, c < plate.columns else {
          throw PlateMapError("DesignPlateMap: well '\(well)' is not on plate '\(plate.name)' of \(plate.rows) x "
                                + "\(plate.columns) wells; name wells like A01")
        }
      }
    }
    self.title = title
    self.plates = plates
    self.layers = layers
    var colours = palette
    for layer in layers { colours = colours.adding(covariate: layer.key, levels: Self.levels(plates, layer.key)) }
    self.palette = colours
    let largest = plates.map { $0.rows * $0.columns }.max()!
    wellSize = largest > 384 ? 7 : largest > 96 ? 13 : 22
    let m = Canvas.measuring()
    labelWidth = Int(m.measure(plates.contains { $0.rows > 26 } ? "AF" : "W", size: 10).width.rounded(.up)) + 6
    everyColumnNumber = m.measure("48", size: 9).width + 2 < Double(wellSize)
    legends = layers.map { Self.legend(plates, $0, palette: colours) }
    legendWidth = legends.map { $0.width(m) }.max() ?? 0
    perRow = min(3, plates.count)
    slotWidth = labelWidth + plates.map(\.columns).max()! * wellSize
    plateRowHeight = Self.plateTitle + Self.numbers + plates.map(\.rows).max()! * wellSize + Self.gap
    let block = (plates.count + perRow - 1) / perRow * plateRowHeight
    var tops = [Self.header]
    for legend in legends {
      // The legend starts level with the first well row, under the plate titles and column numbers.
      let legendHeight = Self.plateTitle + Self.numbers + Int(legend.height.rounded(.up)) + Self.gap
      tops.append(tops.last! + Self.layerTitle + max(block, legendHeight))
    }
    layerTops = tops
    width = Int((Double(Self.margin + perRow * (slotWidth + Self.gap)) + legendWidth).rounded(.up)) + Self.margin
    height = tops.last! + Self.margin
  }

  /// The levels of `key` on the plates, in natural order, without missing labels.
  static func levels(_ plates: [Plate], _ key: String) -> [String] {
    let all = Set(plates.flatMap { $0.wells.values.compactMap { $0[key] } })
    return all.filter { !ScatterPlot.isMissingLabel($0) }.sorted(by: naturalOrder)
  }

  /// The colour of a well in a layer: its level's, grey without one.
  public func colour(_ level: String?, layer: Layer) -> RGB { palette.colour(level ?? "", covariate: layer.key) }

  static func legend(_ plates: [Plate], _ layer: Layer, palette: CategoryPalette) -> Legend {
    let levels = Self.levels(plates, layer.key)
    var entries = levels.prefix(Self.legendEntries).map { ($0, palette.colour($0, covariate: layer.key)) }
    if plates.contains(where: { $0.wells.values.contains { ScatterPlot.isMissingLabel($0[layer.key] ?? "") } }) {
      entries.append(("no value", CategoryPalette.missing))
    }
    return Legend(entries: entries, more: max(0, levels.count - Self.legendEntries), maxWidth: 200)
  }


  /// Top-left pixel of plate p's first well (A01) in layer l.
  public func origin(layer l: Int, plate p: Int) -> (x: Int, y: Int) {
    let x = Self.margin + (p % perRow) * (slotWidth + Self.gap) + labelWidth
    let y = layerTops[l] + Self.layerTitle + (p / perRow) * plateRowHeight + Self.plateTitle + Self.numbers
    return (x, y)
  }

  /// The rectangle of a well (0-based row and column) of plate p in layer l.
  public func well(layer l: Int, plate p: Int, row: Int, column: Int) -> PixelRect {
    let o = origin(layer: l, plate: p)
    return PixelRect(x: o.x + column * wellSize, y: o.y + row * wellSize, width: wellSize - 1, height: wellSize - 1)
  }

  var legendX: Double { Double(Self.margin + perRow * (slotWidth + Self.gap)) }
  public var caption: String { title }

  public func draw(on c: Canvas) {
    c.page(width: width, height: height, title: title)
    let tops = layerTops
    for (l, layer) in layers.enumerated() {
      c.text(c.fitted(layer.title, size: FigureStyle.label, width: Double(width - 2 * Self.margin), bold: true),
             x: Double(Self.margin), y: Double(tops[l]) + FigureStyle.label + 2, size: FigureStyle.label, bold: true)
      for (p, plate) in plates.enumerated() {
        let o = origin(layer: l, plate: p)
        let slot = (x: o.x - labelWidth, width: slotWidth)
        PlateMap.drawLabels(c, title: "Plate \(plate.name)" + (plate.batch.map { " · batch \($0)" } ?? ""),
                            rows: plate.rows, columns: plate.columns,
                            titleTop: Double(o.y - Self.numbers - Self.plateTitle), slot: slot, origin: o,
                            wellSize: wellSize, everyColumnNumber: everyColumnNumber)
        for r in 0..<plate.rows {
          for col in 0..<plate.columns {
            let rect = well(layer: l, plate: p, row: r, column: col).rect
            if let well = plate.wells[PlateMapPanel.wellName(row: r, column: col)] {
              c.fill(rect, colour(well[layer.key], layer: layer))
            } else {
              c.hatch(rect, base: PlateMap.missing, line: PlateMap.missingHatch)
            }
          }
        }
      }
      legends[l].draw(c, x: legendX, y: Double(tops[l] + Self.layerTitle + Self.plateTitle + Self.numbers))
    }
  }

  /// The data behind the figure: one line per well on the screen, with its level in every layer.
  public func csv() -> String {
    var lines = [(["plate", "batch", "well"] + layers.map(\.key)).map(csvField).joined(separator: ",")]
    for plate in plates {
      for name in plate.wells.keys.sorted(by: { PlateMapPanel.position(of: $0)! < PlateMapPanel.position(of: $1)! }) {
        let well = plate.wells[name]!
        lines.append(([plate.name, plate.batch ?? "", name] + layers.map { well[$0.key] ?? "" })
          .map(csvField).joined(separator: ","))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
