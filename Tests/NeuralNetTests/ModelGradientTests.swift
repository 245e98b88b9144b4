import Foundation
import TestSupport
import XCTest

@testable import NeuralNet

/// Gradients through the shipped models: input and intermediate gradients of tiny_cnn and of a small crop through
/// MobileNetV2 against central finite differences of the float64 forward pass, and the float32 tape against the
/// float64 one.
final class ModelGradientTests: XCTestCase {
  private func tinyCNN() throws -> (Network, Tensor) {
    let models = try modelsFolder()
    let network = try Network(contentsOf: models.appendingPathComponent("tiny_cnn.onnx"))
    return (network, try Npy.read(models.appendingPathComponent("refs/tiny_cnn/input.npy")))
  }

  func testTinyCNNInputAndIntermediateGradientsMatchFiniteDifferences() throws {
    let (network, input) = try tinyCNN()
    let feeds = ["input": input.slice(batch: 0..<2)]
    let names = ["input", "conv1.conv", "add1", "expand.relu", "dw2.relu6", "add2", "embedding"]
    let error = try GradientCheck.assertMatchesFiniteDifferences(
      network, feeds: feeds, output: "logits", withRespectTo: names, limit: 120)
    let float32 = try GradientCheck.float32Error(network, feeds: feeds, output: "logits", withRespectTo: names)
    print("tiny_cnn logits: \(error); float32 vs float64 \(String(format: "%.1e", float32.worst))")
    XCTAssertLessThan(float32.worst, 1e-5)
  }

  func testFloat64ForwardOfTinyCNNMatchesOnnxRuntime() throws {
    let (network, input) = try tinyCNN()
    let tape = try network.record(TensorOf<Double>(input), outputs: ["logits", "embedding"])
    let refs = try modelsFolder().appendingPathComponent("refs/tiny_cnn")
    assertClose(
      Tensor(try tape.value("logits")), try Npy.read(refs.appendingPathComponent("logits.npy")),
      absolute: 3e-5, relative: 1e-4, "float64 logits")
    assertClose(
      Tensor(try tape.value("embedding")), try Npy.read(refs.appendingPathComponent("embedding.npy")),
      absolute: 3e-5, relative: 1e-4, "float64 embedding")
  }

  func testOneSampleGradientIsThatImagesSliceOfTheSummedGradient() throws {
    let (network, input) = try tinyCNN()
    let tape = try network.record(TensorOf<Float>(input), outputs: ["logits"], watching: ["input", "add1"])
    let summed = try tape.gradients(of: "logits", column: 3, withRespectTo: ["input", "add1"])
    for n in 0..<input.shape[0] {
      let single = try tape.gradients(of: "logits", column: 3, sample: n, withRespectTo: ["input", "add1"])
      for name in ["input", "add1"] {
        let row = single[name]!.count / input.shape[0]
        let own = Array(single[name]!.data[(n * row)..<((n + 1) * row)])
        XCTAssertEqual(own, Array(summed[name]!.data[(n * row)..<((n + 1) * row)]), "\(name), image \(n)")
        let others = single[name]!.data.enumerated().filter { $0.offset / row != n }.map(\.element)
        XCTAssertTrue(others.allSatisfy { $0 == 0 }, "\(name): image \(n)'s output reaches other images")
      }
    }
    XCTAssertThrowsError(try tape.gradients(of: "logits", column: 10, withRespectTo: ["input"])) { error in
      XCTAssertTrue("\(error)".contains("10 columns"), "\(error)")
    }
    XCTAssertThrowsError(try tape.gradients(of: "logits", column: 0, withRespectTo: ["dw2.conv"])) { error in
      XCTAssertTrue("\(error)".contains("watching"), "\(error)")
    }
  }

  func testMobileNetV2InputGradientOfACropMatchesFiniteDifferences() throws {
    let models = try modelsFolder()
    let network = try Network(contentsOf: models.appendingPathComponent("mobilenet_v2_1.0_224.onnx"))
    let photos = try Npy.read(models.appendingPathComponent("refs/mobilenet_v2_1.0_224/input.npy"))
    // A 32 x 32 crop of the cat photo: every layer still runs (the last at 1 x 1).
    var crop = Tensor(shape: [1, 3, 32, 32])
    for c in 0..<3 {
      for y in 0..<32 {
        for x in 0..<32 { crop.data[(c * 32 + y) * 32 + x] = photos.data[(c * 224 + 80 + y) * 224 + 90 + x] }
      }
    }
    let feeds = ["input": crop]
    let error = try GradientCheck.assertMatchesFiniteDifferences(
      network, feeds: feeds, output: "logits", withRespectTo: ["input", "conv35.relu6"], limit: 12,
      anySpatialSize: true)
    // Past the first layer float32 agrees with float64 to rounding. At the input it cannot everywhere: one
    // pre-activation of conv1 of this crop lies within 1e-5 of the ReLU6 bound 0, so float32 and float64 disagree
    // on which side it falls and the 27 input pixels it reads get different gradients. Hence a bound on the share.
    let deep = try GradientCheck.float32Error(
      network, feeds: feeds, output: "logits", withRespectTo: ["conv2", "add2", "conv30"], anySpatialSize: true)
    let input = try GradientCheck.float32Error(
      network, feeds: feeds, output: "logits", withRespectTo: ["input"], anySpatialSize: true)
    print(
      "MobileNetV2 32x32 crop, logits: \(error); float32 vs float64: past conv1 \(deep.worst), at the input "
        + "\(input.worst) (\(input.shareAbove1e5 * 100)% of pixels off by more than 1e-5)")
    XCTAssertLessThan(deep.worst, 1e-5)
    XCTAssertLessThan(input.shareAbove1e5, 0.01)
  }
}
