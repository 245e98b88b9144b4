import Foundation

/// Estimates with intervals against baselines, one row per item (the paper's Figures 4, 5 and 7): a probe's score
/// with its 95% interval beside its permuted baseline's band, or the per-fold ROC AUC of each feature set as
/// dots coloured by each fold's composition. Rows are horizontal, so long labels fit on the left.
public struct DotPlot: Figure, Sendable {
  /// One item.
  public struct Row: Sendable, Equatable {
    public var label: String
    public var estimate: Double?
    public var low: Double?
    public var high: Double?
    /// The baseline's centre and band (a permuted score's mean and 2.5-97.5 percentiles, say).
    public var baseline: Double?
    public var baselineLow: Double?
    public var baselineHigh: Double?
    /// Single observations (one per fold), each with a category naming its colour.
    public var points: [Double]
    public var pointCategories: [String]
    public init(label: String, estimate: Double? = nil, low: Double? = nil, high: Double? = nil,
                baseline: Double? = nil, baselineLow: Double? = nil, baselineHigh: Double? = nil,
                points: [Double] = [], pointCategories: [String] = []) {
      self.label = label
      self.estimate = estimate
      self.low = low
      self.high = high
      self.baseline = baseline
      self.baselineLow = baselineLow
      self.baselineHigh = baselineHigh
      self.points = points
      self.pointCategories = pointCategories
    }
  }

  public let title: String
  public let rows: [Row]
  /// The x axis name with its unit ("ROC AUC", "leakage score").
  public let axisLabel: String
  /// A vertical reference line, e.g. chance at 0.5.
  public let reference: Double?
  /// The legend's name for the points' categories ("held-out source lab").
  public let categoryName: String
  public let palette: CategoryPalette
  /// The legend's name for one point without a category ("one fold", "one permutation").
  public let pointName: String
  let labelWidth: Double
  let legendWidth: Double
  let domain: (Double, Double)

  static let plotWidth = 360.0
  static let rowHeight = 26.0
  static let maxLabel = 260.0

  public init(title: String, rows: [Row], axisLabel: String, reference: Double? = nil, categoryName: String = "",
              palette: CategoryPalette? = nil, domain: ClosedRange<Double>? = nil, pointName: String = "one fold") {
    self.title = title
    self.rows = rows
    self.axisLabel = axisLabel
    self.reference = reference
    self.categoryName = categoryName
    self.pointName = pointName
    let categories = rows.flatMap(\.pointCategories)
    self.palette = (palette ?? CategoryPalette()).adding(covariate: categoryName, levels: categories)
    let m = Canvas.measuring()
    labelWidth = min(Self.maxLabel, rows.map { m.measure($0.label, size: FigureStyle.label).width }.max() ?? 0)
    legendWidth = Self.legend(rows, palette: self.palette, name: categoryName, point: pointName).width(m)
    let values = rows.flatMap { r in [r.estimate, r.low, r.high, r.baseline, r.baselineLow, r.baselineHigh]
      .compactMap { $0 } + r.points } + (reference.map { [$0] } ?? [])
    // A given domain widens to every value, so no interval runs off the axis.
    let padded = LinearScale.padded(values, pad: 0.08)
    self.domain = domain.map { (min($0.lowerBound, padded.0), max($0.upperBound, padded.1)) } ?? padded
  }

  static func legend(_ rows: [Row], palette: CategoryPalette, name: String, point: String) -> Legend {
    var entries: [(label: String, colour: RGB)] = []
    if rows.contains(where: { $0.estimate != nil }) { entries.append(("estimate, 95% interval", FigureStyle.ink)) }
    if rows.contains(where: { $0.baseline != nil || $0.baselineLow != nil }) {
      entries.append(("permuted baseline", RGB(0xb8, 0xb8, 0xb8)))
    }
    let levels = Array(Set(rows.flatMap(\.pointCategories)).subtracting([""])).sorted(by: naturalOrder)
    entries += levels.prefix(12).map { ((name.isEmpty ? "" : "\(name): ") + $0, palette.colour($0, covariate: name)) }
    let uncategorised = rows.contains { r in
      r.points.indices.contains { $0 >= r.pointCategories.count || r.pointCategories[$0].isEmpty }
    }
    if uncategorised { entries.append((point, Self.uncategorisedPoint)) }
    return Legend(entries: entries, more: max(0, levels.count - 12), maxWidth: 220)
  }

