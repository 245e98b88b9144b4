import TestSupport
import XCTest

@testable import ConfoundCore

final class GunzipTests: XCTestCase {
  /// Python's gzip writes stored, fixed and dynamic blocks depending on level and content; all must round-trip.
  func testDecompressesWhatPythonGzipWrites() throws {
    let dir = try TemporaryDirectory()
    let listed = try pythonReference(
      """
      import gzip, json, random, sys, os
      random.seed(5)
      texts = {"empty": b"", "short": b"a,b\\n1,2\\n", "random": bytes(random.getrandbits(8) for _ in range(70000)),
               "table": "".join(f"{i},{random.random():.6f},\\"x, {i % 7}\\"\\n" for i in range(20000)).encode()}
      out = {}
      for name, data in texts.items():
          for level in (0, 1, 9):
              path = os.path.join(sys.argv[1], f"{name}-{level}.gz")
              with gzip.open(path, "wb", compresslevel=level) as f: f.write(data)
              out[path] = list(data[:64]) + [len(data), sum(data) % 1000003]
      # Two members concatenated read as one stream, as gzip(1) does.
      path = os.path.join(sys.argv[1], "two.gz")
      open(path, "wb").write(gzip.compress(b"first,") + gzip.compress(b"second"))
      out[path] = list(b"first,second") + [12, sum(b"first,second") % 1000003]
      print(json.dumps(out))
      """, [dir.url.path], as: [String: [Int]].self)
    XCTAssertEqual(listed.count, 13)
    for (path, expected) in listed {
      let bytes = try Gunzip.decompress([UInt8](Data(contentsOf: URL(fileURLWithPath: path))), file: path)
      let summary = bytes.prefix(64).map(Int.init) + [bytes.count, bytes.reduce(0) { ($0 + Int($1)) % 1_000_003 }]
      XCTAssertEqual(summary, expected, path)
    }
  }

  func testCorruptOrTruncatedStreamsThrowNamingTheFile() throws {
    XCTAssertThrowsError(try Gunzip.decompress([0x1f, 0x8b, 8, 0] + [UInt8](repeating: 0, count: 6), file: "x.gz")) {
      XCTAssertTrue("\($0)".contains("x.gz"))
    }
    XCTAssertThrowsError(try Gunzip.decompress(Array("plain text, not gzip".utf8), file: "y.gz"))
  }

  func testLINCSProfilesReadAsATable() throws {
    let file = try sharedData("lincs-SQ00015054-profiles").appendingPathComponent(
      "SQ00015054_normalized_feature_select.csv.gz")
    let table = try CSVTable(contentsOf: file)
    let expected = try pythonReference(
      "import csv,gzip,json,sys; r=list(csv.reader(gzip.open(sys.argv[1],'rt',newline='')));"
        + "print(json.dumps([len(r)-1, r[0], r[200], r[-1]]))", [file.path], as: [Any].self)
    XCTAssertEqual(table.rows.count, expected[0] as? Int)
    XCTAssertEqual(table.columns, expected[1] as? [String])
    XCTAssertEqual(table.rows[199], expected[2] as? [String])
    XCTAssertEqual(table.rows.last, expected[3] as? [String])
    XCTAssertEqual(table.raggedLines, [])
  }
}
