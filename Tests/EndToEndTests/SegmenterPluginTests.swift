import ConfoundImaging
import Foundation
import TestSupport
import XCTest

/// The built segmenter plugin (`confound.segmenter`) through the host: `confound segment`, its masks, the
/// conformance suite, bad inputs, and the audit's segment stage on simulated screens with and without planted
/// density. Accuracy against scikit-image is in SegmentationTests; here the wiring is what can go wrong.
final class SegmenterPluginTests: XCTestCase {
  var confoundPath: String { get throws { try LiveHost.binary("confound").path } }

  static func shared(_ name: String) throws -> URL {
    do { return try SharedData.require("data").appendingPathComponent(name) } catch let s as SkipReason {
      throw XCTSkip(s.description)
    }
  }

  static func python(_ script: String, _ arguments: [String]) throws -> Any {
    do { return try PythonReference.json(script, arguments: arguments) } catch let s as SkipReason {
      throw XCTSkip(s.description)
    }
  }

  /// The JSON objects among a command's standard output lines.
  static func jsonLines(_ output: String) throws -> [[String: Any]] {
    try output.split(separator: "\n").filter { $0.hasPrefix("{") }.map {
      try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }

  /// Runs `confound` with standard output and standard error kept apart (runCommand merges them, and progress
  /// lines on stderr can land inside a JSON line); never throws on a non-zero status.
  static func confound(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = try LiveHost.binary("confound")
    process.arguments = arguments
    let (out, err) = (Pipe(), Pipe())
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // The reader thread is the only writer until it finishes; it is read only after that.
    final class Collected: @unchecked Sendable { var data = Data() }
    let errors = Collected()
    let reader = Thread { errors.data = err.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !reader.isFinished { usleep(1000) }
    return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errors.data, as: UTF8.self))
  }

  func testImg2dCountIsWithinTenPercentOfTheGroundTruth() throws {
    let folder = try Self.shared("stardist-img2d")
    let reference = try Self.python(
      "import sys, json, numpy, tifffile\n"
        + "m = tifffile.imread(sys.argv[1]); print(json.dumps({'n': int(len(numpy.unique(m[m > 0])))}))",
      [folder.appendingPathComponent("mask2d.tif").path]) as! [String: Any]
    let truth = try XCTUnwrap(reference["n"] as? Int)
    let run = try Self.confound(["segment", "--json", folder.appendingPathComponent("img2d.tif").path])
    XCTAssertEqual(run.status, 0, run.stderr)
    let site = try XCTUnwrap(Self.jsonLines(run.stdout).first)
    let count = try XCTUnwrap(site["count"] as? Int)
    XCTAssertEqual(truth, 125)
    XCTAssertEqual(Double(count), Double(truth), accuracy: 0.1 * Double(truth), "count \(count) vs truth \(truth)")
    XCTAssertEqual(site["foreground_present"] as? Bool, true)
    let features = try XCTUnwrap(site["site_features"] as? [String: Any])
    XCTAssertEqual(features["Count_Nuclei"] as? Int, count)
    let columns = try XCTUnwrap(site["columns"] as? [String])
    XCTAssertTrue(columns.contains("AreaShape_Area") && columns.contains("Intensity_MeanIntensity_Channel1"))
  }

  func testMasksWrittenBySegmentReadBackWithTheCount() throws {
    let folder = try Self.shared("stardist-img2d")
    let dir = try TemporaryDirectory()
    let masks = dir.url.appendingPathComponent("masks")
    let image = folder.appendingPathComponent("img2d.tif").path
    let run = try Self.confound(["segment", "--json", "--masks", masks.path, image])
    XCTAssertEqual(run.status, 0, run.stderr)
    let site = try XCTUnwrap(Self.jsonLines(run.stdout).first)
    let count = try XCTUnwrap(site["count"] as? Int)
    let mask = try XCTUnwrap(site["mask"] as? String)
    XCTAssertEqual(mask, masks.appendingPathComponent("img2d_labels.tif").path)
    let read = try Self.python(
      "import sys, json, numpy, tifffile\n"
        + "m = tifffile.imread(sys.argv[1]); u = numpy.unique(m[m > 0])\n"
        + "print(json.dumps({'dtype': str(m.dtype), 'shape': list(m.shape), 'labels': int(len(u)),"
        + " 'max': int(u.max()) if len(u) else 0}))",
      [mask]) as! [String: Any]
    XCTAssertEqual(read["dtype"] as? String, "uint16")
    XCTAssertEqual(read["shape"] as? [Int], [512, 512])
    XCTAssertEqual(read["labels"] as? Int, count)
    XCTAssertEqual(read["max"] as? Int, count, "labels run 1...count without gaps")
  }