  var area: Rect {
    Rect(x: 10 + labelWidth + 10, y: 10 + FigureStyle.title + 16, width: Self.plotWidth,
         height: Double(max(1, rows.count)) * Self.rowHeight)
  }

  public var width: Int { Int((area.maxX + 20 + legendWidth + 10).rounded(.up)) }
  public var height: Int {
    Int(max(area.maxY + 14 + FigureStyle.tick + FigureStyle.label + 10,
            area.y + Self.legend(rows, palette: palette, name: categoryName, point: pointName).height + 10).rounded(.up))
  }
  public var caption: String { title }

  public func draw(on c: Canvas) {
    c.page(width: width, height: height, title: title)
    let a = area
    let sx = LinearScale(domain: domain, range: (a.x, a.maxX))
    Axes.draw(c, area: a, x: sx, y: nil, xTicks: niceTicks(domain.0, domain.1, count: 5), yTicks: [],
              xLabel: axisLabel, yLabel: "")
    if let reference {
      c.line([Point(sx(reference), a.y), Point(sx(reference), a.maxY)], FigureStyle.frame, dash: true)
    }
    for (i, row) in rows.enumerated() {
      let y = a.y + (Double(i) + 0.5) * Self.rowHeight
      c.text(c.fitted(row.label, size: FigureStyle.label, width: labelWidth), x: a.x - 8,
             y: y + FigureStyle.label * 0.35, size: FigureStyle.label, anchor: .end)
      if let lo = row.baselineLow, let hi = row.baselineHigh {
        c.fill(Rect(x: sx(lo), y: y - 7, width: max(1, sx(hi) - sx(lo)), height: 14), RGB(0xdd, 0xdd, 0xdd))
      }
      if let b = row.baseline { c.line([Point(sx(b), y - 8), Point(sx(b), y + 8)], RGB(0x99, 0x99, 0x99), width: 2) }
      for (k, v) in row.points.enumerated() where v.isFinite {
        // Folds spread over the row's height in a fixed pattern, so equal scores stay visible.
        let dy = (Double(k % 5) - 2) * 2.5
        let category = k < row.pointCategories.count ? row.pointCategories[k] : ""
        c.circle(Point(sx(v), y + dy), radius: 3.6, pointColour(category), outline: FigureStyle.white)
      }
      if let lo = row.low, let hi = row.high, lo.isFinite, hi.isFinite {
        c.line([Point(sx(lo), y), Point(sx(hi), y)], FigureStyle.ink, width: 1.6)
        for v in [lo, hi] { c.line([Point(sx(v), y - 4), Point(sx(v), y + 4)], FigureStyle.ink, width: 1.6) }
      }
      if let e = row.estimate, e.isFinite { c.circle(Point(sx(e), y), radius: 4.2, FigureStyle.ink) }
    }
    Self.legend(rows, palette: palette, name: categoryName, point: pointName).draw(c, x: a.maxX + 20, y: a.y)
  }

  /// Points of no category (a fold whose composition the run did not record): one colour of their own, never the
  /// permuted baseline's grey.
  static let uncategorisedPoint = RGB(0x44, 0x77, 0xaa)

  func pointColour(_ category: String) -> RGB {
    category.isEmpty ? Self.uncategorisedPoint : palette.colour(category, covariate: categoryName)
  }

  /// The data behind the figure: one line per row (points joined by ';').
  public func csv() -> String {
    var lines = ["label,estimate,low,high,baseline,baseline_low,baseline_high,points,point_categories"]
    func f(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
    for r in rows {
      lines.append([r.label, f(r.estimate), f(r.low), f(r.high), f(r.baseline), f(r.baselineLow), f(r.baselineHigh),
                    r.points.map { "\($0)" }.joined(separator: ";"), r.pointCategories.joined(separator: ";")]
        .map(csvField).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
