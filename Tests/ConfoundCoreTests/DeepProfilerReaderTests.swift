import TestSupport
import XCTest

@testable import ConfoundCore

/// DeepProfiler's BBBC021 embeddings (npz per site) as a well-level table of mean embeddings, checked against
/// NumPy's reading of the same files.
final class DeepProfilerReaderTests: XCTestCase {
  func testWellMeansOfBBBC021EmbeddingsMatchNumPy() throws {
    let root = try sharedData("deepprofiler-bbbc021-embeddings")
    XCTAssertTrue(DeepProfilerReader.isEmbeddingsFolder(root))
    let table = try DeepProfilerReader.read(root)
    XCTAssertEqual(table.format, "deepprofiler-npz")
    XCTAssertEqual(table.rows.count, 6, "two plates x wells B02-B04")
    XCTAssertEqual(Set(table.roles), [.embedding])
    let reference: [String: [String: Any]] = try pythonReference(
      """
      import glob, json, os, sys
      import numpy as np
      wells = {}
      for path in sorted(glob.glob(os.path.join(sys.argv[1], '*', '*.npz'))):
        features = np.load(path, allow_pickle=False)['features'].astype(np.float64)
        key = os.path.basename(os.path.dirname(path)) + '/' + os.path.basename(path).split('_')[0]
        wells.setdefault(key, []).append(features)
      print(json.dumps({k: {'mean': np.concatenate(v).mean(axis=0).tolist(), 'cells': sum(len(a) for a in v)}
                        for k, v in wells.items()}))
      """, [root.path])
    XCTAssertEqual(reference.count, 6)
    for row in table.rows {
      let expected = try XCTUnwrap(reference["\(row.plate)/\(row.well)"])
      let mean = try XCTUnwrap(expected["mean"] as? [Double])
      XCTAssertEqual(row.values.count, mean.count)
      for (ours, theirs) in zip(row.values, mean) { XCTAssertEqual(ours, theirs, accuracy: 1e-9 * max(1, abs(theirs))) }
      XCTAssertEqual(row.metadata["Metadata_Object_Count"], "\(expected["cells"] as? Int ?? -1)")
      XCTAssertEqual(row.metadata["Metadata_Sites"], "2")
    }
    let loaded = try ScreenSource.load(root, template: nil, platemap: nil, barcodePlatemap: nil)
    XCTAssertEqual(loaded.profiles?.format, "deepprofiler-npz")
    XCTAssertEqual(loaded.screen.plates.map(\.name), ["Week1_22123", "Week1_22141"])
  }

  func testNpyHeadersAndOrders() throws {
    func npy(_ header: String) -> [UInt8] {
      let padded = header + String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
      return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(padded.utf8.count), 0] + Array(padded.utf8)
    }
    // A 2 x 3 float64 array in Fortran order: column by column.
    var bytes = npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }")
    for v in [1.0, 4, 2, 5, 3, 6] { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
    let array = try NumpyArchive.npy(bytes, name: "x", file: "f.npz")
    XCTAssertEqual([array.rows, array.columns], [2, 3])
    XCTAssertEqual(array.values, [1, 2, 3, 4, 5, 6])
    let objects = npy("{'descr': '|O', 'fortran_order': False, 'shape': (), }") + [0x80, 3]
    XCTAssertThrowsError(try NumpyArchive.npy(objects, name: "metadata", file: "f.npz")) { error in
      XCTAssertTrue("\(error)".contains("pickles"), "\(error)")
    }
  }
}
