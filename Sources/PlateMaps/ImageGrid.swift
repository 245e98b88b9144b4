import Foundation

/// Images in a grid with a caption under each: a montage of sites (random, control, worst focus, as PlateViewer
/// shows them) or saliency maps laid over their crops (the paper's Figure 6), the overlay on the viridis map (the
/// diverging map when signed) with a colour bar.
public struct ImageGrid: Figure, Sendable {
  /// One tile: a grey image (values 0...1, row-major), an optional overlay of the same size, and its caption.
  public struct Tile: Sendable, Equatable {
    public var caption: String
    public var width: Int
    public var height: Int
    public var grey: [Float]
    public var overlay: [Float]?
    public init(caption: String, width: Int, height: Int, grey: [Float], overlay: [Float]? = nil) {
      self.caption = caption
      self.width = width
      self.height = height
      self.grey = grey
      self.overlay = overlay
    }
  }

  public let title: String
  public let tiles: [Tile]
  public let columns: Int
  /// Pixels of each tile's longer side on the page.
  public let tileSize: Double
  /// The overlay's name and unit for its colour bar ("saliency, |gradient|").
  public let overlayName: String
  public let signedOverlay: Bool
  public let overlayAlpha: Double
  let bar: ColourBar?
  let barWidth: Double

  /// Throws when a tile's pixel count does not match its size.
  public init(title: String, tiles: [Tile], columns: Int = 4, tileSize: Double = 160, overlayName: String = "",
              signedOverlay: Bool = false, overlayAlpha: Double = 0.5) throws {
    for t in tiles where t.grey.count != t.width * t.height || (t.overlay.map { $0.count != t.grey.count } ?? false) {
      throw PlateMapError("ImageGrid: tile '\(t.caption)' has \(t.grey.count) pixels for \(t.width) x \(t.height)")
    }
    self.title = title
    self.tiles = tiles
    self.columns = max(1, min(columns, tiles.count))
    self.tileSize = tileSize
    self.overlayName = overlayName
    self.signedOverlay = signedOverlay
    self.overlayAlpha = overlayAlpha
    let overlays = tiles.compactMap(\.overlay).flatMap { $0 }.filter(\.isFinite).map(Double.init)
    if overlays.isEmpty {
      bar = nil
    } else {
      var range = (overlays.min()!)...(overlays.max()!)
      if signedOverlay {
        let m = max(abs(range.lowerBound), abs(range.upperBound))
        range = -m...m
      }
      bar = ColourBar(title: overlayName, range: range, map: signedOverlay ? Diverging.colour : Viridis.colour)
    }
    barWidth = bar?.width(Canvas.measuring()) ?? 0
  }

  /// Two caption lines a tile (the caption's first line break splits it).
  static let captionHeight = 32.0
  var rows: Int { (tiles.count + columns - 1) / max(1, columns) }
  var gridTop: Double { 10 + FigureStyle.title + 12 }
  public var width: Int {
    Int((10 + Double(columns) * (tileSize + 10) + (bar == nil ? 0 : 14 + barWidth) + 10).rounded(.up))
  }
  public var height: Int {
    Int(max(gridTop + Double(rows) * (tileSize + Self.captionHeight + 8), gridTop + 220).rounded(.up)) + 10
  }
  public var caption: String { title }

  /// The rectangle tile `k` is drawn in (aspect kept, centred in its cell).
  public func tileRect(_ k: Int) -> Rect {
    let t = tiles[k]
    let scale = tileSize / Double(max(t.width, t.height))
    let w = Double(t.width) * scale
    let h = Double(t.height) * scale
    let x = 10 + Double(k % columns) * (tileSize + 10) + (tileSize - w) / 2
    let y = gridTop + Double(k / columns) * (tileSize + Self.captionHeight + 8) + (tileSize - h) / 2
    return Rect(x: x.rounded(), y: y.rounded(), width: w.rounded(), height: h.rounded())
  }

  public func draw(on c: Canvas) {
    c.page(width: width, height: height, title: title)
    for (k, t) in tiles.enumerated() {
      let r = tileRect(k)
      c.image(greyRGB(t.grey), width: t.width, height: t.height, in: r)
      if let overlay = t.overlay, let bar {
        let span = bar.range.upperBound - bar.range.lowerBound
        let rgb = overlay.flatMap { v -> [UInt8] in
          let colour = bar.map(span > 0 ? (Double(v) - bar.range.lowerBound) / span : 0.5)
          return [colour.r, colour.g, colour.b]
        }
        c.image(rgb, width: t.width, height: t.height, in: r, alpha: overlayAlpha, smooth: false)
      }
      let cellX = 10 + Double(k % columns) * (tileSize + 10)
      let captionY = gridTop + Double(k / columns) * (tileSize + Self.captionHeight + 8) + tileSize + 14
      for (line, text) in t.caption.split(separator: "\n").prefix(2).enumerated() {
        c.text(c.fitted(String(text), size: FigureStyle.tick, width: tileSize), x: cellX + tileSize / 2,
               y: captionY + Double(line) * (FigureStyle.tick + 3), size: FigureStyle.tick, anchor: .middle)
      }
    }
    if let bar {
      bar.draw(c, x: 10 + Double(columns) * (tileSize + 10) + 14, top: gridTop, height: 180)
    }
  }

  /// The data behind the figure: each tile's caption, size and pixel statistics (the pixels stay in the store).
  public func csv() -> String {
    var lines = ["tile,caption,width,height,grey_mean,overlay_min,overlay_max"]
    for (k, t) in tiles.enumerated() {
      let mean = t.grey.reduce(0, +) / Float(max(1, t.grey.count))
      let o = t.overlay ?? []
      lines.append([String(k + 1), t.caption, String(t.width), String(t.height), "\(mean)",
                    o.min().map { "\($0)" } ?? "", o.max().map { "\($0)" } ?? ""].map(csvField).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// Values 0...1 (clamped; not finite is 0) as grey RGB bytes, 3 a pixel.
func greyRGB(_ values: [Float]) -> [UInt8] {
  values.flatMap { v -> [UInt8] in
    let g = UInt8((min(1, max(0, v.isFinite ? v : 0)) * 255).rounded())
    return [g, g, g]
  }
}
