import Foundation

/// Saliency over the channels of cell crops (the paper's Figure 6): one row per crop, grouped by class and
/// labelled with its class, predicted probability, unit and site; one column per channel, named above it. Each
/// panel is the channel in grey, stretched to its own 1st-99th percentile, with the saliency map laid over it at
/// `overlayAlpha` on the viridis map. The map's colour scale is ONE scale shared by every panel, over the maps' raw
/// values (never normalised per crop), so that a crop whose map is weak looks weak beside one whose map is strong;
/// the colour bar names it.
public struct SaliencyOverlayPlot: Figure, Sendable {
  /// One crop: its channel planes (raw intensities) and saliency maps, each row-major `height` x `width`.
  public struct Crop: Sendable, Equatable {
    public var className: String
    /// The model's predicted probability, of the class `SaliencyOverlayPlot.probabilityName` names.
    public var probability: Double?
    public var unit: String
    public var site: String
    public var width: Int
    public var height: Int
    /// One plane per channel, in the figure's channel order.
    public var channels: [[Float]]
    /// One map per channel, or a single map drawn over every channel (a GradCAM map is one per crop).
    public var maps: [[Float]]
    public init(className: String, probability: Double?, unit: String, site: String, width: Int, height: Int,
                channels: [[Float]], maps: [[Float]]) {
      self.className = className
      self.probability = probability
      self.unit = unit
      self.site = site
      self.width = width
      self.height = height
      self.channels = channels
      self.maps = maps
    }

    /// The map drawn over channel `c`.
    public func map(_ c: Int) -> [Float] { maps.count == 1 ? maps[0] : maps[c] }
  }

  /// A panel of the layout: the crop (row) and channel (column) it shows and where.
  public struct Panel: Sendable, Equatable {
    public var crop: Int
    public var channel: Int
    public var rect: Rect
  }

  public let title: String
  public let channelNames: [String]
  /// The crops in the order drawn: grouped by class (classes in order of first appearance), stable within a class.
  public let crops: [Crop]
  /// What the row label calls the class ("disease" gives "disease = 1").
  public let className: String
  /// What `Crop.probability` is of ("P(disease = 1)").
  public let probabilityName: String
  /// The colour bar's title.
  public let mapName: String
  public let overlayAlpha: Double
  /// The shared colour scale: from the smaller of 0 and the least map value to the greatest.
  public let range: ClosedRange<Double>
  /// Every panel in drawing order, `crops.count` x `channelNames.count` of them.
  public let panels: [Panel]
  let bar: ColourBar
  let barX: Double
  let barHeight: Double
  let labelWidth: Double
  let size: (width: Int, height: Int)

  static let gap = 6.0
  static let groupGap = 14.0
  static let lineHeight = FigureStyle.tick + 4
  /// The top of the first row of panels, under the title and the channel names.
  static let gridTop = 10 + FigureStyle.title + 14 + FigureStyle.label + 8

  /// Throws naming the crop when a plane's pixel count is not its size, its channels are not the figure's, its maps
  /// are neither one nor one per channel, or crops differ in size.
  public init(title: String, channelNames: [String], crops: [Crop], className: String = "class",
              probabilityName: String = "P", mapName: String = "GradCAM (raw scale)", panelSize: Double = 96,
              overlayAlpha: Double = 0.5) throws {
    guard let first = crops.first, !channelNames.isEmpty else {
      throw PlateMapError("SaliencyOverlayPlot: no crop or no channel; pass at least one of each")
    }
    for (k, crop) in crops.enumerated() {
      let n = crop.width * crop.height
      let name = "crop \(k + 1) (\(crop.className), \(crop.site))"
      guard crop.width == first.width, crop.height == first.height, n > 0 else {
        throw PlateMapError("SaliencyOverlayPlot: \(name) is \(crop.width) x \(crop.height), the first "
                              + "\(first.width) x \(first.height); crops of one figure share their size")
      }
      guard crop.channels.count == channelNames.count, crop.channels.allSatisfy({ $0.count == n }) else {
        throw PlateMapError("SaliencyOverlayPlot: \(name) has \(crop.channels.count) channel planes of "
                              + "\(crop.channels.map(\.count)) pixels; need \(channelNames.count) of \(n)")
      }
      guard [1, channelNames.count].contains(crop.maps.count), crop.maps.allSatisfy({ $0.count == n }) else {
        throw PlateMapError("SaliencyOverlayPlot: \(name) has \(crop.maps.count) maps of \(crop.maps.map(\.count)) "
                              + "pixels; need 1 or \(channelNames.count) of \(n)")
      }
    }
    self.title = title
    self.channelNames = channelNames
    var classes: [String] = []
    for c in crops where !classes.contains(c.className) { classes.append(c.className) }
    self.crops = classes.flatMap { name in crops.filter { $0.className == name } }
    self.className = className
    self.probabilityName = probabilityName
    self.mapName = mapName
    self.overlayAlpha = overlayAlpha
    let values = crops.flatMap { $0.maps.flatMap { $0 } }.filter(\.isFinite).map(Double.init)
    range = min(0, values.min() ?? 0)...(values.max() ?? 0)
    bar = ColourBar(title: mapName, range: range, map: Viridis.colour)
    // Whole screen pixels per crop pixel, about `panelSize` a side, so that crop and map pixels stay square.
    let side = Double(max(first.width, first.height))
    let scale = max(1, (panelSize / side).rounded())
    let (w, h) = (Double(first.width) * scale, Double(first.height) * scale)
    let m = Canvas.measuring()
    let labels = self.crops.flatMap { Self.label($0, className: className, probabilityName: probabilityName) }
    labelWidth = min(220, labels.map { m.measure($0, size: FigureStyle.tick, bold: true).width }.max() ?? 0)
    let rowHeight = max(h, Double(4) * Self.lineHeight)
    var panels: [Panel] = []
    var y = Self.gridTop
    for (row, crop) in self.crops.enumerated() {
      if row > 0 && crop.className != self.crops[row - 1].className { y += Self.groupGap }
      for c in channelNames.indices {
        panels.append(Panel(crop: row, channel: c, rect: Rect(x: 10 + labelWidth + 10 + Double(c) * (w + Self.gap),
                                                              y: y, width: w, height: h)))
      }
      y += rowHeight + Self.gap
    }
    self.panels = panels
    barX = panels.map(\.rect.maxX).max()! + 16
    barHeight = min(180, max(60, y - Self.gap - Self.gridTop - ColourBar.titleHeight))
    size = (Int((barX + bar.width(m) + 10).rounded(.up)),
            Int((max(y, Self.gridTop + ColourBar.titleHeight + barHeight + 8) + 10).rounded(.up)))
  }

