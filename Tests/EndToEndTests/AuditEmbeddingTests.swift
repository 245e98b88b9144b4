import ConfoundCore
import ConfoundImaging
import Foundation
import JSONRPC
import TestSupport
import XCTest

/// The audit's embed stage through the built binaries: without a model the stage stops with a message that says
/// how to get one and the audit still finishes; `--resume` with the model embeds every site's crops (checked
/// against onnxruntime on the same crops), stores per-cell, per-site and per-well arrays, and adds the embedding
/// feature sets to the target probe; a second `--resume` redoes nothing.
final class AuditEmbeddingTests: XCTestCase {
  private func audit(_ out: URL, resume: Bool) throws -> JSONValue {
    let arguments = ["audit", "--out", out.path, "--json", "--sim-plates", "1", "--sites", "2", "--seed", "6"]
    let text = try runCommandStdout(try LiveHost.binary("confound").path, arguments + (resume ? ["--resume"] : []))
    return try JSONParser.parse(Array(text.utf8))
  }

  private func stage(_ response: JSONValue, _ name: String) -> JSONValue? {
    response["stages"]?.arrayValue?.first { $0["name"]?.stringValue == name }
  }

  func testEmbedStageStoresCellSiteAndWellEmbeddingsAndFeedsTheProbe() throws {
    let lite0 = try EmbedderPluginTests.cachedLite0()
    let dir = try TemporaryDirectory()
    let out = dir.file("run")

    // No model: the stage says which command fetches it; the audit goes on to its findings.
    let empty = dir.file("no-models")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    setenv("CONFOUND_MODEL_DIR", empty.path, 1)
    let missing = try audit(out, resume: false)
    unsetenv("CONFOUND_MODEL_DIR")
    let stopped = try XCTUnwrap(stage(missing, "embed"), "\(missing["stages"] ?? .null)")
    XCTAssertEqual(stopped["computed"]?.intValue, 0)
    let message = stopped["failures"]?.arrayValue?.first?.stringValue ?? ""
    XCTAssertTrue(message.contains("bash .ci/setup-models"), message)
    XCTAssertEqual(stopped["failures"]?.arrayValue?.count, 1, "a model problem stops the random baseline too, unrun")
    XCTAssertFalse(missing["findings"]?.arrayValue?.isEmpty ?? true, "the audit finished without embeddings")
    XCTAssertEqual(try RunStore(url: out.appendingPathComponent("run.sqlite")).failures(stage: "embed").count, 0,
                   "sites are not marked failed: resume embeds them once the model is there")

    setenv("CONFOUND_MODEL_DIR", lite0.deletingLastPathComponent().path, 1)
    defer { unsetenv("CONFOUND_MODEL_DIR") }
    let response = try audit(out, resume: true)
    let sites = 96 * 2, wells = 96
    let summary = try XCTUnwrap(stage(response, "embed"))
    XCTAssertEqual(summary["computed"]?.intValue, Int64(2 * (sites + wells)),
                   "pretrained and random weights: every site, then every well")
    XCTAssertEqual(summary["failed"]?.intValue, 0, "\(summary)")
    let measures = (response["findings"]?.arrayValue ?? []).filter { $0["kind"] == "target-probe" }
      .compactMap { $0["measure"]?["name"]?.stringValue }
    XCTAssertTrue(measures.contains("embeddings"), "\(measures)")
    XCTAssertTrue(measures.contains("random-weights embeddings"), "\(measures)")
    XCTAssertTrue(measures.contains("hand features") && measures.contains("density alone"), "\(measures)")

    let store = try RunStore(url: out.appendingPathComponent("run.sqlite"))
    let plate = "SIM-P01", well = "B03"
    var wellCells: [Float] = []
    for site in 1...2 {
      let suffix = "\(plate)_\(well)_s\(site)"
      let crops = try XCTUnwrap(try store.loadArray(name: "crops_" + suffix))
      let cells = try XCTUnwrap(try store.loadArray(name: "embeddings_" + suffix))
      let rows = try XCTUnwrap(try store.loadArray(name: "embeddings_crops_" + suffix)).floats().map { Int($0) }
      let count = min(4, crops.shape[0])
      XCTAssertEqual(cells.shape, [count, 3 * 1280], "up to 4 cells, 3 channels x 1280 values each")
      XCTAssertEqual(rows, (0..<count).map { $0 * crops.shape[0] / count }, "evenly spaced crops")
      let siteMean = try XCTUnwrap(try store.loadArray(name: "embeddings_site_" + suffix))
      XCTAssertEqual(siteMean.shape, [1, 3840])
      XCTAssertLessThanOrEqual(maxDifference(siteMean.floats(), columnMeans(cells.floats(), 3840)), 1e-5)
      let random = try XCTUnwrap(try store.loadArray(name: "random_embeddings_" + suffix))
      XCTAssertEqual(random.shape, cells.shape)
      XCTAssertGreaterThan(maxDifference(random.floats(), cells.floats()), 1e-2, "random weights embed differently")
      wellCells += cells.floats()
      if site == 1 { try checkAgainstOnnxRuntime(crops: store, name: "crops_" + suffix, rows: rows, ours: cells, lite0) }
    }
    let wellMean = try XCTUnwrap(try store.loadArray(name: "embeddings_well_\(plate)_\(well)"))
    XCTAssertEqual(wellMean.shape, [1, 3840])
    XCTAssertLessThanOrEqual(maxDifference(wellMean.floats(), columnMeans(wellCells, 3840)), 1e-5,
                             "the well's vector is the mean over all its embedded cells")

    let again = try audit(out, resume: true)
    let resumed = try XCTUnwrap(stage(again, "embed"))
    XCTAssertEqual(resumed["computed"]?.intValue, 0)
    XCTAssertEqual(resumed["resumed"]?.intValue, Int64(2 * sites))
  }

