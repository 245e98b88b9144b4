import CCairo
import ConfoundImaging
import Foundation

/// A figure: a size fixed by its layout and one drawing routine that every output format runs (Cairo's image
/// surface for PNG, its SVG and PDF surfaces), so the formats cannot drift apart.
public protocol Figure {
  /// Width and height in pixels (SVG user units, PDF points).
  var width: Int { get }
  var height: Int { get }
  /// A one-line description, the SVG's `<title>` and the PDF's title.
  var caption: String { get }
  /// Draws the whole figure, white background included.
  func draw(on canvas: Canvas)
  /// The data behind the figure as CSV (header line first), to keep beside it.
  func csv() -> String
}

/// A figure drawn to pixels: the raster and the text boxes its drawing recorded.
public struct RasterFigure {
  /// 3 channels, 0...255, planar, as `ConfoundImaging.Image` stores them (`writePNG`-ready).
  public let image: Image
  /// The PNG file's bytes as Cairo wrote them.
  public let png: Data
  public let textBoxes: [TextBox]
}

/// A figure failed to render (Cairo reported an error status).
public struct FigureError: Error, CustomStringConvertible {
  public let description: String
}

extension Figure {
  /// Draws on an RGB image surface; returns the raster, its PNG bytes and the text layout.
  public func raster() throws -> RasterFigure {
    // Read once: a figure's size may be computed, and the pixel loop below reads it for every pixel.
    let (width, height) = (width, height)
    guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)) else {
      throw FigureError(description: "\(caption): Cairo cannot make a \(width) x \(height) image")
    }
    defer { cairo_surface_destroy(surface) }
    let canvas = Canvas(surface: surface)
    draw(on: canvas)
    cairo_surface_flush(surface)
    let status = cairo_surface_status(surface)
    guard status == CAIRO_STATUS_SUCCESS else {
      throw FigureError(description: "\(caption): \(String(cString: cairo_status_to_string(status)))")
    }
    let stride = Int(cairo_image_surface_get_stride(surface))
    let data = cairo_image_surface_get_data(surface)!
    let n = width * height
    var planes = [Float](repeating: 0, count: 3 * n)
    for y in 0..<height {
      let row = UnsafeRawPointer(data.advanced(by: y * stride)).assumingMemoryBound(to: UInt32.self)
      for x in 0..<width {
        let pixel = row[x]
        planes[y * width + x] = Float((pixel >> 16) & 0xff)
        planes[n + y * width + x] = Float((pixel >> 8) & 0xff)
        planes[2 * n + y * width + x] = Float(pixel & 0xff)
      }
    }
    let image = Image(channels: 3, height: height, width: width, pixels: planes, bitsPerSample: 8,
                      sampleFormat: .unsignedInteger)
    let sink = ByteSink()
    let written = cairo_surface_write_to_png_stream(surface, ByteSink.write, Unmanaged.passUnretained(sink).toOpaque())
    guard written == CAIRO_STATUS_SUCCESS else {
      throw FigureError(description: "\(caption): PNG: \(String(cString: cairo_status_to_string(written)))")
    }
    return RasterFigure(image: image, png: sink.data, textBoxes: canvas.textBoxes)
  }

  /// The figure as an SVG document (text drawn as glyph outlines in DejaVu Sans), with a `<title>` and a `<desc>`
  /// listing its texts, so the file stays searchable.
  public func svg() throws -> String {
    let sink = ByteSink()
    let surface = cairo_svg_surface_create_for_stream(
      ByteSink.write, Unmanaged.passUnretained(sink).toOpaque(), Double(width), Double(height))!
    cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX)
    let texts = try drawFinishing(surface)
    var text = String(decoding: sink.data, as: UTF8.self)
    if let open = text.range(of: "<svg"), let end = text.range(of: ">", range: open.upperBound..<text.endIndex) {
      let desc = texts.map(\.text).joined(separator: "\n")
      text.insert(contentsOf: "\n<title>\(xmlEscape(caption))</title>\n<desc>\(xmlEscape(desc))</desc>",
                  at: end.upperBound)
    }
    return text
  }

  /// The figure as a one-page PDF.
  public func pdf() throws -> Data {
    let sink = ByteSink()
    let surface = cairo_pdf_surface_create_for_stream(
      ByteSink.write, Unmanaged.passUnretained(sink).toOpaque(), Double(width), Double(height))!
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, caption)
    _ = try drawFinishing(surface)
    return sink.data
  }

  /// Text boxes of the figure's layout, from a drawing on a recording surface that writes nowhere.
  public func textBoxes() throws -> [TextBox] {
    try drawFinishing(cairo_recording_surface_create(CAIRO_CONTENT_COLOR, nil)!)
  }

  /// Draws on `surface`, finishes and releases it; returns the text boxes drawn.
  private func drawFinishing(_ surface: OpaquePointer) throws -> [TextBox] {
    defer { cairo_surface_destroy(surface) }
    let boxes: [TextBox] = {
      let canvas = Canvas(surface: surface)
      draw(on: canvas)
      return canvas.textBoxes
    }()
    cairo_surface_finish(surface)
    let status = cairo_surface_status(surface)
    guard status == CAIRO_STATUS_SUCCESS else {
      throw FigureError(description: "\(caption): \(String(cString: cairo_status_to_string(status)))")
    }
    return boxes
  }
}

/// Collects the bytes a Cairo stream surface writes.
final class ByteSink {
  var data = Data()
  static let write: cairo_write_func_t = { closure, bytes, length in
    let sink = Unmanaged<ByteSink>.fromOpaque(closure!).takeUnretainedValue()
    sink.data.append(bytes!, count: Int(length))
    return CAIRO_STATUS_SUCCESS
  }
}

/// Pairs of text boxes that share an area: empty for a good layout.
public func overlappingTexts(_ boxes: [TextBox]) -> [(TextBox, TextBox)] {
  let drawn = boxes.filter { !$0.text.isEmpty }
  var out: [(TextBox, TextBox)] = []
  for i in drawn.indices {
    for j in drawn.indices where j > i && drawn[i].rect.overlaps(drawn[j].rect) { out.append((drawn[i], drawn[j])) }
  }
  return out
}

/// XML-escapes text and attribute content.
func xmlEscape(_ t: String) -> String {
  t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
