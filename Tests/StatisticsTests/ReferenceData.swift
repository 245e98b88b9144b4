import Foundation
import Statistics
import TestSupport
import XCTest

/// Runs a reference script that writes arrays into a scratch folder and prints JSON; turns a missing venv into a skip.
func reference(_ script: String, in folder: TemporaryDirectory) throws -> [String: Any] {
  do {
    return try PythonReference.json(script, arguments: [folder.url.path]) as! [String: Any]
  } catch let skip as SkipReason {
    throw XCTSkip(skip.description)
  }
}

/// Reads a raw little-endian float64 file written by numpy's `tofile`.
func readDoubles(_ url: URL) throws -> [Double] {
  let data = try Data(contentsOf: url)
  return data.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
}

/// Reads a raw little-endian int64 file written by numpy's `tofile`.
func readInts(_ url: URL) throws -> [Int] {
  let data = try Data(contentsOf: url)
  return data.withUnsafeBytes { $0.bindMemory(to: Int64.self).map { Int($0) } }
}

/// `numbers` from a JSON array (nested arrays flattened row by row).
func doubles(_ value: Any?) -> [Double] {
  if let rows = value as? [[Any]] { return rows.flatMap { doubles($0) } }
  return (value as? [Any])?.map { ($0 as! NSNumber).doubleValue } ?? []
}

/// Asserts |a - b| <= relative * max(|b|, floor) elementwise, naming the first offending index.
func assertClose(_ a: [Double], _ b: [Double], relative: Double, floor: Double = 1e-3, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
  XCTAssertEqual(a.count, b.count, "\(what): sizes", file: file, line: line)
  for i in 0..<min(a.count, b.count) where abs(a[i] - b[i]) > relative * max(abs(b[i]), floor) {
    XCTFail("\(what)[\(i)]: \(a[i]) vs reference \(b[i])", file: file, line: line)
    return
  }
}

/// The LINCS plate folder, or a skip when the shared data is absent.
func lincsFolder() throws -> URL {
  do { return try SharedData.require("data/lincs-SQ00015054-profiles") } catch let s as SkipReason {
    throw XCTSkip(s.description)
  }
}

/// Python that loads the LINCS profile table: `head`, `rows` (strings), `column(name)` and `features(k)`, the first
/// k feature columns (all when None) as float64. Throws a skip when the shared data is absent.
func lincsPrelude() throws -> String {
  let table = try lincsFolder().appendingPathComponent("SQ00015054_normalized_feature_select.csv.gz")
  return """
    import csv, gzip, json, sys, numpy as np
    table = list(csv.reader(gzip.open("\(table.path)", "rt")))
    head, rows = table[0], table[1:]
    column = lambda name: [r[head.index(name)] for r in rows]
    def features(k=None):
        idx = [i for i, c in enumerate(head) if not c.startswith("Metadata_")][:k]
        return np.array([[float(r[i]) for i in idx] for r in rows])

    """
}

/// The tight settings the comparisons give both sides: gradient tolerance 1e-10, no stop on small decreases.
func tightOptions() -> LBFGSOptions {
  var options = LBFGSOptions(maxIterations: 10_000, gradientTolerance: 1e-10)
  options.functionTolerance = 0
  return options
}
