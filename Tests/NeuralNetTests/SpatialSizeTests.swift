import Foundation
import NeuralNet
import TestSupport
import XCTest

/// `anySpatialSize`: a fully convolutional network pooled before its output runs at another input size (the audit
/// embeds 32-pixel cell crops at 64 x 64), and agrees with onnxruntime running the same file with its declared
/// height and width made free; without the flag the declared size is enforced.
final class SpatialSizeTests: XCTestCase {
  func testMobileNetV2At64PixelsMatchesOnnxRuntime() throws {
    let model = try modelsFolder().appendingPathComponent("mobilenet_v2_1.0_224.onnx")
    let dir = try TemporaryDirectory()
    try python(
      """
      import sys, numpy as np, onnx, onnxruntime as ort
      model = onnx.load(sys.argv[1])
      dims = model.graph.input[0].type.tensor_type.shape.dim
      dims[2].dim_param, dims[3].dim_param = 'H', 'W'
      x = np.random.default_rng(5).uniform(-1, 1, (3, 3, 64, 64)).astype(np.float32)
      session = ort.InferenceSession(model.SerializeToString(), providers=['CPUExecutionProvider'])
      np.save(sys.argv[2] + '/x.npy', x)
      np.save(sys.argv[2] + '/embedding.npy', session.run(['embedding'], {'input': x})[0])
      """, [model.path, dir.url.path])
    let network = try Network(contentsOf: model)
    let input = try Npy.read(dir.file("x.npy"))
    let expected = try Npy.read(dir.file("embedding.npy"))
    XCTAssertEqual(expected.shape, [3, 1280])
    for threads in [1, 2] {
      let ours = try network.run(input, outputs: ["embedding"], threads: threads, anySpatialSize: true)["embedding"]!
      assertClose(ours, expected, absolute: 1e-4, "embedding at 64 x 64, \(threads) threads")
    }
    XCTAssertThrowsError(try network.run(input, outputs: ["embedding"])) { error in
      XCTAssertEqual(
        error as? NeuralNetError, .inputShape(name: "input", expected: "[N,3,224,224]", received: [3, 3, 64, 64]))
    }
    // The channel axis stays checked: only height and width are free.
    XCTAssertThrowsError(try network.run(Tensor(shape: [1, 4, 64, 64]), outputs: ["embedding"], anySpatialSize: true))
  }
}
