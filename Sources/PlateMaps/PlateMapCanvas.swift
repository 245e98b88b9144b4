import ConfoundImaging

/// An RGB raster being drawn into: 8-bit samples, row-major, white to start.
struct PlateMapCanvas {
  let width: Int
  let height: Int
  /// Planar, as `ConfoundImaging.Image` stores them: all red, then all green, then all blue.
  var samples: [Float]

  init(width: Int, height: Int) {
    self.width = width
    self.height = height
    samples = [Float](repeating: 255, count: 3 * width * height)
  }

  mutating func set(_ x: Int, _ y: Int, _ c: RGB) {
    guard x >= 0, y >= 0, x < width, y < height else { return }
    let i = y * width + x
    let n = width * height
    samples[i] = Float(c.r)
    samples[n + i] = Float(c.g)
    samples[2 * n + i] = Float(c.b)
  }

  mutating func fill(_ r: PixelRect, _ c: RGB) {
    for y in r.y..<(r.y + r.height) { for x in r.x..<(r.x + r.width) { set(x, y, c) } }
  }

  /// Fills `r` with diagonal stripes: `line` where (x + y) mod 6 < 2, else `base` (the missing-data hatch).
  mutating func hatch(_ r: PixelRect, base: RGB, line: RGB) {
    for y in r.y..<(r.y + r.height) {
      for x in r.x..<(r.x + r.width) { set(x, y, (x + y) % 6 < 2 ? line : base) }
    }
  }

  /// Draws `text` with its top-left corner at (x, y) in the built-in font.
  mutating func text(_ text: String, x: Int, y: Int, scale: Int, colour: RGB = RGB(0, 0, 0)) {
    for (k, character) in text.enumerated() {
      for (row, bits) in PlateMapFont.rows(character).enumerated() {
        for column in 0..<3 where bits & (4 >> column) != 0 {
          let left = x + (4 * k + column) * scale
          fill(PixelRect(x: left, y: y + row * scale, width: scale, height: scale), colour)
        }
      }
    }
  }

  /// The canvas as a 3-channel image of 0...255 samples, ready for `writePNG`.
  var image: Image {
    Image(channels: 3, height: height, width: width, pixels: samples, bitsPerSample: 8, sampleFormat: .unsignedInteger)
  }
}
