import ConfoundImaging
import Foundation
import TestSupport
import XCTest

/// The built embedder plugin (`confound.embedder`) through `confound embed` and the host: outputs against
/// onnxruntime's reference outputs in ../shared/models/refs (computed by onnxruntime on the same inputs), ImageNet
/// top-1 labels of the three photos through our own image preprocessing, the default EfficientNet-Lite0 that
/// `.ci/setup-models` converts, clear errors for broken models and inputs, and the conformance suite.
final class EmbedderPluginTests: XCTestCase {
  static let plugin = ["--plugin", "confound.embedder"]

  static func models() throws -> URL {
    do { return try SharedData.require("models") } catch let s as SkipReason { throw XCTSkip(s.description) }
  }

  /// The default model made by `.ci/setup-models`, or a skip that says how to make it.
  static func cachedLite0() throws -> URL {
    let env = ProcessInfo.processInfo.environment
    let dir = env["CONFOUND_MODEL_DIR"].map { URL(fileURLWithPath: $0) }
      ?? URL(fileURLWithPath: env["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".cache/confound/models")
    let url = dir.appendingPathComponent("efficientnet_lite0.onnx")
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw XCTSkip("\(url.path) is absent: run `bash .ci/setup-models` (CI's .ci/setup-tests does)")
    }
    return url
  }

  static func floats(_ url: URL) throws -> NPYArray { try NPYArray.read(url) }

  static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
  }

  /// Runs `confound embed` and returns the written array; fails with the command's output when it fails.
  func embed(_ arguments: [String], dir: TemporaryDirectory, name: String) throws -> NPYArray {
    let out = dir.file(name)
    let run = try ScreenCommandTests.confound(["embed"] + Self.plugin + arguments + ["--out", out.path])
    XCTAssertEqual(run.status, 0, run.output)
    return try NPYArray.read(out)
  }

  /// Raw batches through the network agree with onnxruntime's embedding (1e-4) and logits (2e-4).
  func checkRawAgainstReferences(model: URL, refs: URL, file: StaticString = #filePath, line: UInt = #line) throws {
    let dir = try TemporaryDirectory()
    let input = refs.appendingPathComponent("input.npy").path
    for (output, tolerance) in [("embedding", Float(1e-4)), ("logits", 2e-4)] {
      let ours = try embed(["--model", model.path, "--output", output, "--raw-input", input], dir: dir, name: output)
      let reference = try NPYArray.read(refs.appendingPathComponent("\(output).npy"))
      XCTAssertEqual(ours.shape, reference.shape, file: file, line: line)
      let difference = Self.maxAbsDifference(ours.floats(), reference.floats())
      XCTAssertLessThanOrEqual(difference, tolerance, "\(model.lastPathComponent) \(output)", file: file, line: line)
    }
  }

  func testMobileNetV2RawInputMatchesOnnxRuntime() throws {
    let models = try Self.models()
    try checkRawAgainstReferences(model: models.appendingPathComponent("mobilenet_v2_1.0_224.onnx"),
                                  refs: models.appendingPathComponent("refs/mobilenet_v2_1.0_224"))
  }

  func testTinyCNNRawInputMatchesOnnxRuntime() throws {
    let models = try Self.models()
    try checkRawAgainstReferences(model: models.appendingPathComponent("tiny_cnn.onnx"),
                                  refs: models.appendingPathComponent("refs/tiny_cnn"))
  }

  func testEfficientNetLite0FromSetupModelsMatchesTheReferenceOutputs() throws {
    let models = try Self.models()
    try checkRawAgainstReferences(model: try Self.cachedLite0(),
                                  refs: models.appendingPathComponent("refs/efficientnet_lite0"))
  }

