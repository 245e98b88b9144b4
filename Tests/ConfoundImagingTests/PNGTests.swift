import ConfoundImaging
import Foundation
import TestSupport
import XCTest

/// PNG decoding against files whose samples are known exactly, and against PIL; writing read back by PIL.
final class PNGTests: XCTestCase {
  /// Writes PNGs byte by byte (one zlib stream, filter 0 rows) into argv[1] so every colour type, bit depth and
  /// colour-space chunk is under control; writes their true samples as float32 [C, H, W] to argv[1]/truth.f32
  /// and prints [[name, shape], ...].
  static let writePNGs = """
    import sys, os, json, zlib, struct, numpy as np
    folder, rng, listing = sys.argv[1], np.random.default_rng(11), []
    truth = open(os.path.join(folder, 'truth.f32'), 'wb')
    H, W = 29, 37
    def chunk(kind, body):
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))
    def png(name, stored, colour_type, depth, expected, extra=b''):
        rows = stored.reshape(H, -1).astype('>u2' if depth == 16 else 'u1')
        raw = b''.join(b'\\x00' + row.tobytes() for row in rows)
        body = chunk(b'IHDR', struct.pack('>IIBBBBB', W, H, depth, colour_type, 0, 0, 0)) + extra
        body += chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')
        open(os.path.join(folder, name), 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + body)
        e = expected if expected.ndim == 3 else expected[None]
        truth.write(np.ascontiguousarray(e, dtype=np.float32).tobytes()); listing.append([name, list(e.shape)])
    def samples(depth, channels, opaque=False):
        a = rng.integers(0, 2 ** depth, (H, W, channels))
        if opaque: a[..., -1] = 2 ** depth - 1
        return a
    gamma1 = chunk(b'gAMA', struct.pack('>I', 100000))
    srgb = chunk(b'sRGB', b'\\x00') + chunk(b'gAMA', struct.pack('>I', 45455))
    for depth in (8, 16):
        for ctype, channels, label in ((0, 1, 'grey'), (4, 2, 'ga'), (2, 3, 'rgb'), (6, 4, 'rgba')):
            opaque = depth == 16 and channels in (2, 4)
            a = samples(depth, channels, opaque)
            png(f'{label}{depth}.png', a, ctype, depth, np.moveaxis(a, -1, 0))
            png(f'{label}{depth}-gamma1.png', a, ctype, depth, np.moveaxis(a, -1, 0), gamma1)
            png(f'{label}{depth}-srgb.png', a, ctype, depth, np.moveaxis(a, -1, 0), srgb)
    index = rng.integers(0, 256, (H, W))
    grey = np.repeat(np.arange(256, dtype=np.uint8)[::-1, None], 3, 1)
    png('palette-grey.png', index, 3, 8, grey[index, 0], chunk(b'PLTE', grey.tobytes()))
    colour = rng.integers(0, 256, (256, 3)).astype(np.uint8)
    png('palette-colour.png', index, 3, 8, np.moveaxis(colour[index], -1, 0), chunk(b'PLTE', colour.tobytes()))
    alpha = rng.integers(0, 256, 256).astype(np.uint8)
    rgba = np.concatenate([colour, alpha[:, None]], 1)
    png('palette-alpha.png', index, 3, 8, np.moveaxis(rgba[index], -1, 0),
        chunk(b'PLTE', colour.tobytes()) + chunk(b'tRNS', alpha.tobytes()))
    translucent = samples(16, 4)
    png('rgba16-translucent.png', translucent, 6, 16, np.moveaxis(translucent, -1, 0))
    print(json.dumps(listing))
    """

  /// Reads the generated files' true samples, in listing order.
  private func truths(_ listing: [[Any]], in folder: TemporaryDirectory) throws -> [(String, [Int], [Float])] {
    let truth = try Data(contentsOf: folder.file("truth.f32"))
    var offset = 0
    return listing.map { entry in
      let shape = entry[1] as! [Int]
      let count = shape.reduce(1, *)
      let values = truth.withUnsafeBytes { bytes in
        (0..<count).map { bytes.load(fromByteOffset: (offset + $0) * 4, as: Float.self) }
      }
      offset += count
      return (entry[0] as! String, shape, values)
    }
  }