  /// More labels than 16 bits hold: a 2048 x 2048 grid of 65,536 separate 6 x 6 squares (unsmoothed, crops off)
  /// gives a 32-bit mask whose labels run 1...65536.
  func testMaskWithMoreThan65535NucleiIs32Bit() throws {
    let dir = try TemporaryDirectory()
    let side = 2048
    var pixels = [Float](repeating: 0, count: side * side)
    for y in 0..<side where y % 8 >= 1 && y % 8 <= 6 {
      for x in 0..<side where x % 8 >= 1 && x % 8 <= 6 { pixels[y * side + x] = 200 }
    }
    let file = dir.url.appendingPathComponent("grid.tif")
    try writeTIFF(Image(channels: 1, height: side, width: side, pixels: pixels), to: file, as: .uint8)
    let masks = dir.url.appendingPathComponent("masks")
    let run = try Self.confound(["segment", "--json", "--masks", masks.path, "--param", "sigma=0", "--param",
                                 "min_area=20", "--param", "crop_size=0", file.path])
    XCTAssertEqual(run.status, 0, run.stderr)
    let site = try XCTUnwrap(Self.jsonLines(run.stdout).first)
    XCTAssertEqual(site["count"] as? Int, 65_536)
    let read = try Self.python(
      "import sys, json, numpy, tifffile\n"
        + "m = tifffile.imread(sys.argv[1]); u = numpy.unique(m[m > 0])\n"
        + "print(json.dumps({'dtype': str(m.dtype), 'labels': int(len(u)), 'max': int(u.max())}))",
      [try XCTUnwrap(site["mask"] as? String)]) as! [String: Any]
    XCTAssertEqual(read["dtype"] as? String, "uint32")
    XCTAssertEqual(read["labels"] as? Int, 65_536)
    XCTAssertEqual(read["max"] as? Int, 65_536)
  }

  func testConformanceSuitePasses() throws {
    let plugin = LiveHost.binDirectory.appendingPathComponent("libconfound-plugin-segmenter.so")
    guard FileManager.default.fileExists(atPath: plugin.path) else { throw XCTSkip("\(plugin.path) is not built") }
    let output = try runCommand(try confoundPath, ["plugins", "check", plugin.path])
    XCTAssertTrue(output.contains("confound.segmenter"), output)
    XCTAssertTrue(output.contains(" 0 failed"), output)
  }

  /// Black, saturated and 1x1 images give zero nuclei; a NaN image fails its own site with 1004, not the host.
  func testBadImagesGiveZeroOrAClearError() throws {
    let dir = try TemporaryDirectory()
    func tiff(_ name: String, _ width: Int, _ height: Int, _ value: Float, as type: TIFFSampleType) throws -> String {
      let url = dir.url.appendingPathComponent(name)
      let pixels = [Float](repeating: value, count: width * height)
      let image = Image(channels: 1, height: height, width: width, pixels: pixels)
      try writeTIFF(image, to: url, as: type)
      return url.path
    }
    let clean = [try tiff("black.tif", 64, 48, 0, as: .uint16), try tiff("saturated.tif", 64, 48, 65535, as: .uint16),
                 try tiff("one.tif", 1, 1, 700, as: .uint16)]
    var nan = Image(channels: 1, height: 32, width: 32, pixels: [Float](repeating: 5, count: 1024))
    nan.pixels[100] = .nan
    let nanFile = dir.url.appendingPathComponent("nan.tif")
    try writeTIFF(nan, to: nanFile, as: .float32)
    let run = try Self.confound(["segment", "--json"] + clean + [nanFile.path])
    XCTAssertEqual(run.status, 3, "some sites failed, not all: \(run.stderr)")
    let sites = try Self.jsonLines(run.stdout)
    XCTAssertEqual(sites.map { ($0["path"] as? String).map { ($0 as NSString).lastPathComponent } },
                   ["black.tif", "saturated.tif", "one.tif"])
    XCTAssertEqual(sites.map { $0["count"] as? Int }, [0, 0, 0])
    XCTAssertTrue(sites.allSatisfy { $0["foreground_present"] as? Bool == false })
    XCTAssertTrue(run.stderr.contains("nan.tif: error 1004"), run.stderr)
    XCTAssertTrue(run.stderr.contains("NaN or infinite"), run.stderr)
  }
}