  /// The three photos (images_u8.npy, already 224 x 224) written as PNG and embedded as plain images: our
  /// reading, scaling and the model's metadata normalisation give onnxruntime's top-1 labels (refs.json).
  func checkPhotoLabels(model: URL, refs: URL) throws {
    let dir = try TemporaryDirectory()
    let photos = try NPYArray.read(refs.appendingPathComponent("images_u8.npy"))
    XCTAssertEqual(photos.shape, [3, 224, 224, 3])
    let bytes = try XCTUnwrap(photos.values(as: UInt8.self))
    var files: [String] = []
    for n in 0..<3 {
      var planar = [Float](repeating: 0, count: 3 * 224 * 224)
      for i in 0..<(224 * 224) {
        for c in 0..<3 { planar[c * 224 * 224 + i] = Float(bytes[(n * 224 * 224 + i) * 3 + c]) }
      }
      let url = dir.file("photo\(n).png")
      try writePNG(Image(channels: 3, height: 224, width: 224, pixels: planar), to: url)
      files.append(url.path)
    }
    let logits = try embed(["--model", model.path, "--output", "logits"] + files, dir: dir, name: "logits.npy")
    let refsJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: refs.appendingPathComponent("refs.json")))
    let rows = try XCTUnwrap((refsJSON as? [String: Any])?["rows"] as? [[String: Any]])
    let classes = logits.shape[1]
    let values = logits.floats()
    for n in 0..<3 {
      let row = values[n * classes..<(n + 1) * classes]
      let top = row.indices.max { row[$0] < row[$1] }! - n * classes
      let label = rows[n]["top1_label"] ?? ""
      XCTAssertEqual(top, rows[n]["top1_index"] as? Int, "\(model.lastPathComponent) photo \(n) (\(label))")
    }
  }

  func testPhotoTopOneLabelsWithMobileNetV2() throws {
    let models = try Self.models()
    try checkPhotoLabels(model: models.appendingPathComponent("mobilenet_v2_1.0_224.onnx"),
                         refs: models.appendingPathComponent("refs/mobilenet_v2_1.0_224"))
  }

  func testPhotoTopOneLabelsWithTheDefaultLite0() throws {
    let models = try Self.models()
    try checkPhotoLabels(model: try Self.cachedLite0(), refs: models.appendingPathComponent("refs/efficientnet_lite0"))
  }

  /// A two-channel site embeds channel by channel: its vector is the two single-channel vectors concatenated.
  func testEachChannelModeConcatenatesPerChannelEmbeddings() throws {
    let tiny = try Self.models().appendingPathComponent("tiny_cnn.onnx").path
    let dir = try TemporaryDirectory()
    var files: [String] = []
    for c in 0..<2 {
      let pixels = (0..<(50 * 60)).map { Float(($0 * (37 + 11 * c)) % 4096) }
      let url = dir.file("channel\(c).png")
      try writePNG(Image(channels: 1, height: 50, width: 60, pixels: pixels), to: url, bitDepth: .sixteen)
      files.append(url.path)
    }
    let both = try embed(["--model", tiny, files.joined(separator: ",")], dir: dir, name: "both.npy")
    let first = try embed(["--model", tiny, files[0]], dir: dir, name: "first.npy")
    let second = try embed(["--model", tiny, files[1]], dir: dir, name: "second.npy")
    XCTAssertEqual(both.shape, [1, 48])
    XCTAssertEqual(first.shape, [1, 24])
    XCTAssertLessThanOrEqual(Self.maxAbsDifference(both.floats(), first.floats() + second.floats()), 1e-5)
    XCTAssertNotEqual(first.floats(), second.floats())
  }

  /// Percentile stretch and bilinear resize (down 50 x 60 and up 20 x 25 to tiny_cnn's 33 x 40) agree with numpy's
  /// percentile, scikit-image's order-1 resize and onnxruntime on the same 16-bit PNGs.
  func testPreprocessingMatchesNumpySkimageAndOnnxRuntime() throws {
    let tiny = try Self.models().appendingPathComponent("tiny_cnn.onnx").path
    let dir = try TemporaryDirectory()
    var files: [String] = []
    for (n, (h, w)) in [(50, 60), (20, 25)].enumerated() {
      let pixels = (0..<(h * w)).map { i in Float((i * 7919 + n * 13) % 3001 + (i % w) * 20) }
      let url = dir.file("site\(n).png")
      try writePNG(Image(channels: 1, height: h, width: w, pixels: pixels), to: url, bitDepth: .sixteen)
      files.append(url.path)
    }
    let ours = try embed(["--model", tiny, "--param", "intensity=percentile"] + files, dir: dir, name: "ours.npy")
    let script = """
      import sys, json, numpy as np, imagecodecs, onnxruntime as ort
      from skimage.transform import resize
      rows = []
      for path in sys.argv[2:]:
          img = imagecodecs.imread(path).astype(np.float64)
          lo, hi = np.percentile(img, [1, 99])
          s = np.clip((img - lo) * 255 / (hi - lo), 0, 255)
          r = resize(s, (33, 40), order=1, mode='edge', anti_aliasing=False, preserve_range=True)
          rows.append(np.repeat(((r - 127) / 128)[None], 3, axis=0))
      x = np.stack(rows).astype(np.float32)
      session = ort.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])
      print(json.dumps(session.run(['embedding'], {'input': x})[0].ravel().tolist()))
      """
    let reference: [Double]
    do {
      reference = try XCTUnwrap(try PythonReference.json(script, arguments: [tiny] + files) as? [Double])
    } catch let s as SkipReason { throw XCTSkip(s.description) }
    XCTAssertEqual(ours.shape, [2, 24])
    XCTAssertLessThanOrEqual(Self.maxAbsDifference(ours.floats(), reference.map(Float.init)), 1e-4)
  }

  /// Random weights: fixed by the seed, different for another seed and from the trained weights.
  func testRandomWeightsAreSeededAndDiffer() throws {
    let models = try Self.models()
    let tiny = models.appendingPathComponent("tiny_cnn.onnx").path
    let input = models.appendingPathComponent("refs/tiny_cnn/input.npy").path
    let dir = try TemporaryDirectory()
    func run(_ extra: [String], _ name: String) throws -> [Float] {
      try embed(["--model", tiny, "--raw-input", input] + extra, dir: dir, name: name).floats()
    }
    let trained = try run([], "trained.npy")
    let a = try run(["--param", "random_weights=true", "--param", "seed=7"], "a.npy")
    let b = try run(["--param", "random_weights=true", "--param", "seed=7"], "b.npy")
    let c = try run(["--param", "random_weights=true", "--param", "seed=8"], "c.npy")
    XCTAssertEqual(a, b)
    XCTAssertGreaterThan(Self.maxAbsDifference(a, c), 1e-3)
    XCTAssertGreaterThan(Self.maxAbsDifference(a, trained), 1e-3)
    XCTAssertTrue(a.allSatisfy(\.isFinite))
  }

  /// Random weights are He-normal: a 1x1 Conv (16 -> 256, bias 1) read back through unit inputs has weights of
  /// mean 0 and std sqrt(2 / 16) (4096 draws: within 5%), and its bias is zeroed (zero input, zero output).
  func testRandomWeightsAreHeNormalWithZeroBias() throws {
    let dir = try TemporaryDirectory()
    let (model, input) = (dir.file("conv.onnx"), dir.file("basis.npy"))
    do {
      _ = try PythonReference.run(
        "import sys, numpy as np, onnx\nfrom onnx import helper, numpy_helper, TensorProto as T\n"
          + "w = numpy_helper.from_array(np.zeros((256, 16, 1, 1), np.float32), 'w')\n"
          + "b = numpy_helper.from_array(np.ones(256, np.float32), 'b')\n"
          + "g = helper.make_graph([helper.make_node('Conv', ['input', 'w', 'b'], ['embedding'], name='c')], 'g',\n"
          + "  [helper.make_tensor_value_info('input', T.FLOAT, ['N', 16, 1, 1])],\n"
          + "  [helper.make_tensor_value_info('embedding', T.FLOAT, ['N', 256, 1, 1])], [w, b])\n"
          + "onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), sys.argv[1])\n"
          + "x = np.concatenate([np.eye(16), np.zeros((1, 16))]).astype(np.float32)\n"
          + "np.save(sys.argv[2], x[:, :, None, None])\n",
        arguments: [model.path, input.path])
    } catch let s as SkipReason { throw XCTSkip(s.description) }
    let out = try embed(["--model", model.path, "--raw-input", input.path, "--param", "random_weights=true"],
                        dir: dir, name: "out.npy").floats()
    XCTAssertEqual(out.count, 17 * 256)
    let weights = out.prefix(16 * 256).map(Double.init)
    let mean = weights.reduce(0, +) / Double(weights.count)
    let std = (weights.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(weights.count)).squareRoot()
    XCTAssertEqual(mean, 0, accuracy: 0.03)
    XCTAssertEqual(std, (2.0 / 16).squareRoot(), accuracy: 0.05 * (2.0 / 16).squareRoot())
    XCTAssertEqual(out.suffix(256).map(abs).max(), 0)
  }

  /// Runs `confound embed` expecting failure: exit status 1 and a message containing every fragment.
  func expectFailure(_ arguments: [String], mentions fragments: [String], file: StaticString = #filePath,
                     line: UInt = #line) throws {
    let dir = try TemporaryDirectory()
    let run = try ScreenCommandTests.confound(["embed"] + Self.plugin + arguments + ["--out", dir.file("x.npy").path])
    XCTAssertEqual(run.status, 1, run.output, file: file, line: line)
    for fragment in fragments {
      XCTAssertTrue(run.output.contains(fragment), "\"\(fragment)\" missing from: \(run.output)",
                    file: file, line: line)
    }
  }

  func testTruncatedModelIsAClearError() throws {
    let models = try Self.models()
    let dir = try TemporaryDirectory()
    let bytes = try Data(contentsOf: models.appendingPathComponent("tiny_cnn.onnx"))
    let truncated = dir.file("truncated.onnx")
    try bytes.prefix(bytes.count / 2).write(to: truncated)
    let input = models.appendingPathComponent("refs/tiny_cnn/input.npy").path
    try expectFailure(["--model", truncated.path, "--raw-input", input],
                      mentions: ["truncated.onnx", "truncated or corrupt"])
  }

  func testUnknownOperatorIsAClearError() throws {
    let models = try Self.models()
    let dir = try TemporaryDirectory()
    let model = dir.file("erf.onnx")
    do {
      _ = try PythonReference.run(
        "import sys, onnx\nfrom onnx import helper, TensorProto as T\n"
          + "g = helper.make_graph([helper.make_node('Erf', ['input'], ['embedding'], name='the_erf')], 'g',\n"
          + "  [helper.make_tensor_value_info('input', T.FLOAT, ['N', 3, 33, 40])],\n"
          + "  [helper.make_tensor_value_info('embedding', T.FLOAT, ['N', 3, 33, 40])])\n"
          + "onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), sys.argv[1])\n",
        arguments: [model.path])
    } catch let s as SkipReason { throw XCTSkip(s.description) }
    let input = models.appendingPathComponent("refs/tiny_cnn/input.npy").path
    try expectFailure(["--model", model.path, "--raw-input", input],
                      mentions: ["'Erf'", "the_erf", "erf.onnx"])
  }

  func testWrongInputShapeIsAClearError() throws {
    let models = try Self.models()
    // MobileNetV2's 224 x 224 batch into tiny_cnn, which takes 33 x 40.
    try expectFailure(["--model", models.appendingPathComponent("tiny_cnn.onnx").path, "--raw-input",
                       models.appendingPathComponent("refs/mobilenet_v2_1.0_224/input.npy").path],
                      mentions: ["input 'input' expects shape [N,3,33,40]", "[7,3,224,224]"])
  }

  func testMissingModelNamesTheFile() throws {
    let input = try Self.models().appendingPathComponent("refs/tiny_cnn/input.npy").path
    try expectFailure(["--model", "/nonexistent/model.onnx", "--raw-input", input],
                      mentions: ["/nonexistent/model.onnx", "does not exist", ".ci/setup-models"])
  }

  /// The conformance suite with the plugin's default model (the cached Lite0): a crop embeds the same alone and
  /// in a batch, outputs are finite and deterministic.
  func testConformanceSuitePasses() throws {
    _ = try Self.cachedLite0()
    let so = LiveHost.binDirectory.appendingPathComponent("libconfound-plugin-embedder.so")
    guard FileManager.default.fileExists(atPath: so.path) else { throw XCTSkip("\(so.path) is not built") }
    let run = try ScreenCommandTests.confound(["plugins", "check", so.path])
    XCTAssertEqual(run.status, 0, run.output)
    XCTAssertTrue(run.output.contains("0 failed"), run.output)
  }
}
