import Foundation
import TestSupport
import XCTest

/// `confound simulate`, `confound screen --check` and `confound export`, run as built binaries through the host.
final class ScreenCommandTests: XCTestCase {
  /// Runs `confound` with `arguments`; returns its exit status, standard output, and standard output followed by
  /// standard error (progress lines go to stderr, so stdout alone stays parseable JSON). Never throws on a status.
  static func confound(_ arguments: [String]) throws -> (status: Int32, output: String, stdout: String) {
    let process = Process()
    process.executableURL = try LiveHost.binary("confound")
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    process.environment = environment
    let errors = FileManager.default.temporaryDirectory.appendingPathComponent("confound-stderr-" + UUID().uuidString)
    _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errors) }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = try FileHandle(forWritingTo: errors)
    try process.run()
    let stdout = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let stderr = String(decoding: try Data(contentsOf: errors), as: UTF8.self)
    return (process.terminationStatus, stdout + stderr, stdout)
  }

  static func shared(_ name: String) throws -> URL {
    do { return try SharedData.require(name) } catch let s as SkipReason { throw XCTSkip(s.description) }
  }

  /// Every regular file under `root`, by path relative to it, with its bytes.
  static func contents(of root: URL) throws -> [String: Data] {
    var files: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])!
    for case let url as URL in enumerator where try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile! {
      files[String(url.path.dropFirst(root.path.count))] = try Data(contentsOf: url)
    }
    return files
  }

  func testSimulateWithOneSeedIsByteIdentical() throws {
    let dir = try TemporaryDirectory()
    let common = [
      "--plates", "2", "--batches", "2", "--sites", "1", "--channels", "2", "--width", "64", "--height", "64",
      "--plant", "focus-gradient:0.8,density:0.5",
    ]
    var runs: [[String: Data]] = []
    for (name, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
      let (status, output, _) = try Self.confound(["simulate", "--out", dir.file(name).path, "--seed", seed] + common)
      XCTAssertEqual(status, 0, output)
      XCTAssertTrue(output.contains("2 plate(s) in 2 batch(es), 192 wells, 192 sites, 384 images"), output)
      XCTAssertTrue(output.contains("focus-gradient 0.8"), output)
      runs.append(try Self.contents(of: dir.file(name)))
    }
    // 384 TIFFs, load_data.csv, barcode_platemap.csv, two platemaps, truth.json.
    XCTAssertEqual(runs[0].count, 384 + 5)
    XCTAssertEqual(runs[0].keys.sorted(), runs[1].keys.sorted())
    let differing = runs[0].keys.filter { runs[0][$0] != runs[1][$0] }
    XCTAssertEqual(differing, [], "same seed, different bytes")
    // Another seed changes the images, so the comparison above could fail.
    let firstImage = try XCTUnwrap(runs[0].keys.first { $0.hasSuffix("_A01_s1_w1.tif") })
    XCTAssertNotEqual(runs[0][firstImage], runs[2][firstImage])
  }

  func testRealPlateChecksClean() throws {
    let root = try Self.shared("data/bbbc013-sbs-plate")
    let (status, output, stdout) = try Self.confound([
      "screen", root.path, "--template", "cellprofiler-example",
      "--platemap", root.appendingPathComponent("1049_Metadata.csv").path, "--check", "--json",
    ])
    XCTAssertEqual(status, 0, output)
    let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], output)
    XCTAssertEqual((report["plates"] as? [Any])?.count, 1)
    XCTAssertEqual(report["wells"] as? Int, 96)
    XCTAssertEqual(report["images"] as? Int, 192)
    XCTAssertEqual((report["channels"] as? [String])?.sorted(), ["Channel1", "Channel2"])
    XCTAssertEqual((report["problems"] as? [Any])?.count, 0)
    XCTAssertEqual(report["imageSizes"] as? [String: [Int]], ["Channel1": [640, 640], "Channel2": [640, 640]])
    let covariates = (report["covariates"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
    XCTAssertTrue(covariates.contains("SBS_Doses"), "\(covariates)")
  }

  /// A truncated TIFF and a missing file are both reported by name, in one pass; the command exits 1, not a crash.
  func testCorruptAndMissingFilesAreReported() throws {
    let root = try Self.shared("data/bbbc013-sbs-plate")
    let dir = try TemporaryDirectory()
    let names = ["Channel2-01-A-01.tif", "Channel2-02-A-02.tif", "Channel2-03-A-03.tif"]
    for name in names { try FileManager.default.copyItem(at: root.appendingPathComponent(name), to: dir.file(name)) }
    let bytes = try Data(contentsOf: dir.file(names[1]))
    try bytes.prefix(bytes.count / 2).write(to: dir.file(names[1]))
    let csv =
      (["FileName_DNA,PathName_DNA,Metadata_Plate,Metadata_Well"]
      + (names + ["Channel2-04-A-04.tif"]).enumerated().map { "\($1),\(dir.url.path),P1,A0\($0 + 1)" })
      .joined(separator: "\n") + "\n"
    try Data(csv.utf8).write(to: dir.file("load_data.csv"))

    let (status, output, _) = try Self.confound(["screen", dir.file("load_data.csv").path, "--check"])
    XCTAssertEqual(status, 1, output)
    XCTAssertTrue(output.contains("4 site(s), 4 image(s)"), output)
    XCTAssertTrue(output.contains("2 problem(s)"), output)
    let lines = output.split(separator: "\n")
    XCTAssertTrue(
      lines.contains { $0.contains("unreadable-file") && $0.contains("load_data.csv:3") && $0.contains(names[1]) },
      output)
    XCTAssertTrue(
      lines.contains {
        $0.contains("missing-file") && $0.contains("load_data.csv:5")
          && $0.contains("Channel2-04-A-04.tif")
      }, output)

    let (jsonStatus, json, jsonStdout) = try Self.confound([
      "screen", dir.file("load_data.csv").path, "--check", "--json",
    ])
    XCTAssertEqual(jsonStatus, 1, json)
    let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(jsonStdout.utf8)) as? [String: Any], json)
    let problems = try XCTUnwrap(report["problems"] as? [[String: Any]])
    XCTAssertEqual(Set(problems.compactMap { $0["kind"] as? String }), ["unreadable-file", "missing-file"])
    XCTAssertEqual(Set(problems.compactMap { $0["well"] as? String }), ["A02", "A04"])
  }

  /// A small simulated screen, audited, exported per well and per site; Python's csv, numpy and sqlite3 read the
  /// files back and recompute each well's median from the store's measurements.
  func testExportOfAnAuditedRun() throws {
    let dir = try TemporaryDirectory()
    let run = dir.file("run")
    let screen = dir.file("screen")
    let (simulateStatus, simulateOutput, _) = try Self.confound([
      "simulate", "--out", screen.path, "--plates", "1", "--batches", "1", "--sites", "2", "--channels", "2",
      "--width", "128", "--height", "128", "--plant", "focus-gradient:0.8",
    ])
    XCTAssertEqual(simulateStatus, 0, simulateOutput)
    let (auditStatus, auditOutput, _) = try Self.confound([
      "audit", screen.appendingPathComponent("load_data.csv").path, "--out", run.path,
    ])
    XCTAssertEqual(auditStatus, 0, auditOutput)
    for level in ["well", "site"] {
      let (status, output, _) = try Self.confound([
        "export", run.path, "--out", dir.file("export").path, "--level", level,
      ])
      XCTAssertEqual(status, 0, output)
    }
    let script = """
      import csv, json, sqlite3, sys
      import numpy as np
      out, store = sys.argv[1], sys.argv[2]
      result = {}
      db = sqlite3.connect(store)
      for level in ("well", "site"):
          with open(f"{out}/profiles_{level}.csv", newline="") as f:
              rows = list(csv.DictReader(f))
          columns = list(rows[0].keys())
          features = [c for c in columns if not c.startswith("Metadata_")]
          matrix = np.load(f"{out}/profiles_{level}.npy")
          table = np.array([[float(r[c]) if r[c] != "" else np.nan for c in features] for r in rows])
          worst = 0.0
          if level == "well":
              for i, r in enumerate(rows):
                  for j, name in enumerate(features):
                      values = [v for (v,) in db.execute(
                          "SELECT m.value FROM measurements m JOIN sites s ON s.id = m.site_id "
                          "WHERE s.plate = ? AND s.well = ? AND m.name = ?",
                          (r["Metadata_Plate"], r["Metadata_Well"], name)) if v is not None]
                      if values:
                          worst = max(worst, abs(float(np.median(values)) - table[i, j]))
          result[level] = {
              "rows": len(rows), "columns": columns[:2], "features": len(features),
              "shape": list(matrix.shape), "dtype": str(matrix.dtype),
              "same": bool(np.array_equal(matrix, table, equal_nan=True)),
              "finite": int(np.isfinite(matrix).sum()), "worstMedianError": worst,
              "wells": len({r["Metadata_Well"] for r in rows})}
      print(json.dumps(result))
      """
    let result: Any
    do {
      result = try PythonReference.json(
        script, arguments: [dir.file("export").path, run.appendingPathComponent("run.sqlite").path])
    } catch let s as SkipReason { throw XCTSkip(s.description) }
    let levels = try XCTUnwrap(result as? [String: [String: Any]])
    for (level, rows) in [("well", 96), ("site", 192)] {
      let r = try XCTUnwrap(levels[level])
      XCTAssertEqual(r["rows"] as? Int, rows, level)
      XCTAssertEqual(r["wells"] as? Int, 96, level)
      XCTAssertEqual(r["columns"] as? [String], ["Metadata_Plate", "Metadata_Well"], level)
      let features = try XCTUnwrap(r["features"] as? Int)
      XCTAssertGreaterThan(features, 5, level)
      XCTAssertEqual(r["shape"] as? [Int], [rows, features], level)
      XCTAssertEqual(r["dtype"] as? String, "float64", level)
      XCTAssertEqual(r["same"] as? Bool, true, "\(level): .npy differs from the CSV")
      XCTAssertGreaterThan(r["finite"] as? Int ?? 0, rows * features / 2, level)
    }
    XCTAssertEqual(try XCTUnwrap(levels["well"]?["worstMedianError"] as? Double), 0, accuracy: 1e-9)
  }
}
