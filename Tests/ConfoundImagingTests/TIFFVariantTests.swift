import ConfoundImaging
import Foundation
import TestSupport
import XCTest

/// Every TIFF layout the reader claims, written by tifffile and compared value for value with tifffile's reading.
final class TIFFVariantTests: XCTestCase {
  /// Writes the variants into argv[1]; prints their names. Sizes are odd so strips and tiles end part-filled.
  static let writeVariants = """
    import sys, os, json, numpy as np, tifffile
    folder, rng, names = sys.argv[1], np.random.default_rng(7), []
    H, W = 45, 70
    def data(dtype, shape=(H, W)):
        if dtype in ('float32', 'float64'): return rng.normal(100, 50, shape).astype(dtype)
        if dtype in ('uint32', 'int32'):
            return rng.integers(-2**24 if dtype == 'int32' else 0, 2**24, shape).astype(dtype)
        info = np.iinfo(dtype); return rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype)
    def write(name, array, **options):
        tifffile.imwrite(os.path.join(folder, name), array, **options); names.append(name)
    dtypes = ['uint8', 'uint16', 'uint32', 'int8', 'int16', 'int32', 'float32', 'float64']
    for dtype in dtypes:
        for compression in [None, 'lzw', 'zlib', 'packbits']:
            write(f'{dtype}-{compression}-strips.tif', data(dtype), compression=compression, rowsperstrip=7)
        write(f'{dtype}-tiled.tif', data(dtype), compression='zlib', tile=(16, 32))
        write(f'{dtype}-bigendian.tif', data(dtype), byteorder='>', compression='lzw', rowsperstrip=8)
    write('uint16-predictor.tif', data('uint16'), compression='zlib', predictor=True)
    write('float32-predictor.tif', data('float32'), compression='lzw', predictor=True)
    write('uint16-bigendian-tiled.tif', data('uint16'), byteorder='>', tile=(16, 16), compression='packbits')
    with tifffile.TiffWriter(os.path.join(folder, 'multipage-uint16.tif')) as tif:
        for _ in range(3): tif.write(data('uint16'), compression='zlib', contiguous=False)
    names.append('multipage-uint16.tif')
    write('rgb-contig.tif', data('uint8', (H, W, 3)), photometric='rgb', compression='lzw')
    write('rgb-planar.tif', data('uint16', (3, H, W)), photometric='rgb', planarconfig='separate', rowsperstrip=5)
    write('rgb-planar-tiled.tif', data('float32', (3, H, W)), photometric='rgb', planarconfig='separate', tile=(16, 16))
    write('two-samples-contig.tif', data('uint16', (H, W, 2)), photometric='minisblack', planarconfig='contig',
          extrasamples=['unspecified'])
    ramp = np.tile(np.arange(256, dtype=np.uint16) * 257, (3, 1))
    write('palette-grey.tif', data('uint8'), photometric='palette', colormap=ramp, compression='lzw')
    colour = rng.integers(0, 65535, (3, 256), endpoint=True).astype(np.uint16)
    write('palette-colour.tif', data('uint8'), photometric='palette', colormap=colour)
    print(json.dumps(names))
    """

  /// Colour palettes are mapped to three channels of colormap values; the shared dump maps only grey palettes.
  static let colourPalette = """
    import sys, json, numpy as np, tifffile
    with tifffile.TiffFile(sys.argv[1]) as tif:
        a = tif.pages[0].colormap[:, tif.asarray()]
    print(json.dumps([list(a.shape), a.ravel().tolist()]))
    """

  func testEveryVariantMatchesTifffile() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-tiff")
    let names = try pythonJSON(Self.writeVariants, [folder.url.path]) as! [String]
    XCTAssertEqual(names.count, 8 * 6 + 10)
    let greyNames = names.filter { $0 != "palette-colour.tif" }
    let references = try referenceImages(greyNames.map(folder.file), scratch: folder)
    for (name, reference) in zip(greyNames, references) {
      let image = try readTIFF(folder.file(name))
      assertMatches(image, reference, name)
      let expectedBits = name.hasPrefix("palette") ? 8 : Int(name.filter(\.isNumber).prefix(2)) ?? 0
      if name.hasPrefix("uint") || name.hasPrefix("int") || name.hasPrefix("float") {
        XCTAssertEqual(image.bitsPerSample, expectedBits, name)
      }
    }
    let colour = try pythonJSON(Self.colourPalette, [folder.file("palette-colour.tif").path]) as! [Any]
    let image = try readTIFF(folder.file("palette-colour.tif"))
    assertMatches(image, (colour[0] as! [Int], (colour[1] as! [Double]).map(Float.init)), "palette-colour.tif")
    XCTAssertEqual(image.nominalRange, 0...65535)
  }

  func testStorageDescriptionAndNominalRange() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-tiff")
    _ = try python(Self.writeVariants, [folder.url.path])
    let u16 = try readTIFF(folder.file("uint16-lzw-strips.tif"))
    XCTAssertEqual(u16.sampleFormat, .unsignedInteger)
    XCTAssertEqual(u16.nominalRange, 0...65535)
    let i16 = try readTIFF(folder.file("int16-zlib-strips.tif"))
    XCTAssertEqual(i16.sampleFormat, .signedInteger)
    XCTAssertEqual(i16.nominalRange, -32768...32767)
    let f32 = try readTIFF(folder.file("float32-tiled.tif"))
    XCTAssertEqual(f32.sampleFormat, .floatingPoint)
    XCTAssertEqual(f32.nominalRange, f32.pixels.min()!...f32.pixels.max()!)
    let grey = try readTIFF(folder.file("palette-grey.tif"))
    XCTAssertEqual(grey.channels, 1)
    XCTAssertEqual(grey.nominalRange, 0...255)
  }

  func testPagesSelection() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-tiff")
    _ = try python(Self.writeVariants, [folder.url.path])
    let url = folder.file("multipage-uint16.tif")
    let all = try readTIFF(url, pages: .all)
    let pages = try readTIFFPages(url)
    XCTAssertEqual(all.channels, 3)
    XCTAssertEqual(pages.count, 3)
    for (index, page) in pages.enumerated() {
      XCTAssertEqual(page.pixels[...], all.plane(index))
      XCTAssertEqual(try readTIFF(url, pages: .page(index)), page)
    }
    XCTAssertEqual(try readTIFF(url, pages: .first), pages[0])
    XCTAssertThrowsError(try readTIFF(url, pages: .page(3))) { error in
      XCTAssertEqual((error as? ImageError)?.kind, .unsupported)
    }
  }
}
