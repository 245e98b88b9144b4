/// An 8-bit sRGB colour.
public struct RGB: Sendable, Equatable, Hashable {
  public let r: UInt8
  public let g: UInt8
  public let b: UInt8

  public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
    self.r = r
    self.g = g
    self.b = b
  }

  /// `#rrggbb`, as SVG takes it.
  public var hex: String {
    "#" + [r, g, b].map { v in String(v, radix: 16).count == 1 ? "0" + String(v, radix: 16) : String(v, radix: 16) }
      .joined()
  }
}

/// The viridis colour map (perceptually uniform, readable in greyscale and by colour-blind readers), linearly
/// interpolated between its ten published anchor colours at t = 0, 1/9, ..., 1.
public enum Viridis {
  static let anchors: [RGB] = [
    RGB(0x44, 0x01, 0x54), RGB(0x48, 0x28, 0x78), RGB(0x3e, 0x49, 0x89), RGB(0x31, 0x68, 0x8e), RGB(0x26, 0x82, 0x8e),
    RGB(0x1f, 0x9e, 0x89), RGB(0x35, 0xb7, 0x79), RGB(0x6e, 0xce, 0x58), RGB(0xb5, 0xde, 0x2b), RGB(0xfd, 0xe7, 0x25),
  ]

  /// The colour at `t` in [0, 1] (clamped; NaN maps to 0): 0 dark purple (low), 1 yellow (high).
  public static func colour(_ t: Double) -> RGB { interpolate(anchors, t.isNaN ? 0 : t) }
}

/// A diverging map for signed values: Moreland's smooth cool-warm (blue below, light grey at the centre, red
/// above; even lightness steps either side of the centre), linearly interpolated between anchors at t = 0, 1/8,
/// ..., 1. Callers map 0 to t = 0.5 with a range symmetric about 0.
public enum Diverging {
  static let anchors: [RGB] = [
    RGB(0x3b, 0x4c, 0xc0), RGB(0x5d, 0x7c, 0xe6), RGB(0x82, 0xa6, 0xfb), RGB(0xaa, 0xc7, 0xfd), RGB(0xdd, 0xdd, 0xdd),
    RGB(0xf7, 0xb8, 0x9c), RGB(0xf3, 0x8a, 0x6f), RGB(0xdc, 0x5a, 0x46), RGB(0xb4, 0x04, 0x26),
  ]

  /// The colour at `t` in [0, 1] (clamped; NaN maps to the centre).
  public static func colour(_ t: Double) -> RGB { interpolate(anchors, t.isNaN ? 0.5 : t) }
}

/// Linear interpolation between evenly spaced anchor colours.
func interpolate(_ anchors: [RGB], _ t: Double) -> RGB {
  let x = min(1, max(0, t.isNaN ? 0 : t)) * Double(anchors.count - 1)
  let i = min(anchors.count - 2, Int(x))
  let f = x - Double(i)
  func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * (1 - f) + Double(b) * f).rounded()) }
  let a = anchors[i]
  let b = anchors[i + 1]
  return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
}

/// Colours of categories keyed by covariate and name, so one category has one colour in every figure of a report:
/// each covariate's levels (given once for the report) take the colour-blind-safe palette in their natural order,
/// beyond 20 levels evenly spaced viridis colours; a name it was not given gets a colour from a hash of the name
/// (FNV-1a), the same in every run.
public struct CategoryPalette: Sendable, Equatable {
  /// Tableau's 10 colours (distinct for the common colour blindnesses), then their lighter partners.
  public static let colours: [RGB] = [
    RGB(0x4e, 0x79, 0xa7), RGB(0xf2, 0x8e, 0x2b), RGB(0xe1, 0x57, 0x59), RGB(0x76, 0xb7, 0xb2), RGB(0x59, 0xa1, 0x4f),
    RGB(0xed, 0xc9, 0x48), RGB(0xb0, 0x7a, 0xa1), RGB(0xff, 0x9d, 0xa7), RGB(0x9c, 0x75, 0x5f), RGB(0xba, 0xb0, 0xac),
    RGB(0xa0, 0xcb, 0xe8), RGB(0xff, 0xbe, 0x7d), RGB(0x8c, 0xd1, 0x7d), RGB(0xb6, 0x99, 0x2d), RGB(0x49, 0x98, 0x94),
    RGB(0x86, 0xbc, 0xb6), RGB(0xd3, 0x72, 0x95), RGB(0xfa, 0xbf, 0xd2), RGB(0xd4, 0xa6, 0xc8), RGB(0x79, 0x70, 0x6e),
  ]
  public static let missing = RGB(0xbb, 0xbb, 0xbb)

  /// Covariate -> level -> colour for the levels given at creation ("" is the covariate of `init(levels:)`).
  public private(set) var assigned: [String: [String: RGB]] = [:]

  /// One anonymous covariate's `levels` (deduplicated, in natural order: "2" before "10"); missing labels stay grey.
  public init(levels: [String] = []) { self = adding(covariate: "", levels: levels) }

  /// Each covariate's levels, coloured independently of the others'.
  public init(covariates: [(name: String, levels: [String])]) {
    for c in covariates { self = adding(covariate: c.name, levels: c.levels) }
  }

  /// This palette with the given colour for each named level of `covariate` (a layer that is not a covariate, such
  /// as the controls of a design, whose colours should not repeat the target's).
  public func fixing(covariate: String, _ colours: [(level: String, colour: RGB)]) -> CategoryPalette {
    var copy = self
    for (level, colour) in colours { copy.assigned[covariate, default: [:]][level] = colour }
    return copy
  }

  /// This palette with `levels` of `covariate` it does not know yet, in natural order, on colours that covariate
  /// does not use yet.
  public func adding(covariate: String, levels: [String]) -> CategoryPalette {
    var copy = self
    var known = assigned[covariate] ?? [:]
    let new = Array(Set(levels.filter { !ScatterPlot.isMissingLabel($0) && known[$0] == nil })).sorted(by: naturalOrder)
    let total = known.count + new.count
    let used = Set(known.values)
    let free = Self.colours.filter { !used.contains($0) }
    for (k, level) in new.enumerated() {
      known[level] = total <= Self.colours.count && k < free.count
        ? free[k] : Viridis.colour(Double(known.count) / Double(max(1, total - 1)))
    }
    copy.assigned[covariate] = known
    return copy
  }

  /// The colour of level `name` of `covariate` (nil: the anonymous covariate, then any covariate's).
  public func colour(_ name: String, covariate: String? = nil) -> RGB {
    if ScatterPlot.isMissingLabel(name) { return Self.missing }
    if let c = assigned[covariate ?? ""]?[name] { return c }
    if covariate == nil, let c = assigned.keys.sorted().lazy.compactMap({ self.assigned[$0]?[name] }).first { return c }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return Self.colours[Int(hash % UInt64(Self.colours.count))]
  }
}

/// Numbers in numeric order ("2" before "10"), other labels alphabetically.
func naturalOrder(_ a: String, _ b: String) -> Bool {
  if let p = Double(a), let q = Double(b) { return p < q }
  return a < b
}
