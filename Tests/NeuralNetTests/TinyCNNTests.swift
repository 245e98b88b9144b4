import Foundation
import NeuralNet
import XCTest

/// tiny_cnn against onnxruntime's outputs for every node: non-square input and asymmetric, per-axis pads
/// catch H/W swaps and pad-order mistakes at the layer where they happen.
final class TinyCNNTests: XCTestCase {
  private func fixture() throws -> (Network, Tensor, URL) {
    let models = try modelsFolder()
    let network = try Network(contentsOf: models.appendingPathComponent("tiny_cnn.onnx"))
    let refs = models.appendingPathComponent("refs/tiny_cnn")
    return (network, try Npy.read(refs.appendingPathComponent("input.npy")), refs)
  }

  func testEveryIntermediateMatchesOnnxRuntime() throws {
    let (network, input, refs) = try fixture()
    let files = try FileManager.default.contentsOfDirectory(atPath: refs.appendingPathComponent("intermediates").path)
      .filter { $0.hasSuffix(".npy") }.sorted()
    XCTAssertEqual(files.count, 17)
    // File NN_<value>.npy holds value <value>.
    let names = files.map { String($0.dropFirst(3).dropLast(4)) }
    let outputs = try network.run(input, outputs: names)
    for (file, name) in zip(files, names) {
      let expected = try Npy.read(refs.appendingPathComponent("intermediates/\(file)"))
      assertClose(outputs[name]!, expected, absolute: 1e-5, relative: 1e-4, name)
    }
  }

  func testFusedOutputsMatchOnnxRuntimeOnOneAndTwoThreads() throws {
    let (network, input, refs) = try fixture()
    let embedding = try Npy.read(refs.appendingPathComponent("embedding.npy"))
    let logits = try Npy.read(refs.appendingPathComponent("logits.npy"))
    for threads in [1, 2] {
      // Only the final values requested: Clip/Relu are fused into the convolutions here.
      let outputs = try network.run(input, outputs: ["embedding", "logits"], threads: threads)
      assertClose(outputs["embedding"]!, embedding, absolute: 1e-5, relative: 1e-4, "embedding, \(threads) threads")
      assertClose(outputs["logits"]!, logits, absolute: 1e-5, relative: 1e-4, "logits, \(threads) threads")
    }
  }

  func testDescribesTheModel() throws {
    let (network, _, _) = try fixture()
    XCTAssertEqual(network.inputs.map(\.name), ["input"])
    XCTAssertEqual(network.inputs[0].shape, [.named("N"), .fixed(3), .fixed(33), .fixed(40)])
    XCTAssertEqual(Set(network.outputs), ["embedding", "logits"])
    XCTAssertEqual(network.opsetVersion, 13)
    XCTAssertEqual(network.irVersion, 7)
    let url = try modelsFolder().appendingPathComponent("tiny_cnn.onnx")
    let script =
      "import onnx, sys, json; m = onnx.load(sys.argv[1]); "
      + "print(json.dumps({p.key: p.value for p in m.metadata_props}))"
    let expected = try JSONSerialization.jsonObject(with: Data(try python(script, [url.path]).utf8))
    XCTAssertEqual(network.metadata, expected as? [String: String])
    XCTAssertEqual(network.metadata.count, 5)
  }

  func testWrongInputShapeNamesExpectedAndReceived() throws {
    let (network, _, _) = try fixture()
    XCTAssertThrowsError(try network.run(Tensor(shape: [2, 3, 40, 33]), outputs: ["logits"])) { error in
      XCTAssertEqual(
        error as? NeuralNetError, .inputShape(name: "input", expected: "[N,3,33,40]", received: [2, 3, 40, 33]))
      XCTAssertTrue("\(error)".contains("[N,3,33,40]") && "\(error)".contains("[2,3,40,33]"), "\(error)")
    }
  }

  func testUnknownValueIsNamed() throws {
    let (network, input, _) = try fixture()
    XCTAssertThrowsError(try network.run(input, outputs: ["no_such_value"])) { error in
      XCTAssertTrue("\(error)".contains("no_such_value"), "\(error)")
    }
  }

  func testTruncatedFileNamesFileAndOffset() throws {
    let models = try modelsFolder()
    let url = models.appendingPathComponent("tiny_cnn.onnx")
    let bytes = [UInt8](try Data(contentsOf: url))
    for cut in [bytes.count / 3, bytes.count - 7] {
      XCTAssertThrowsError(try Network(bytes: Array(bytes.prefix(cut)), file: "cut.onnx")) { error in
        guard case .corruptModel(let file, let offset, _) = error as? NeuralNetError else {
          return XCTFail("expected corruptModel, got \(error)")
        }
        XCTAssertEqual(file, "cut.onnx")
        XCTAssertTrue(offset >= 0 && offset <= cut, "offset \(offset) outside the \(cut) bytes read")
        XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
      }
    }
  }
}