  func testEveryColourTypeAndDepthGivesTheStoredSamples() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-png")
    let listing = try pythonJSON(Self.writePNGs, [folder.url.path]) as! [[Any]]
    XCTAssertEqual(listing.count, 28)
    for (name, shape, values) in try truths(listing, in: folder) where name != "rgba16-translucent.png" {
      let image = try readImage(folder.file(name))
      assertMatches(image, (shape, values), name)
      XCTAssertEqual(image.nominalRange, name.contains("16") ? 0...65535 : 0...255, name)
    }
  }

  /// libpng premultiplies 16-bit colour by alpha; undoing it loses at most 65535 / (2 alpha) + 1/2 per sample.
  func testSixteenBitTranslucentColourIsRecoveredWithinTheRoundingBound() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-png")
    let listing = try pythonJSON(Self.writePNGs, [folder.url.path]) as! [[Any]]
    let all = try truths(listing, in: folder)
    let name: String = all[all.count - 1].0
    let truth: [Float] = all[all.count - 1].2
    let image = try readPNG(folder.file(name))
    let planeCount = image.planeCount
    XCTAssertEqual(Array(image.plane(3)), Array(truth[(3 * planeCount)..<truth.count]), "alpha is exact")
    for pixel in 0..<planeCount {
      let alpha = truth[3 * planeCount + pixel]
      guard alpha > 0 else { continue }
      let bound = 65535 / (2 * alpha) + 0.5
      for channel in 0..<3 {
        let index = channel * planeCount + pixel
        XCTAssertLessThanOrEqual(abs(image.pixels[index] - truth[index]), bound, "pixel \(pixel) alpha \(alpha)")
      }
    }
  }

  func testAgreesWithPILOnTheFilesPILDecodesNatively() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-png")
    _ = try python(Self.writePNGs, [folder.url.path])
    let names = ["grey8", "grey16", "grey16-gamma1", "ga8-srgb", "rgb8-gamma1", "rgba8", "rgba8-srgb"]
    let urls = names.map { folder.file("\($0).png") }
    for (url, reference) in zip(urls, try referenceImages(urls, scratch: folder)) {
      assertMatches(try readPNG(url), reference, url.lastPathComponent)
    }
  }

  func testWrittenPNGsReadBackByPILAndByUs() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-png")
    let (height, width) = (31, 23)
    func image(channels: Int, top: UInt64) -> Image {
      let pixels = scrambled(channels * height * width, modulo: top + 1, seed: top &* UInt64(channels))
      return Image(channels: channels, height: height, width: width, pixels: pixels)
    }
    let cases: [(String, Image, PNGBitDepth)] = [
      ("grey8", image(channels: 1, top: 255), .eight), ("grey16", image(channels: 1, top: 65535), .sixteen),
      ("ga8", image(channels: 2, top: 255), .eight), ("rgb8", image(channels: 3, top: 255), .eight),
      ("rgba8", image(channels: 4, top: 255), .eight),
    ]
    for (name, picture, depth) in cases { try writePNG(picture, to: folder.file("\(name).png"), bitDepth: depth) }
    let urls = cases.map { folder.file("\($0.0).png") }
    for ((name, picture, _), reference) in zip(cases, try referenceImages(urls, scratch: folder)) {
      assertMatches(picture, reference, "PIL reading our \(name)")
      XCTAssertEqual(try readPNG(folder.file("\(name).png")).pixels, picture.pixels, name)
    }
    let clamped = Image(channels: 1, height: 1, width: 3, pixels: [-4, 12.6, 300])
    try writePNG(clamped, to: folder.file("clamped.png"))
    XCTAssertEqual(try readPNG(folder.file("clamped.png")).pixels, [0, 13, 255])
    XCTAssertThrowsError(try writePNG(image(channels: 3, top: 9), to: folder.file("x.png"), bitDepth: .sixteen))
  }
}

/// `count` values spread over 0..<modulo by Knuth's multiplicative hash of their index: deterministic test pixels
/// that visit most of the range in no simple order.
func scrambled(_ count: Int, modulo: UInt64, seed: UInt64) -> [Float] {
  (0..<UInt64(count)).map { Float((($0 &+ seed) &* 2_654_435_761 >> 7) % modulo) }
}
