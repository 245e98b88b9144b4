import ConfoundImaging
import Foundation
import TestSupport
import XCTest

/// `../shared/data/<set>`, or an XCTSkip saying it is absent.
func sharedData(_ set: String) throws -> URL {
  do { return try SharedData.require("data/\(set)") } catch let skip as SkipReason { throw XCTSkip(skip.description) }
}

/// Runs a reference script, turning a missing venv into XCTSkip.
func python(_ script: String, _ arguments: [String] = []) throws -> String {
  do { return try PythonReference.run(script, arguments: arguments) } catch let skip as SkipReason {
    throw XCTSkip(skip.description)
  }
}

/// Runs a reference script that prints JSON.
func pythonJSON(_ script: String, _ arguments: [String] = []) throws -> Any {
  try JSONSerialization.jsonObject(with: Data(python(script, arguments).utf8))
}

/// Files in `folder` whose names end with `suffix`, sorted.
func files(in folder: URL, suffix: String) throws -> [URL] {
  try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
    .filter { $0.lastPathComponent.hasSuffix(suffix) }
    .sorted { $0.lastPathComponent < $1.lastPathComponent }
}

/// Python that writes each input image, as the reference reader decodes it, to one raw float32 file (exact for
/// the integers up to 2^24 and floats the tests use) (argv[1]),
/// followed by argv[2:] inputs. TIFFs are read page by page with tifffile and
/// stacked (grey palette indices mapped through the colormap's first row, rescaled to the sample range), PNGs
/// with PIL. Prints one JSON [C, H, W] shape per file.
let referenceDump = """
  import sys, json, numpy as np, tifffile
  from PIL import Image
  out, shapes = open(sys.argv[1], 'wb'), []
  for path in sys.argv[2:]:
      head = open(path, 'rb').read(4)
      if head[:2] in (b'II', b'MM'):
          planes = []
          with tifffile.TiffFile(path) as tif:
              for page in tif.pages:
                  a = page.asarray().astype(np.float64)
                  if page.photometric == 3:
                      top = 2 ** page.bitspersample - 1
                      a = np.rint(page.colormap[0].astype(np.float64) * top / 65535)[a.astype(np.intp)]
                  if a.ndim == 2: a = a[None]
                  elif page.planarconfig == 1: a = np.moveaxis(a, -1, 0)
                  planes.append(a)
          a = np.concatenate(planes)
      else:
          a = np.asarray(Image.open(path)).astype(np.float64)
          a = a[None] if a.ndim == 2 else np.moveaxis(a, -1, 0)
      shapes.append(list(a.shape))
      out.write(np.ascontiguousarray(a, dtype=np.float32).tobytes())
  print(json.dumps(shapes))
  """

/// Decodes `urls` with the reference readers; returns per-file shapes and values.
func referenceImages(_ urls: [URL], scratch: TemporaryDirectory) throws -> [(shape: [Int], values: [Float])] {
  let raw = scratch.file("reference.f32")
  let shapes = try pythonJSON(referenceDump, [raw.path] + urls.map(\.path)) as! [[Int]]
  let data = try Data(contentsOf: raw)
  var offset = 0
  return shapes.map { shape in
    let count = shape.reduce(1, *)
    let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      data.withUnsafeBytes { bytes in
        _ = memcpy(buffer.baseAddress!, bytes.baseAddress! + offset * 4, count * 4)
      }
      initialized = count
    }
    offset += count
    return (shape, values)
  }
}

/// Asserts `image` has the reference's [C, H, W] shape and exactly its values (as float32).
func assertMatches(
  _ image: Image, _ reference: (shape: [Int], values: [Float]), _ name: String,
  file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual([image.channels, image.height, image.width], reference.shape, name, file: file, line: line)
  guard image.pixels.count == reference.values.count else { return }
  // Bitwise comparison first (fast even in debug builds); no reference value is NaN or -0.
  let same = image.pixels.withUnsafeBytes { ours in
    reference.values.withUnsafeBytes { theirs in memcmp(ours.baseAddress!, theirs.baseAddress!, ours.count) == 0 }
  }
  if same { return }
  let mismatch = image.pixels.indices.first { image.pixels[$0] != reference.values[$0] }
  if let index = mismatch {
    XCTFail(
      "\(name): \(image.pixels[index]) vs reference \(reference.values[index]) at \(index)", file: file, line: line)
  }
}

/// Runs `body` with stdout and stderr sent to a file; returns what was written there.
func captureOutput(_ body: () throws -> Void) rethrows -> String {
  let scratch = try! TemporaryDirectory(prefix: "imaging-stdio")
  let log = scratch.file("output.txt")
  _ = FileManager.default.createFile(atPath: log.path, contents: nil)
  let handle = try! FileHandle(forWritingTo: log)
  fflush(nil)
  let (savedOut, savedErr) = (dup(1), dup(2))
  dup2(handle.fileDescriptor, 1)
  dup2(handle.fileDescriptor, 2)
  defer {
    fflush(nil)
    dup2(savedOut, 1)
    dup2(savedErr, 2)
    close(savedOut)
    close(savedErr)
  }
  try body()
  fflush(nil)
  return (try? String(contentsOf: log, encoding: .utf8)) ?? ""
}