  /// The four lines left of a crop's row: class, probability, unit, site.
  static func label(_ crop: Crop, className: String, probabilityName: String) -> [String] {
    [className.isEmpty ? crop.className : "\(className) = \(crop.className)",
     crop.probability.map { "\(probabilityName) = \(formatNumber($0))" } ?? "\(probabilityName) not recorded",
     "unit \(crop.unit)", crop.site]
  }

  public var width: Int { size.width }
  public var height: Int { size.height }
  public var caption: String { title }

  /// Colour of map value `v` on the shared scale (the scale's bottom when it has no span).
  public func colour(_ v: Float) -> RGB {
    let span = range.upperBound - range.lowerBound
    return bar.map(span > 0 ? (Double(v) - range.lowerBound) / span : 0)
  }

  public func draw(on c: Canvas) {
    c.page(width: width, height: height, title: title)
    for (k, name) in channelNames.enumerated() {
      let r = panels[k].rect
      c.text(c.fitted(name, size: FigureStyle.label, width: r.width, bold: true), x: r.x + r.width / 2,
             y: Self.gridTop - 8, size: FigureStyle.label, anchor: .middle, bold: true)
    }
    for panel in panels {
      let crop = crops[panel.crop]
      c.image(greyRGB(percentileStretch(crop.channels[panel.channel])), width: crop.width, height: crop.height,
              in: panel.rect, smooth: false)
      let heat = crop.map(panel.channel).flatMap { v -> [UInt8] in
        let colour = colour(v.isFinite ? v : 0)
        return [colour.r, colour.g, colour.b]
      }
      c.image(heat, width: crop.width, height: crop.height, in: panel.rect, alpha: overlayAlpha, smooth: false)
      guard panel.channel == 0 else { continue }
      for (line, text) in Self.label(crop, className: className, probabilityName: probabilityName).enumerated() {
        c.text(c.fitted(text, size: FigureStyle.tick, width: labelWidth, bold: line == 0), x: 10,
               y: panel.rect.y + FigureStyle.tick + Double(line) * Self.lineHeight, size: FigureStyle.tick,
               bold: line == 0)
      }
    }
    bar.draw(c, x: barX, top: Self.gridTop, height: barHeight)
  }

  /// The data behind the figure: one line per panel, with its crop's label, the channel's stretch and the map's
  /// statistics (the pixels themselves stay in the explanation's JSON).
  public func csv() -> String {
    var lines = ["row,class,probability,unit,site,channel,intensity_p1,intensity_p99,saliency_max,saliency_mean"]
    for p in panels {
      let crop = crops[p.crop]
      let (lo, hi) = percentiles(crop.channels[p.channel])
      let map = crop.map(p.channel)
      let mean = map.reduce(0, +) / Float(max(1, map.count))
      lines.append([String(p.crop + 1), crop.className, crop.probability.map { "\($0)" } ?? "", crop.unit, crop.site,
                    channelNames[p.channel], "\(lo)", "\(hi)", map.max().map { "\($0)" } ?? "", "\(mean)"]
                    .map(csvField).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// The `low` and `high` quantiles of the finite values, interpolated linearly between order statistics (numpy's
/// default `percentile`); (0, 0) when there is none.
public func percentiles(_ values: [Float], low: Double = 0.01, high: Double = 0.99) -> (Float, Float) {
  let sorted = values.filter(\.isFinite).sorted()
  guard !sorted.isEmpty else { return (0, 0) }
  func at(_ q: Double) -> Float {
    let x = q * Double(sorted.count - 1)
    let i = Int(x.rounded(.down))
    let f = Float(x - Double(i))
    return i + 1 < sorted.count ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i]
  }
  return (at(low), at(high))
}

/// `values` mapped so that their `low` quantile is 0 and their `high` quantile 1 (not clamped); all 0 when the two
/// quantiles meet.
public func percentileStretch(_ values: [Float], low: Double = 0.01, high: Double = 0.99) -> [Float] {
  let (lo, hi) = percentiles(values, low: low, high: high)
  return values.map { hi > lo ? ($0 - lo) / (hi - lo) : 0 }
}
