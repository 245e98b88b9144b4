import Foundation

/// Pieces shared by the figures: number labels, axis ticks, a linear scale, the colour bar, the categorical
/// legend. Sizes are in pixels at the figures' one type scale.
enum FigureStyle {
  static let title = 15.0
  static let label = 12.0
  static let tick = 10.5
  static let ink = RGB(0x22, 0x22, 0x22)
  static let grid = RGB(0xe4, 0xe4, 0xe4)
  static let frame = RGB(0x66, 0x66, 0x66)
  static let white = RGB(255, 255, 255)
}

extension Canvas {
  /// A white page with the figure's title, in bold and cut to the page, across its top.
  func page(width: Int, height: Int, title: String, margin: Double = 10) {
    fill(Rect(x: 0, y: 0, width: Double(width), height: Double(height)), FigureStyle.white)
    text(fitted(title, size: FigureStyle.title, width: Double(width) - 2 * margin, bold: true), x: margin,
         y: margin + FigureStyle.title, size: FigureStyle.title, bold: true)
  }
}

/// Number formatting for labels: up to 4 significant digits, without exponent for ordinary magnitudes.
public func formatNumber(_ v: Double) -> String {
  if v == 0 { return "0" }
  if !v.isFinite { return v.isNaN ? "NA" : (v > 0 ? "∞" : "-∞") }
  let magnitude = abs(v)
  if magnitude >= 1e5 || magnitude < 1e-3 { return String(format: "%.3e", v) }
  let decimals = max(0, 3 - Int(magnitude.rounded(.down) == 0 ? -1 : log10(magnitude).rounded(.down)))
  var text = String(format: "%.\(decimals)f", v)
  if text.contains(".") {
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
  }
  return text
}

/// "Nice" tick values (1, 2 or 5 times a power of ten apart) covering `low...high`, about `count` of them.
func niceTicks(_ low: Double, _ high: Double, count: Int = 5) -> [Double] {
  guard low.isFinite, high.isFinite, high > low else { return low.isFinite ? [low] : [] }
  let raw = (high - low) / Double(max(1, count))
  let power = pow(10, (log10(raw)).rounded(.down))
  let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
  var ticks: [Double] = []
  var t = (low / step).rounded(.up) * step
  while t <= high + step * 1e-9 {
    ticks.append(abs(t) < step * 1e-9 ? 0 : t)
    t += step
  }
  return ticks
}

/// A linear map from data to pixels.
struct LinearScale {
  let domain: (Double, Double)
  let range: (Double, Double)
  func callAsFunction(_ v: Double) -> Double {
    let span = domain.1 - domain.0
    return range.0 + (span == 0 ? 0.5 : (v - domain.0) / span) * (range.1 - range.0)
  }

  /// The finite values' range with `pad` of its span on either side (1 either side when it is a single value).
  static func padded(_ values: [Double], pad: Double = 0.04) -> (Double, Double) {
    let f = values.filter(\.isFinite)
    let lo = f.min() ?? 0
    let hi = f.max() ?? 1
    let p = hi > lo ? (hi - lo) * pad : 1
    return (lo - p, hi + p)
  }
}

/// A vertical colour bar: its title above, the gradient, tick labels to its right. `map` takes t in [0, 1].
struct ColourBar {
  static let barWidth = 14.0
  let title: String
  let range: ClosedRange<Double>
  let map: (Double) -> RGB

  /// Width the bar needs with its labels, and the title's width (the title may be wider than the bar).
  func width(_ m: Canvas) -> Double {
    let labels = ticks().map { m.measure(formatNumber($0), size: FigureStyle.tick).width }.max() ?? 0
    return max(Self.barWidth + 6 + labels, m.measure(title, size: FigureStyle.label).width)
  }

  func ticks() -> [Double] {
    var t = niceTicks(range.lowerBound, range.upperBound, count: 5)
    if range.lowerBound == range.upperBound { t = [range.lowerBound] }
    return t
  }

  /// Draws the bar with its title's baseline at `top + label size`, the gradient `height` tall below it.
  func draw(_ c: Canvas, x: Double, top: Double, height: Double) {
    c.text(title, x: x, y: top + FigureStyle.label, size: FigureStyle.label)
    let y0 = top + Self.titleHeight
    let steps = max(2, Int(height))
    for k in 0..<steps {
      let t = 1 - Double(k) / Double(steps - 1)
      c.fill(Rect(x: x, y: y0 + Double(k) * height / Double(steps), width: Self.barWidth,
                  height: height / Double(steps)), map(t))
    }
    let scale = LinearScale(domain: (range.lowerBound, range.upperBound), range: (y0 + height, y0))
    var lastTop = -Double.infinity
    for v in ticks() {
      let y = range.lowerBound == range.upperBound ? y0 + height / 2 : scale(v)
      // Ticks are drawn bottom up; one too close to the last is left out instead of overlapping it.
      let baseline = y + FigureStyle.tick * 0.35
      guard lastTop == -Double.infinity || baseline + 3 < lastTop else { continue }
      c.line([Point(x + Self.barWidth, y), Point(x + Self.barWidth + 3, y)], FigureStyle.ink)
      let box = c.text(formatNumber(v), x: x + Self.barWidth + 5, y: baseline, size: FigureStyle.tick)
      lastTop = box.rect.y
    }
  }

  /// Height taken above the gradient by the title (room for its descent and the top tick label's ascent).
  static let titleHeight = FigureStyle.label + 14
}

/// A vertical list of coloured squares with labels; labels wider than `maxWidth` are cut with an ellipsis.
struct Legend {
  static let row = 16.0
  let entries: [(label: String, colour: RGB)]
  var more = 0
  var maxWidth = 180.0

  func width(_ m: Canvas) -> Double {
    let labels = entries.map { m.measure(m.fitted($0.label, size: FigureStyle.tick, width: maxWidth),
                                         size: FigureStyle.tick).width }
    let more = more > 0 ? m.measure("+\(more) more", size: FigureStyle.tick).width : 0
    return 14 + min(maxWidth, max(more, labels.max() ?? 0))
  }

  var height: Double { Double(entries.count + (more > 0 ? 1 : 0)) * Self.row }

  func draw(_ c: Canvas, x: Double, y: Double) {
    for (k, entry) in entries.enumerated() {
      let top = y + Double(k) * Self.row
      c.fill(Rect(x: x, y: top + 2, width: 10, height: 10), entry.colour)
      c.text(c.fitted(entry.label, size: FigureStyle.tick, width: maxWidth), x: x + 14, y: top + 11,
             size: FigureStyle.tick)
    }
    if more > 0 {
      c.text("+\(more) more", x: x + 14, y: y + Double(entries.count) * Self.row + 11, size: FigureStyle.tick)
    }
  }
}
