import Foundation
import TestSupport
import XCTest

@testable import NeuralNet

/// GradCAM, GradCAM++, input gradients and occlusion: the CAM identity on MobileNetV2 and EfficientNet-Lite0
/// (exactly, and against onnxruntime's activations), occlusion against its closed form on a linear model,
/// upsampling against scikit-image, Spearman against SciPy, and the cascading randomisation check.
final class SaliencyTests: XCTestCase {
  private func mobileNetV2() throws -> (Network, Tensor, URL) {
    let models = try modelsFolder()
    let url = models.appendingPathComponent("mobilenet_v2_1.0_224.onnx")
    let photos = try Npy.read(models.appendingPathComponent("refs/mobilenet_v2_1.0_224/input.npy"))
    return (try Network(contentsOf: url), photos.slice(batch: 0..<3), url)
  }

  private func lite0() throws -> (Network, Tensor, URL) {
    let env = ProcessInfo.processInfo.environment
    let dir =
      env["CONFOUND_MODEL_DIR"].map { URL(fileURLWithPath: $0) }
      ?? URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache/confound/models")
    let url = dir.appendingPathComponent("efficientnet_lite0.onnx")
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw XCTSkip("\(url.path) is absent: run `bash .ci/setup-models`")
    }
    let photos = try Npy.read(try modelsFolder().appendingPathComponent("refs/efficientnet_lite0/input.npy"))
    return (try Network(contentsOf: url), photos.slice(batch: 0..<3), url)
  }

  /// GradCAM at the global pool's input of a linear head: the gradient is W[K, c] / (h w) at every position, so
  /// GradCAM is CAM, `sum_c W[K, c] A_c / (h w)`.
  private func checkCAMIdentity(
    _ network: Network, _ photos: Tensor, _ url: URL, layer: String, head: String,
    weight: String, column: Int
  ) throws {
    XCTAssertEqual(try network.defaultCAMLayer(output: head), layer)
    let w = try XCTUnwrap(network.graph.constants.floats[weight])
    // Exactly, in float64: the gradient at the layer is the head's weight over the area.
    let tape = try network.record(TensorOf<Double>(photos.slice(batch: 0..<1)), outputs: [head], watching: [layer])
    let g = try tape.gradients(of: head, column: column, withRespectTo: [layer])[layer]!
    let (c, plane) = (g.shape[1], g.shape[2] * g.shape[3])
    let worst = (0..<g.count).map { abs(g.data[$0] - Double(w.data[column * c + $0 / plane]) / Double(plane)) }.max()!
    XCTAssertLessThan(worst, 1e-15, "float64 gradient at \(layer) against W[K, c] / (h w)")
    // In float32, against CAM from our own activations.
    var options = SaliencyOptions(polarity: .signed)
    let gradCAM = try network.saliency(photos, output: head, column: column, method: .gradCAM, options: options)
    let a = Tensor(try network.record(TensorOf<Float>(photos), outputs: [head], watching: [layer]).value(layer))
    var cam = Tensor(shape: gradCAM.shape)
    for n in 0..<photos.shape[0] {
      for ch in 0..<c {
        for i in 0..<plane { cam.data[n * plane + i] += w.data[column * c + ch] * a.data[(n * c + ch) * plane + i] }
      }
    }
    for i in cam.data.indices { cam.data[i] /= Float(plane) }
    let scale = cam.data.map(abs).max()!
    assertClose(gradCAM, cam, absolute: 1e-6 * scale, "GradCAM against CAM of our activations")
    // Against CAM (and GradCAM++ by pytorch-grad-cam's formula) from onnxruntime's activations of the layer.
    let dir = try TemporaryDirectory(prefix: "nn-cam")
    try Npy.write(photos, to: dir.file("x.npy"))
    try python(
      """
      import sys, numpy as np, onnx, onnxruntime as ort
      from onnx import helper, numpy_helper, TensorProto
      model, layer, weight, k, out = onnx.load(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
      model.graph.output.append(helper.make_tensor_value_info(layer, TensorProto.FLOAT, None))
      w = next(numpy_helper.to_array(t) for t in model.graph.initializer if t.name == weight).astype(np.float64)
      session = ort.InferenceSession(model.SerializeToString(), providers=['CPUExecutionProvider'])
      a = session.run([layer], {'input': np.load(out + '/x.npy')})[0].astype(np.float64)
      area = a.shape[2] * a.shape[3]
      np.save(out + '/cam.npy', (np.einsum('c,nchw->nhw', w[k], a) / area).astype(np.float32))
      g = np.broadcast_to((w[k] / area)[None, :, None, None], a.shape)
      aij = g**2 / (2 * g**2 + a.sum(axis=(2, 3))[:, :, None, None] * g**3 + 1e-7)
      aij = np.where(g != 0, aij, 0)
      weights = (np.maximum(g, 0) * aij).sum(axis=(2, 3))
      np.save(out + '/campp.npy', np.maximum(np.einsum('nc,nchw->nhw', weights, a), 0).astype(np.float32))
      """, [url.path, layer, weight, String(column), dir.url.path])
    let reference = try Npy.read(dir.file("cam.npy"))
    assertClose(gradCAM, reference, absolute: 1e-4, "GradCAM against CAM of onnxruntime's activations")
    print(
      "\(url.lastPathComponent): GradCAM vs CAM(onnxruntime) max abs \(maxAbsDifference(gradCAM, reference, "cam")), "
        + "map scale \(scale)")
    options.polarity = .positive
    let plusPlus = try network.saliency(
      photos, output: head, column: column, method: .gradCAMPlusPlus, options: options)
    let referencePP = try Npy.read(dir.file("campp.npy"))
    let scalePP = referencePP.data.max()!
    assertClose(plusPlus, referencePP, absolute: 1e-4 * max(1, scalePP), relative: 1e-3, "GradCAM++")
  }

  func testCAMIdentityOnMobileNetV2() throws {
    let (network, photos, url) = try mobileNetV2()
    try checkCAMIdentity(
      network, photos, url, layer: "conv35.relu6", head: "logits", weight: "classifier.weight",
      column: 286)
  }

  func testCAMIdentityOnEfficientNetLite0() throws {
    let (network, photos, url) = try lite0()
    try checkCAMIdentity(network, photos, url, layer: "head", head: "logits", weight: "fc_w", column: 285)
  }

  /// A logistic head: GradCAM of the probability `p = sigmoid(z)` is `p (1 - p)` times CAM of the logit z, per image.
  func testCAMIdentityThroughALogisticHead() throws {
    let models = try modelsFolder()
    let dir = try TemporaryDirectory(prefix: "nn-logistic")
    try python(
      """
      import sys, onnx
      from onnx import helper, TensorProto
      model = onnx.load(sys.argv[1])
      model.graph.node.append(helper.make_node('Sigmoid', ['logits'], ['probability']))
      model.graph.output.append(helper.make_tensor_value_info('probability', TensorProto.FLOAT, None))
      onnx.save(model, sys.argv[2])
      """, [models.appendingPathComponent("tiny_cnn.onnx").path, dir.file("logistic.onnx").path])
    let network = try Network(contentsOf: dir.file("logistic.onnx"))
    let input = try Npy.read(models.appendingPathComponent("refs/tiny_cnn/input.npy"))
    XCTAssertEqual(try network.defaultCAMLayer(output: "probability"), "add2")
    let gradCAM = try network.saliency(
      input, output: "probability", column: 4, method: .gradCAM, options: SaliencyOptions(polarity: .signed))
    let tape = try network.record(TensorOf<Float>(input), outputs: ["probability"], watching: ["add2"])
    let (a, p) = (try tape.value("add2"), try tape.value("probability"))
    let w = try XCTUnwrap(network.graph.constants.floats["classifier.weight"])
    let (c, plane) = (a.shape[1], a.shape[2] * a.shape[3])
    var expected = Tensor(shape: gradCAM.shape)
    for n in 0..<input.shape[0] {
      let slope = p.data[n * 10 + 4] * (1 - p.data[n * 10 + 4])
      for ch in 0..<c {
        for i in 0..<plane {
          expected.data[n * plane + i] += slope * w.data[4 * c + ch] * a.data[(n * c + ch) * plane + i] / Float(plane)
        }
      }
    }
    let scale = expected.data.map(abs).max()!
    XCTAssertGreaterThan(scale, 0)
    assertClose(gradCAM, expected, absolute: 1e-5 * scale, "GradCAM of a logistic head against p (1 - p) CAM")
  }
}
