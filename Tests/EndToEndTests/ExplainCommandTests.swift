import Foundation
import JSONRPC
import TestSupport
import XCTest

/// `confound explain` and `confound plugins check` on the built-in explainer, through the built binaries.
final class ExplainCommandTests: XCTestCase {
  /// 48 wells of 8 cell lines (4 healthy, 4 disease, 6 wells each): nuclei counts follow disease (the paper's
  /// confounder), focus and area are noise.
  func densityTable(in dir: TemporaryDirectory) throws -> URL {
    var text = "Metadata_Line,Metadata_Disease,Count_Nuclei,ImageQuality_FocusScore_DNA,Cells_AreaShape_Area\n"
    for w in 0..<48 {
      let line = w / 6
      let disease = line >= 4
      // Multiplicative congruences scatter the noise over the wells without a generator.
      let count = (disease ? 70 : 45) + (w * 7 + 3) % 15
      text +=
        "L\(line),\(disease ? "disease" : "healthy"),\(count),\(Double((w * 7919) % 1000) / 1000),"
        + "\(100 + (w * 13) % 40)\n"
    }
    let url = dir.file("wells.csv")
    try Data(text.utf8).write(to: url)
    return url
  }

  func testExplainNamesDensity() throws {
    let dir = try TemporaryDirectory()
    let table = try densityTable(in: dir)
    let confound = try LiveHost.binary("confound").path
    let arguments = ["explain", "--table", table.path, "--target", "Metadata_Disease", "--groups", "Metadata_Line"]
    let output = try runCommandStdout(confound, arguments + ["--json", "--repeats", "8"])
    let result = try JSONParser.parse(Array(output.utf8))
    XCTAssertEqual(result["classes"], ["disease", "healthy"])
    XCTAssertEqual(result["families"]?["density"], ["Count_Nuclei"])
    let importance = result["permutation_importance"]?.arrayValue ?? []
    XCTAssertEqual(importance.first?["family"], "density", "the density family matters most: \(importance)")
    XCTAssertEqual(importance.first(where: { $0["feature"] != nil })?["feature"], "Count_Nuclei")
    XCTAssertGreaterThan(importance.first?["mean"]?.doubleValue ?? 0, 0.3)
    let focus = importance.first { $0["family"] == "focus" }
    XCTAssertLessThan(abs(focus?["mean"]?.doubleValue ?? 1), 0.1, "focus is noise here")
    // P(healthy), the second class in sorted order, falls as nuclei per well rise.
    let curve = (result["partial_dependence"]?.arrayValue ?? []).first { $0["feature"] == "Count_Nuclei" }
    let average = curve?["average"]?.arrayValue?.compactMap(\.doubleValue) ?? []
    XCTAssertEqual(curve?["class"], "healthy")
    XCTAssertEqual(curve?["individual"]?.arrayValue?.count, 48, "one ICE curve per well")
    XCTAssertGreaterThan(average.first ?? 0, 0.8)
    XCTAssertLessThan(average.last ?? 1, 0.2)
    let text = try runCommandStdout(confound, arguments)
    XCTAssertTrue(text.contains("family density (1 feature):"), text)
    XCTAssertTrue(text.contains("partial dependence of P(healthy) on Count_Nuclei"), text)
  }

  /// `confound plugins check` runs the explainer kind's known-answer case on the built-in plugin.
  func testConformanceSuitePasses() throws {
    let plugin = LiveHost.binDirectory.appendingPathComponent("libconfound-plugin-explainer.so")
    let output = try runCommand(try LiveHost.binary("confound").path, ["plugins", "check", plugin.path])
    XCTAssertTrue(output.contains(" 0 failed"), output)
    XCTAssertFalse(output.contains("FAIL"), output)
  }

  /// `confound explain --model`: GradCAM through the host and the explainer plugin equals CAM computed from
  /// onnxruntime's activations of the same model (a linear head on globally pooled features: the weights of the
  /// column times the feature maps, over their area).
  func testGradCAMThroughTheCommandEqualsCAMFromOnnxRuntime() throws {
    let models: URL
    do { models = try SharedData.require("models") } catch let s as SkipReason { throw XCTSkip(s.description) }
    let dir = try TemporaryDirectory()
    let maps = dir.file("maps.npy")
    let model = models.appendingPathComponent("tiny_cnn.onnx"), input = models.appendingPathComponent("refs/tiny_cnn/input.npy")
    try runCommandStdout(try LiveHost.binary("confound").path, [
      "explain", "--model", model.path, "--raw-input", input.path, "--output", "logits", "--index", "4",
      "--method", "gradcam", "--signed", "--out", maps.path,
    ])
    let check: Any
    do {
      check = try PythonReference.json(
        """
        import sys, json, numpy as np, onnx, onnxruntime as ort
        from onnx import helper, TensorProto, numpy_helper
        m = onnx.load(sys.argv[1])
        m.graph.output.append(helper.make_tensor_value_info('add2', TensorProto.FLOAT, None))
        w = [numpy_helper.to_array(t) for t in m.graph.initializer if t.name == 'classifier.weight'][0]
        x = np.load(sys.argv[2])
        s = ort.InferenceSession(m.SerializeToString(), providers=['CPUExecutionProvider'])
        a = s.run(['add2'], {s.get_inputs()[0].name: x})[0]
        cam = np.einsum('c,nchw->nhw', w[4], a) / (a.shape[2] * a.shape[3])
        ours = np.load(sys.argv[3])
        print(json.dumps({'shape': list(ours.shape), 'expected': list(cam.shape),
                          'error': float(np.abs(cam - ours).max()), 'scale': float(np.abs(cam).max())}))
        """, arguments: [model.path, input.path, maps.path])
    } catch let s as SkipReason { throw XCTSkip(s.description) }
    let result = try XCTUnwrap(check as? [String: Any])
    XCTAssertEqual(result["shape"] as? [Int], result["expected"] as? [Int])
    let error = try XCTUnwrap(result["error"] as? Double), scale = try XCTUnwrap(result["scale"] as? Double)
    XCTAssertGreaterThan(scale, 0)
    XCTAssertLessThanOrEqual(error, 1e-4 * max(scale, 1), "\(result)")
  }
}