/// The audit's segment stage on simulated screens: counts against the cells the simulator drew, the density
/// finding when density is planted, none on a clean screen, and resume redoing nothing.
extension SegmenterPluginTests {
  /// Pearson correlation (numpy) between each well's mean `Count_Nuclei` in the run store and the mean of the
  /// cells the simulator drew for its sites (truth.json), plus the number of stored crops arrays and objects.
  static func countsAgainstTruth(_ out: URL) throws -> [String: Any] {
    try python(
      """
      import sys, json, sqlite3, numpy
      from collections import defaultdict
      out = sys.argv[1]
      truth = json.load(open(out + '/screen/truth.json'))
      db = sqlite3.connect(out + '/run.sqlite')
      counts = defaultdict(list)
      for plate, well, value in db.execute("SELECT s.plate, s.well, m.value FROM measurements m JOIN sites s "
                                           "ON s.id = m.site_id WHERE m.name = 'Count_Nuclei'"):
          counts[(plate, well)].append(value)
      ours = [numpy.mean(counts[(w['plate'], w['well'])]) for w in truth['wells']]
      drawn = [numpy.mean(w['cellCounts']) for w in truth['wells']]
      crops = db.execute("SELECT COUNT(*) FROM arrays WHERE name LIKE 'crops_%'").fetchone()[0]
      objects = db.execute("SELECT COUNT(DISTINCT site_id || '/' || object) FROM objects").fetchone()[0]
      total = sum(map(sum, counts.values()))
      print(json.dumps({'r': float(numpy.corrcoef(ours, drawn)[0, 1]), 'sites': sum(map(len, counts.values())),
                        'crops': crops, 'objects': objects, 'total': float(total)}))
      """, [out.path]) as! [String: Any]
  }

  static func findings(_ out: URL) throws -> [[String: Any]] {
    let data = try Data(contentsOf: out.appendingPathComponent("findings.json"))
    return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
  }

  func testPlantedDensityIsCountedAndFoundAndResumeRedoesNothing() throws {
    let dir = try TemporaryDirectory()
    let out = dir.url.appendingPathComponent("audit")
    let arguments = ["--out", out.path, "--sim-plates", "2", "--sites", "2", "--plant", "density:0.8"]
    try runCommand(try confoundPath, ["audit"] + arguments)
    let measured = try Self.countsAgainstTruth(out)
    XCTAssertEqual(measured["sites"] as? Int, 384)
    XCTAssertGreaterThanOrEqual(try XCTUnwrap(measured["r"] as? Double), 0.9, "\(measured)")
    XCTAssertEqual(measured["crops"] as? Int, 384)
    XCTAssertEqual(Double(try XCTUnwrap(measured["objects"] as? Int)), try XCTUnwrap(measured["total"] as? Double),
                   accuracy: 0.5, "one objects row per counted nucleus")
    let density = try Self.findings(out).filter { $0["kind"] as? String == "density" }
    XCTAssertEqual(density.count, 1)
    let finding = try XCTUnwrap(density.first)
    XCTAssertEqual(finding["covariate"] as? String, "disease")
    XCTAssertEqual(finding["significant"] as? Bool, true, "\(finding)")
    // Planted: disease lines have 1 + 0.8 * 0.8 = 1.64 times the cells per site.
    let metric = try XCTUnwrap(finding["metric"] as? [String: Any])
    let effect = try XCTUnwrap(metric["value"] as? Double)
    let low = try XCTUnwrap(metric["ciLow"] as? Double), high = try XCTUnwrap(metric["ciHigh"] as? Double)
    XCTAssertTrue(low <= effect && effect <= high && low > 1.3 && high < 2.0, "\(finding)")
    XCTAssertLessThan(try XCTUnwrap(finding["pValue"] as? Double), 0.01)

    let resumed = try Self.confound(["audit", "--out", out.path, "--resume", "--json"])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    let stages = try XCTUnwrap(Self.jsonLines(resumed.stdout).last?["stages"] as? [[String: Any]])
    let segment = try XCTUnwrap(stages.first { $0["name"] as? String == "segment" })
    XCTAssertEqual(segment["computed"] as? Int, 0)
    XCTAssertEqual(segment["resumed"] as? Int, 384)
  }

