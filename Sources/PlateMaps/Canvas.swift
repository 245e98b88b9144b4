import CCairo
import Foundation

/// A point or size in figure pixels (origin top left, y down).
public struct Point: Sendable, Equatable {
  public var x: Double
  public var y: Double
  public init(_ x: Double, _ y: Double) {
    self.x = x
    self.y = y
  }
}

/// An axis-aligned rectangle in figure pixels.
public struct Rect: Sendable, Equatable, Codable {
  public var x: Double
  public var y: Double
  public var width: Double
  public var height: Double
  public init(x: Double, y: Double, width: Double, height: Double) {
    self.x = x
    self.y = y
    self.width = width
    self.height = height
  }
  public var maxX: Double { x + width }
  public var maxY: Double { y + height }

  /// True when the two rectangles share an area (touching edges do not count).
  public func overlaps(_ other: Rect) -> Bool {
    x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
  }
}

/// One piece of text as drawn: its string and the box it occupies (advance width by the font's ascent + descent,
/// turned with the text when it is rotated). Every figure keeps these, so a test can check no two overlap.
public struct TextBox: Sendable, Equatable, Codable {
  public let text: String
  public let rect: Rect
}

/// How a text's anchor point relates to it horizontally.
public enum TextAnchor: Sendable { case start, middle, end }

/// The one font of every figure: DejaVu Sans (Debian's fonts-dejavu-core), found by fontconfig. Metrics are
/// unhinted, so a text measures the same on the image, SVG and PDF surfaces and the layout holds on each.
enum FigureFont {
  static let family = "DejaVu Sans"
}

/// A drawing context over one Cairo surface (image, SVG or PDF): the primitives the figures use, with text boxes
/// recorded as they are drawn. The same figure code draws on every surface, so PNG, SVG and PDF agree.
public final class Canvas {
  let cr: OpaquePointer
  /// Every text drawn so far, in drawing order.
  public private(set) var textBoxes: [TextBox] = []

  init(surface: OpaquePointer) {
    cr = cairo_create(surface)
    let options = cairo_font_options_create()
    cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
    cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
    cairo_set_font_options(cr, options)
    cairo_font_options_destroy(options)
  }

  deinit { cairo_destroy(cr) }