  /// At 64 px and one site per well some wells have no nucleus, so no crop and no embedding. The embedding feature
  /// sets are then probed over the wells that have one, with those wells' cell lines as permutation units (the
  /// units of every well were once sent, and the probe refused the request: "context.units has 87 values for 81
  /// rows", which failed the whole audit).
  func testWellsWithoutNucleiAreLeftOutOfTheEmbeddingProbes() throws {
    _ = try EmbedderPluginTests.cachedLite0()
    let dir = try TemporaryDirectory()
    let host = try LiveHost()
    try host.initialize()
    let response = try host.request("audit/run", [
      "out": .string(dir.file("run").path),
      "simulate": ["seed": 1, "plates": 1, "batches": 1, "wells": 96, "sites": 1, "channels": 1, "size": 64,
                   "plant": "focus-gradient:0.8"],
    ], timeout: 900)
    XCTAssertEqual(try host.close(), 0)
    let embed = try XCTUnwrap(stage(response, "embed"), "\(response["stages"] ?? .null)")
    XCTAssertEqual(embed["failed"]?.intValue, 0, "\(embed)")
    let store = try RunStore(url: dir.file("run").appendingPathComponent("run.sqlite"))
    let wells = "ABCDEFGH".flatMap { row in (1...12).map { String(format: "%@%02d", String(row), $0) } }
    let embedded = try wells.filter { try store.loadArray(name: "embeddings_well_SIM-P01_\($0)") != nil }.count
    XCTAssertLessThan(embedded, 96, "some wells have no embedded cell")
    XCTAssertGreaterThan(embedded, 48, "most wells have one")
    let measures = (response["findings"]?.arrayValue ?? []).filter { $0["kind"] == "target-probe" }
      .compactMap { $0["measure"]?["name"]?.stringValue }
    XCTAssertTrue(measures.contains("embeddings") && measures.contains("density alone"), "\(measures)")
  }

  /// The stored cell embeddings equal onnxruntime's on the same crops, preprocessed by numpy and scikit-image
  /// (1st..99th percentile stretch, bilinear 32 -> 64 px, (x - 127) / 128, each channel as RGB), with the model's
  /// input height and width made free so onnxruntime runs it at 64 x 64 as the embedder does.
  private func checkAgainstOnnxRuntime(crops store: RunStore, name: String, rows: [Int], ours: NPYArray,
                                       _ model: URL) throws {
    let script = """
      import sys, json, numpy as np, onnx, onnxruntime as ort
      from skimage.transform import resize
      crops = np.load(sys.argv[2])[json.loads(sys.argv[3])].astype(np.float64)
      images = []
      for crop in crops:
          for plane in crop:
              lo, hi = np.percentile(plane, [1, 99])
              s = np.clip((plane - lo) * 255 / (hi - lo), 0, 255) if hi > lo else np.zeros_like(plane)
              r = resize(s, (64, 64), order=1, mode='edge', anti_aliasing=False, preserve_range=True)
              images.append(np.repeat(((r - 127) / 128)[None], 3, axis=0))
      model = onnx.load(sys.argv[1])
      dims = model.graph.input[0].type.tensor_type.shape.dim
      dims[2].dim_param, dims[3].dim_param = 'H', 'W'
      session = ort.InferenceSession(model.SerializeToString(), providers=['CPUExecutionProvider'])
      out = session.run(['embedding'], {'input': np.stack(images).astype(np.float32)})[0]
      print(json.dumps(out.reshape(len(crops), -1).ravel().tolist()))
      """
    let file = store.arraysFolder.appendingPathComponent(name + ".npy").path
    let reference: [Double]
    do {
      reference = try XCTUnwrap(
        try PythonReference.json(script, arguments: [model.path, file, "\(rows)"]) as? [Double])
    } catch let s as SkipReason { throw XCTSkip(s.description) }
    XCTAssertEqual(reference.count, ours.count)
    XCTAssertLessThanOrEqual(maxDifference(ours.floats(), reference.map(Float.init)), 2e-4)
  }

  private func columnMeans(_ rows: [Float], _ d: Int) -> [Float] {
    let n = rows.count / d
    return (0..<d).map { j in Float((0..<n).reduce(0.0) { $0 + Double(rows[$1 * d + j]) } / Double(n)) }
  }

  private func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }
}
