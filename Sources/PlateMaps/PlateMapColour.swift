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
  public static func colour(_ t: Double) -> RGB {
    let x = t.isNaN ? 0 : min(1, max(0, t)) * Double(anchors.count - 1)
    let i = min(anchors.count - 2, Int(x))
    let f = x - Double(i)
    func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * (1 - f) + Double(b) * f).rounded()) }
    let a = anchors[i]
    let b = anchors[i + 1]
    return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
  }
}