  func testCleanScreenHasNoDensityFinding() throws {
    let dir = try TemporaryDirectory()
    let out = dir.url.appendingPathComponent("audit")
    try runCommand(try confoundPath, ["audit", "--out", out.path, "--sim-plates", "2", "--sites", "1", "--plant", "none"])
    XCTAssertGreaterThanOrEqual(try XCTUnwrap(Self.countsAgainstTruth(out)["r"] as? Double), 0.9)
    XCTAssertEqual(try Self.findings(out).filter { $0["kind"] as? String == "density" && $0["significant"] as? Bool == true }.count, 0)
  }

  /// `confound segment SCREEN --out DIR` on a simulated screen: the segment stage alone (no focus, embed or probe
  /// stage), counts tracking the planted density, one object row per nucleus, a mask per site that reads back
  /// with its count, and a resume that redoes nothing.
  func testSegmentScreenIntoRunStoreTracksPlantedDensity() throws {
    let dir = try TemporaryDirectory()
    let out = dir.url.appendingPathComponent("run")
    try runCommand(try confoundPath, ["simulate", "--out", out.appendingPathComponent("screen").path, "--plates", "1",
                                      "--sites", "2", "--channels", "2", "--plant", "density:0.8"])
    let csv = out.appendingPathComponent("screen/load_data.csv").path
    let run = try Self.confound(["segment", csv, "--out", out.path, "--json"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let response = try XCTUnwrap(Self.jsonLines(run.stdout).last)
    let stages = try XCTUnwrap(response["stages"] as? [[String: Any]])
    XCTAssertEqual(stages.compactMap { $0["name"] as? String }, ["segment", "density"])
    XCTAssertEqual(stages.first?["computed"] as? Int, 192)
    let measured = try Self.countsAgainstTruth(out)
    XCTAssertEqual(measured["sites"] as? Int, 192)
    XCTAssertGreaterThanOrEqual(try XCTUnwrap(measured["r"] as? Double), 0.9, "\(measured)")
    XCTAssertEqual(Double(try XCTUnwrap(measured["objects"] as? Int)), try XCTUnwrap(measured["total"] as? Double),
                   accuracy: 0.5, "one objects row per counted nucleus")
    let masks = try Self.python(
      """
      import sys, json, re, sqlite3, numpy, tifffile
      out = sys.argv[1]
      db = sqlite3.connect(out + '/run.sqlite')
      arrays = {name: (path, dtype) for name, path, dtype in db.execute("SELECT name, path, dtype FROM arrays")}
      rows = db.execute("SELECT s.plate, s.well, s.site, m.value FROM sites s JOIN measurements m "
                        "ON m.site_id = s.id WHERE m.name = 'Count_Nuclei'").fetchall()
      agree = 0
      for plate, well, site, count in rows:
          path, dtype = arrays[re.sub(r'[^A-Za-z0-9_-]', '_', f'labels_{plate}_{well}_s{site}')]
          labels = tifffile.imread(out + '/' + path)
          agree += len(numpy.unique(labels[labels > 0])) == count and 'tiff-' + str(labels.dtype) == dtype
      print(json.dumps({'masks': len(rows), 'agree': int(agree)}))
      """, [out.path]) as! [String: Any]
    XCTAssertEqual(masks["masks"] as? Int, 192, "\(masks)")
    XCTAssertEqual(masks["agree"] as? Int, 192, "each mask holds its site's count, in the recorded dtype")
    let resumed = try Self.confound(["segment", csv, "--out", out.path, "--resume", "--json"])
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    let again = try XCTUnwrap(Self.jsonLines(resumed.stdout).last?["stages"] as? [[String: Any]])
    XCTAssertEqual(again.first?["computed"] as? Int, 0)
    XCTAssertEqual(again.first?["resumed"] as? Int, 192)
  }
}
