import Foundation
import NeuralNet
import XCTest

/// MobileNetV2-1.0-224 against onnxruntime's reference outputs (three photos, four random inputs).
final class MobileNetV2Tests: XCTestCase {
  func testEmbeddingLogitsAndTopLabelsMatchOnnxRuntime() throws {
    let models = try modelsFolder()
    let refs = models.appendingPathComponent("refs/mobilenet_v2_1.0_224")
    let network = try Network(contentsOf: models.appendingPathComponent("mobilenet_v2_1.0_224.onnx"))
    let input = try Npy.read(refs.appendingPathComponent("input.npy"))
    let outputs = try network.run(input, outputs: ["embedding", "logits"], threads: 2)
    assertClose(
      outputs["embedding"]!, try Npy.read(refs.appendingPathComponent("embedding.npy")), absolute: 1e-4, "embedding")
    let logits = outputs["logits"]!
    assertClose(logits, try Npy.read(refs.appendingPathComponent("logits.npy")), absolute: 2e-4, "logits")

    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: refs.appendingPathComponent("refs.json")))
    let rows = try XCTUnwrap((json as? [String: Any])?["rows"] as? [[String: Any]])
    let photos = rows.filter { ($0["source"] as? String)?.hasSuffix(".bmp") == true }
    XCTAssertEqual(photos.count, 3)
    let classes = logits.shape[1]
    for photo in photos {
      let row = try XCTUnwrap(photo["row"] as? Int)
      let scores = logits.data[(row * classes)..<((row + 1) * classes)]
      let top = scores.indices.max { scores[$0] < scores[$1] }! - row * classes
      XCTAssertEqual(top, photo["top1_index"] as? Int, "top-1 of \(photo["source"] ?? row)")
    }
  }

  func testOneImageAtATimeEqualsTheBatch() throws {
    let models = try modelsFolder()
    let network = try Network(contentsOf: models.appendingPathComponent("mobilenet_v2_1.0_224.onnx"))
    let input = try Npy.read(models.appendingPathComponent("refs/mobilenet_v2_1.0_224/input.npy")).slice(batch: 0..<2)
    let batch = try network.run(input, outputs: ["embedding"])["embedding"]!
    for image in 0..<2 {
      let single = try network.run(input.slice(batch: image..<(image + 1)), outputs: ["embedding"])["embedding"]!
      XCTAssertEqual(single.data, batch.slice(batch: image..<(image + 1)).data, "image \(image)")
    }
  }
}
