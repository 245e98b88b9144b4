import Foundation
import Statistics
import TestSupport
import XCTest

@testable import NeuralNet

/// The supervised CNN's pieces on tiny_cnn: the graph above a cut computes what the whole graph does, the training
/// gradient is the loss's derivative, training learns a planted signal, and GradCAM of the head at the pooled layer
/// is CAM.
final class FineTuningTests: XCTestCase {
  private func tiny() throws -> Network {
    try Network(contentsOf: try modelsFolder().appendingPathComponent("tiny_cnn.onnx")).folded()
  }

  /// 3 x 33 x 40 images (tiny_cnn's input): noise, plus a bright centre square when the label is 1 (strength `signal`).
  private func images(_ labels: [Int], signal: Float, seed: UInt64) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    var data = [Float]()
    for label in labels {
      for _ in 0..<3 {
        for y in 0..<33 {
          for x in 0..<40 {
            let centre = (16..<24).contains(x) && (12..<20).contains(y)
            data.append(Float(generator.nextGaussian()) * 0.5 + (centre && label == 1 ? signal : 0))
          }
        }
      }
    }
    return Tensor(shape: [labels.count, 3, 33, 40], data: data)
  }

  func testTheGraphAboveACutComputesWhatTheWholeGraphDoes() throws {
    let network = try tiny()
    let (cut, layers) = try network.cut(belowTop: 1, of: "embedding")
    XCTAssertEqual(cut, "pw2")
    XCTAssertEqual(layers, ["conv3"])
    let input = images([0, 1, 1], signal: 2, seed: 1)
    let whole = try network.run(input, outputs: ["embedding", cut])
    let top = try network.subnetwork(from: cut, to: "embedding")
    let part = try top.run(whole[cut]!, outputs: ["embedding"])["embedding"]!
    XCTAssertEqual(part.shape, whole["embedding"]!.shape)
    for (a, b) in zip(part.data, whole["embedding"]!.data) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    // A cut that the output is not computed from is refused by name.
    XCTAssertThrowsError(try network.subnetwork(from: "logits", to: "embedding")) { error in
      XCTAssertTrue("\(error)".contains("logits"), "\(error)")
    }
  }

  func testTrainingGradientIsTheDerivativeOfTheLoss() throws {
    let network = try tiny()
    let (cut, layers) = try network.cut(belowTop: 1, of: "embedding")
    let top = try network.subnetwork(from: cut, to: "embedding")
    let labels = [0, 1, 0, 1, 1, 0]
    let values = try network.run(images(labels + labels, signal: 1, seed: 2), outputs: [cut])[cut]!
    var generator = SeededGenerator(seed: 3)
    let dimension = try top.run(values.slice(batch: 0..<1), outputs: ["embedding"])["embedding"]!.count
    let head = (0..<(2 * dimension)).map { _ in Float(generator.nextGaussian()) * 0.3 }
    let model = FineTunedClassifier(top: top, output: "embedding", layers: layers, head: head, bias: 0.1, views: 2)
    let weights = [Float](repeating: 1, count: labels.count)
    let step = try model.gradients(top, values, labels: labels, weights: weights, threads: 2)
    // The loss as a function of conv3's weight, moved along its gradient: the directional derivative is |g|^2.
    let g = step.layers["conv3"]!.weight
    func loss(_ epsilon: Float) throws -> Double {
      var p = try top.parameters(of: layers)
      for i in p["conv3"]!.weight.data.indices { p["conv3"]!.weight.data[i] += epsilon * g.data[i] }
      let moved = FineTunedClassifier(
        top: try top.replacing(p), output: "embedding", layers: layers, head: head, bias: 0.1, views: 2)
      let z = try moved.logits(values)
      return zip(z, labels).map { z, y in Double(y == 1 ? softplus(-z) : softplus(z)) }.reduce(0, +) / Double(labels.count)
    }
    let norm = g.data.reduce(0.0) { $0 + Double($1 * $1) }
    XCTAssertGreaterThan(norm, 1e-8)
    let epsilon: Float = 1e-2 / Float(norm.squareRoot())
    let directional = (try loss(epsilon) - loss(-epsilon)) / (2 * Double(epsilon))
    XCTAssertEqual(directional / norm, 1, accuracy: 0.02, "directional derivative \(directional) against |g|^2 \(norm)")
    // The head's gradient in closed form: mean over samples of (p - y) times the sample's pooled vector.
    let pooled = try top.run(values, outputs: ["embedding"])["embedding"]!
    let z = model.score(pooled)
    let expected = (0..<head.count).map { j in
      labels.indices.map { s in (Float.logistic(z[s]) - Float(labels[s])) * pooled.data[s * head.count + j] }.reduce(0, +)
        / Float(labels.count)
    }
    for (a, b) in zip(step.head, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
  }

  private func softplus(_ x: Float) -> Float { x > 0 ? x + log1p(expf(-x)) : log1p(expf(x)) }

  func testFineTuningLearnsAPlantedSignalAndMovesTheTopLayer() throws {
    let network = try tiny()
    let (cut, layers) = try network.cut(belowTop: 1, of: "embedding")
    let top = try network.subnetwork(from: cut, to: "embedding")
    let train = (0..<96).map { $0 % 2 }, test = (0..<24).map { ($0 / 2) % 2 }
    let trainValues = try network.run(images(train, signal: 3, seed: 4), outputs: [cut])[cut]!
    let testValues = try network.run(images(test, signal: 3, seed: 5), outputs: [cut])[cut]!
    var settings = FineTunedClassifier.Settings()
    settings.epochs = 20
    settings.batch = 8
    settings.weightDecay = 1e-2
    settings.learningRate = 1e-2
    settings.layerLearningRate = 1e-3
    let model = try FineTunedClassifier.train(
      top, output: "embedding", layers: layers, inputs: trainValues, views: 1, labels: train, settings: settings)
    let auc = try Metrics.rocAUC(positive: test.map { $0 == 1 }, scores: try model.logits(testValues).map(Double.init))
    let trainAUC = try Metrics.rocAUC(positive: train.map { $0 == 1 }, scores: try model.logits(trainValues).map(Double.init))
    print("fine-tuned tiny_cnn: ROC AUC \(auc) held out, \(trainAUC) on its training images")
    XCTAssertGreaterThan(auc, 0.75)
    let before = try top.parameters(of: layers)["conv3"]!.weight.data
    let after = try model.top.parameters(of: layers)["conv3"]!.weight.data
    XCTAssertGreaterThan(zip(before, after).map { abs($0 - $1) }.max()!, 1e-4)
    // Permuted labels: nothing to learn, held-out AUC near chance.
    var generator = SeededGenerator(seed: 9)
    let permuted = train.shuffled(using: &generator)
    let null = try FineTunedClassifier.train(
      top, output: "embedding", layers: layers, inputs: trainValues, views: 1, labels: permuted, settings: settings)
    let nullAUC = try Metrics.rocAUC(positive: test.map { $0 == 1 }, scores: try null.logits(testValues).map(Double.init))
    XCTAssertLessThan(abs(nullAUC - 0.5), 0.3)
  }

  func testGradCAMOfTheHeadAtThePooledLayerIsCAM() throws {
    let network = try tiny()
    let (cut, layers) = try network.cut(belowTop: 1, of: "embedding")
    let top = try network.subnetwork(from: cut, to: "embedding")
    var generator = SeededGenerator(seed: 6)
    let dimension = try network.run(images([1], signal: 1, seed: 8), outputs: ["embedding"])["embedding"]!.count
    let head = (0..<(2 * dimension)).map { _ in Float(generator.nextGaussian()) }
    let model = FineTunedClassifier(top: top, output: "embedding", layers: layers, head: head, bias: 0, views: 2)
    let input = images([1, 0, 1, 1, 0, 0], signal: 1, seed: 7)
    let full = try model.network(in: network)
    let maps = try model.gradCAM(full, images: input, layer: "add2", signed: true, threads: 2)
    let a = try network.run(input, outputs: ["add2"])["add2"]!
    let (c, h, w) = (a.shape[1], a.shape[2], a.shape[3])
    XCTAssertEqual(maps.shape, [6, h, w])
    for image in 0..<6 {
      let weights = head[((image % 2) * c)..<((image % 2 + 1) * c)]
      for i in 0..<(h * w) {
        let cam = weights.enumerated().map { k, wk in wk * a.data[(image * c + k) * h * w + i] }.reduce(0, +) / Float(h * w)
        XCTAssertEqual(maps.data[image * h * w + i], cam, accuracy: 1e-4)
      }
    }
    XCTAssertEqual(try network.camLayer(minimumSide: 8, inputSize: 40, output: "embedding").isEmpty, false)
  }
}
