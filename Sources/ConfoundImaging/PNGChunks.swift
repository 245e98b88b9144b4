/// What the PNG header and palette say, read directly from the chunk list, plus a copy of the file without the
/// colour-space chunks.
///
/// libpng's simplified API converts samples when a file declares a gamma or colour space that differs from the
/// one it assumes (sRGB for 8-bit, linear for 16-bit). Microscopy files store measurements, not colours, and the
/// reference readers (tifffile, PIL, scikit-image) return the stored numbers, so those chunks are dropped before
/// decoding; every other chunk, and so every CRC, is kept unchanged.
struct PNGChunks {
  /// IHDR bit depth (1, 2, 4, 8 or 16).
  var bitDepth = 0
  /// IHDR colour type: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA.
  var colorType = 0
  /// PLTE entries as (r, g, b) triples, empty when absent.
  var palette: [UInt8] = []
  /// Whether a tRNS chunk (transparency, which becomes an alpha channel) is present.
  var hasTransparency = false
  /// The file with gAMA, sRGB, iCCP and cHRM removed; the original bytes past any damaged chunk header.
  var decodable: [UInt8] = []

  private static let colourSpaceChunks: Set<String> = ["gAMA", "sRGB", "iCCP", "cHRM"]

  init(_ bytes: [UInt8]) {
    decodable.reserveCapacity(bytes.count)
    decodable.append(contentsOf: bytes.prefix(8))
    var offset = 8
    while offset + 8 <= bytes.count {
      let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
      let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
      let end = offset + 12 + length
      // A chunk running past the end of file: hand the rest to libpng, which reports the damage.
      guard length >= 0, end <= bytes.count else { break }
      let body = bytes[offset + 8..<offset + 8 + length]
      switch type {
      case "IHDR" where length >= 13:
        bitDepth = Int(body[body.startIndex + 8])
        colorType = Int(body[body.startIndex + 9])
      case "PLTE": palette = Array(body)
      case "tRNS": hasTransparency = true
      default: break
      }
      if !Self.colourSpaceChunks.contains(type) { decodable.append(contentsOf: bytes[offset..<end]) }
      offset = end
      if type == "IEND" { return }
    }
    decodable.append(contentsOf: bytes[offset...])
  }

  /// A palette image whose entries are all grey and opaque: decoded as one grey channel.
  var isGreyPalette: Bool {
    guard colorType == 3, !hasTransparency, !palette.isEmpty else { return false }
    let entries = palette.count / 3
    return (0..<entries).allSatisfy { (entry: Int) -> Bool in
      let red = palette[3 * entry]
      return red == palette[3 * entry + 1] && red == palette[3 * entry + 2]
    }
  }
}