  /// A canvas that only measures text (a 1 x 1 image surface), for laying a figure out before drawing it.
  static func measuring() -> Canvas {
    let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)!
    defer { cairo_surface_destroy(surface) }
    return Canvas(surface: surface)
  }

  private func font(_ size: Double, bold: Bool) {
    cairo_select_font_face(cr, FigureFont.family, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
    cairo_set_font_size(cr, size)
  }

  /// Width and height (ascent + descent of the font) of `text` at `size` pixels.
  public func measure(_ text: String, size: Double, bold: Bool = false) -> (width: Double, height: Double) {
    font(size, bold: bold)
    var extents = cairo_text_extents_t()
    cairo_text_extents(cr, text, &extents)
    var fontExtents = cairo_font_extents_t()
    cairo_font_extents(cr, &fontExtents)
    return (extents.x_advance, fontExtents.ascent + fontExtents.descent)
  }

  /// `text` cut with an ellipsis to at most `width` pixels at `size`.
  public func fitted(_ text: String, size: Double, width: Double, bold: Bool = false) -> String {
    if measure(text, size: size, bold: bold).width <= width { return text }
    var characters = Array(text)
    while !characters.isEmpty {
      characters.removeLast()
      let candidate = String(characters) + "…"
      if measure(candidate, size: size, bold: bold).width <= width { return candidate }
    }
    return ""
  }

  func setColour(_ c: RGB, alpha: Double = 1) {
    cairo_set_source_rgba(cr, Double(c.r) / 255, Double(c.g) / 255, Double(c.b) / 255, alpha)
  }

  public func fill(_ r: Rect, _ c: RGB, alpha: Double = 1) {
    setColour(c, alpha: alpha)
    cairo_rectangle(cr, r.x, r.y, r.width, r.height)
    cairo_fill(cr)
  }

  /// Fills `r` with `base` and diagonal stripes of `line` 6 pixels apart: the missing-data hatch.
  public func hatch(_ r: Rect, base: RGB, line: RGB) {
    fill(r, base)
    cairo_save(cr)
    cairo_rectangle(cr, r.x, r.y, r.width, r.height)
    cairo_clip(cr)
    // Not anti-aliased: the hatch is two colours only, on every surface.
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE)
    setColour(line)
    cairo_set_line_width(cr, 2)
    var d = -r.height
    while d < r.width {
      cairo_move_to(cr, r.x + d, r.maxY)
      cairo_line_to(cr, r.x + d + r.height, r.y)
      d += 6
    }
    cairo_stroke(cr)
    cairo_restore(cr)
  }

  public func strokeRect(_ r: Rect, _ c: RGB, width: Double = 1) {
    setColour(c)
    cairo_set_line_width(cr, width)
    cairo_rectangle(cr, r.x + 0.5, r.y + 0.5, r.width - 1, r.height - 1)
    cairo_stroke(cr)
  }

  /// A polyline through `points`; `dash` draws it dashed.
  public func line(_ points: [Point], _ c: RGB, width: Double = 1, dash: Bool = false, alpha: Double = 1) {
    guard let first = points.first else { return }
    setColour(c, alpha: alpha)
    cairo_set_line_width(cr, width)
    if dash {
      var pattern: [Double] = [4, 3]
      cairo_set_dash(cr, &pattern, 2, 0)
    }
    cairo_move_to(cr, first.x, first.y)
    for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
    cairo_stroke(cr)
    cairo_set_dash(cr, nil, 0, 0)
  }

  /// A closed polygon filled with `c`.
  public func polygon(_ points: [Point], _ c: RGB, alpha: Double = 1) {
    guard let first = points.first else { return }
    setColour(c, alpha: alpha)
    cairo_move_to(cr, first.x, first.y)
    for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
    cairo_close_path(cr)
    cairo_fill(cr)
  }

  public func circle(_ centre: Point, radius: Double, _ c: RGB, outline: RGB? = nil) {
    setColour(c)
    // A fresh path: an arc would otherwise join the current point (where the last text ended) to its start.
    cairo_new_path(cr)
    cairo_arc(cr, centre.x, centre.y, radius, 0, 2 * Double.pi)
    if let outline {
      cairo_fill_preserve(cr)
      setColour(outline)
      cairo_set_line_width(cr, 0.8)
      cairo_stroke(cr)
    } else {
      cairo_fill(cr)
    }
  }

  /// Draws `text` with its baseline at `y`, anchored at `x`; `rotated` turns it a quarter left (reading upwards,
  /// anchored on its vertical centre line). Returns and records the box it occupies.
  @discardableResult
  public func text(_ text: String, x: Double, y: Double, size: Double, anchor: TextAnchor = .start,
                   bold: Bool = false, colour: RGB = RGB(0x22, 0x22, 0x22), rotated: Bool = false) -> TextBox {
    guard !text.isEmpty else { return TextBox(text: "", rect: Rect(x: x, y: y, width: 0, height: 0)) }
    font(size, bold: bold)
    var fontExtents = cairo_font_extents_t()
    cairo_font_extents(cr, &fontExtents)
    var extents = cairo_text_extents_t()
    cairo_text_extents(cr, text, &extents)
    let width = extents.x_advance
    let shift: Double = anchor == .start ? 0 : anchor == .middle ? -width / 2 : -width
    setColour(colour)
    cairo_save(cr)
    cairo_translate(cr, x, y)
    if rotated { cairo_rotate(cr, -Double.pi / 2) }
    cairo_move_to(cr, shift, 0)
    cairo_show_text(cr, text)
    cairo_new_path(cr)
    cairo_restore(cr)
    let box: Rect
    if rotated {
      // Reading upwards: the advance runs along -y, the ascent towards -x.
      box = Rect(x: x - fontExtents.ascent, y: y - shift - width, width: fontExtents.ascent + fontExtents.descent,
                 height: width)
    } else {
      box = Rect(x: x + shift, y: y - fontExtents.ascent, width: width,
                 height: fontExtents.ascent + fontExtents.descent)
    }
    let recorded = TextBox(text: text, rect: box)
    textBoxes.append(recorded)
    return recorded
  }

  /// Paints an RGB raster (row-major, 3 bytes a pixel) scaled into `r`, with `alpha`; nearest-neighbour scaling
  /// when `smooth` is false, so a heat map's cells stay sharp.
  public func image(_ rgb: [UInt8], width: Int, height: Int, in r: Rect, alpha: Double = 1, smooth: Bool = true) {
    guard width > 0, height > 0, rgb.count == 3 * width * height else { return }
    let stride = Int(cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, Int32(width)))
    guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)) else { return }
    defer { cairo_surface_destroy(surface) }
    cairo_surface_flush(surface)
    let data = cairo_image_surface_get_data(surface)!
    for y in 0..<height {
      let row = data.advanced(by: y * stride).withMemoryRebound(to: UInt32.self, capacity: width) { $0 }
      for x in 0..<width {
        let i = 3 * (y * width + x)
        row[x] = 0xff00_0000 | UInt32(rgb[i]) << 16 | UInt32(rgb[i + 1]) << 8 | UInt32(rgb[i + 2])
      }
    }
    cairo_surface_mark_dirty(surface)
    cairo_save(cr)
    cairo_translate(cr, r.x, r.y)
    cairo_scale(cr, r.width / Double(width), r.height / Double(height))
    cairo_set_source_surface(cr, surface, 0, 0)
    cairo_pattern_set_filter(cairo_get_source(cr), smooth ? CAIRO_FILTER_GOOD : CAIRO_FILTER_NEAREST)
    // Edge pixels extend outwards: a smoothly scaled image does not fade into what is under its border.
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD)
    cairo_rectangle(cr, 0, 0, Double(width), Double(height))
    cairo_clip(cr)
    cairo_paint_with_alpha(cr, alpha)
    cairo_restore(cr)
  }
}
