import ConfoundImaging
import Foundation
import TestSupport
import XCTest

/// `.npy` files read what numpy wrote and write what numpy reads, for every supported dtype.
final class NPYTests: XCTestCase {
  // Values travel as repr strings: Foundation's JSON number parsing on Linux is not always correctly rounded.

  /// numpy writes one array per dtype (shape 3x4x5, 1-d and 0-d too, and one as format 2.0) into argv[1].
  static let numpyWrites = """
    import sys, os, json, numpy as np
    folder, rng, listing = sys.argv[1], np.random.default_rng(3), []
    for dtype in ['float32', 'float64', 'uint8', 'uint16', 'int32', 'int64', 'uint32', 'bool']:
        a = rng.normal(0, 1000, (3, 4, 5)).astype(dtype) if dtype != 'bool' else rng.random((3, 4, 5)) > 0.5
        np.save(os.path.join(folder, dtype + '.npy'), a)
        listing.append([dtype, a.dtype.str, list(a.shape), [repr(v) for v in a.astype(np.float64).ravel().tolist()]])
    np.save(os.path.join(folder, 'vector.npy'), np.arange(7, dtype=np.int64))
    np.save(os.path.join(folder, 'scalar.npy'), np.float32(2.5))
    with open(os.path.join(folder, 'v2.npy'), 'wb') as f:
        np.lib.format.write_array(f, np.arange(6, dtype='<f4').reshape(2, 3), version=(2, 0))
    np.save(os.path.join(folder, 'fortran.npy'), np.asfortranarray(np.ones((2, 3))))
    np.save(os.path.join(folder, 'bigendian.npy'), np.ones(3, dtype='>f4'))
    print(json.dumps(listing))
    """

  func testReadsWhatNumpyWrote() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-npy")
    let listing = try pythonJSON(Self.numpyWrites, [folder.url.path]) as! [[Any]]
    for entry in listing {
      let (name, descr, shape) = (entry[0] as! String, entry[1] as! String, entry[2] as! [Int])
      let values = (entry[3] as! [String]).compactMap(Double.init)
      let array = try NPYArray.read(folder.file("\(name).npy"))
      XCTAssertEqual(array.dtype.rawValue, descr, name)
      XCTAssertEqual(array.shape, shape, name)
      XCTAssertEqual(array.doubles(), values, name)
    }
    XCTAssertEqual(try NPYArray.read(folder.file("vector.npy")).values(as: Int64.self), Array(0..<7))
    let scalar = try NPYArray.read(folder.file("scalar.npy"))
    XCTAssertEqual(scalar.shape, [])
    XCTAssertEqual(scalar.values(as: Float.self), [2.5])
    XCTAssertNil(scalar.values(as: Double.self), "typed access requires the stored dtype")
    let v2 = try NPYArray.read(folder.file("v2.npy"))
    XCTAssertEqual(v2.shape, [2, 3])
    XCTAssertEqual(v2.floats(), [0, 1, 2, 3, 4, 5])
    for name in ["fortran", "bigendian"] {
      XCTAssertThrowsError(try NPYArray.read(folder.file("\(name).npy")), name) { error in
        XCTAssertEqual((error as? ImageError)?.kind, .unsupported, name)
        XCTAssertTrue("\(error)".contains("\(name).npy"))
      }
    }
  }

  func testNumpyReadsWhatWeWrote() throws {
    let folder = try TemporaryDirectory(prefix: "imaging-npy")
    let arrays: [String: NPYArray] = [
      "f4": NPYArray(shape: [2, 3], values: [Float](arrayLiteral: 1.5, -2, 3.25, 4, 5e-8, 6e7)),
      "f8": NPYArray(shape: [3], values: [Double](arrayLiteral: .pi, -1e300, 0)),
      "u1": NPYArray(shape: [2, 2], values: [UInt8](arrayLiteral: 0, 7, 200, 255)),
      "u2": NPYArray(shape: [1, 2], values: [UInt16](arrayLiteral: 65535, 1)),
      "u4": NPYArray(shape: [2], values: [UInt32](arrayLiteral: 4_000_000_000, 9)),
      "i4": NPYArray(shape: [2], values: [Int32](arrayLiteral: -5, 2_000_000_000)),
      "i8": NPYArray(shape: [2, 1, 1], values: [Int64](arrayLiteral: -(1 << 60), 3)),
      "b1": NPYArray(shape: [3], values: [Bool](arrayLiteral: true, false, true)),
      "empty": NPYArray(shape: [0, 4], values: [Float]()),
    ]
    for (name, array) in arrays { try array.write(to: folder.file("\(name).npy")) }
    let script = """
      import sys, json, numpy as np
      out = {}
      for path in sys.argv[1:]:
          a = np.load(path)
          with open(path, 'rb') as f: version = list(np.lib.format.read_magic(f))
          out[path.split('/')[-1][:-4]] = [a.dtype.str, list(a.shape), [repr(float(v)) for v in a.ravel()], version]
      print(json.dumps(out))
      """
    let read = try pythonJSON(script, arrays.keys.map { folder.file("\($0).npy").path }) as! [String: [Any]]
    for (name, array) in arrays {
      let numpy = try XCTUnwrap(read[name], name)
      XCTAssertEqual(numpy[0] as? String, array.dtype.rawValue, name)
      XCTAssertEqual(numpy[1] as? [Int], array.shape, name)
      XCTAssertEqual((numpy[2] as? [String])?.compactMap(Double.init), array.doubles(), name)
      XCTAssertEqual(numpy[3] as? [Int], [1, 0], name)
      XCTAssertEqual(try NPYArray.read(folder.file("\(name).npy")), array, name)
    }
  }

  func testModelReferenceOutputsMatchNumpy() throws {
    let refs: URL
    do { refs = try SharedData.require("models/refs") } catch let skip as SkipReason { throw XCTSkip(skip.description) }
    let urls = try FileManager.default.subpathsOfDirectory(atPath: refs.path).filter { $0.hasSuffix(".npy") }.sorted()
      .map(refs.appendingPathComponent)
    XCTAssertFalse(urls.isEmpty)
    let script = """
      import sys, json, numpy as np
      print(json.dumps([[list(a.shape), a.dtype.str, float(a.astype(np.float64).sum()),
                         float((a.astype(np.float64).ravel() * (np.arange(a.size) % 9973)).sum())]
                        for a in map(np.load, sys.argv[1:])]))
      """
    let numpy = try pythonJSON(script, urls.map(\.path)) as! [[Any]]
    for (url, reference) in zip(urls, numpy) {
      let array = try NPYArray.read(url)
      let values = array.doubles()
      XCTAssertEqual(array.shape, reference[0] as? [Int], url.path)
      XCTAssertEqual(array.dtype.rawValue, reference[1] as? String, url.path)
      let sum = values.reduce(0, +)
      let weighted = values.enumerated().reduce(0.0) { $0 + $1.element * Double($1.offset % 9973) }
      XCTAssertEqual(sum, reference[2] as! Double, accuracy: 1e-9 * max(1, abs(sum)), url.path)
      XCTAssertEqual(weighted, reference[3] as! Double, accuracy: 1e-9 * max(1, abs(weighted)), url.path)
    }
  }
}
