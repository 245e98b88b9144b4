import Foundation
import Statistics

extension FineTunedClassifier {
  /// The whole network (`base`, folded, from its input to `output`) with this classifier's trained layers in it.
  public func network(in base: Network) throws -> Network {
    try base.replacing(try top.parameters(of: layers))
  }

  /// GradCAM of the head's logit at `layer` of `full` (the whole network, e.g. from `network(in:)`), for images
  /// `[samples * views, C, H, W]`: `[samples * views, h, w]`, each view's map from the head's weights on that view
  /// (the gradient of the logit is `w_v` at view v's pooled vector). ReLU'd unless `signed`; raw scale.
  public func gradCAM(
    _ full: Network, images: Tensor, layer: String, head: [Float]? = nil, signed: Bool = false, threads: Int = 1
  ) throws -> Tensor {
    let weights = head ?? self.head
    let samples = images.shape[0] / views
    let per = max(1, Network.imagesPerPass / views)
    let pieces = stride(from: 0, to: samples, by: per).map { $0..<min($0 + per, samples) }
    let parts = try inParallel(pieces.count, threads: threads) { index -> Tensor in
      let range = pieces[index]
      let input = images.slice(batch: (range.lowerBound * views)..<(range.upperBound * views))
      let tape = try full.record(TensorOf<Float>(input), outputs: [output], watching: [layer], anySpatialSize: true)
      let pooled = try tape.value(output)
      let dimension = pooled.count / max(1, pooled.shape[0])
      var seed = TensorOf<Float>(shape: pooled.shape)
      for k in 0..<range.count {
        for j in 0..<(views * dimension) { seed.data[k * views * dimension + j] = weights[j] }
      }
      let gradient = try tape.gradients(seeds: [output: seed], withRespectTo: [layer])[layer]!
      return try Network.classActivationMap(try tape.value(layer), gradient, layer: layer, plusPlus: false)
    }
    var map = Tensor.concatenate(batches: parts)
    MapFinish.polarity(&map, signed ? .signed : .positive)
    return map
  }

  /// The same classifier with the head replaced by normal draws of the head's own standard deviation: the first
  /// step of the cascading randomisation of the sanity checks.
  public func randomisingHead(seed: UInt64) -> FineTunedClassifier {
    var generator = SeededGenerator(seed: seed)
    return FineTunedClassifier(
      top: top, output: output, layers: layers, head: generator.like(head), bias: bias, views: views)
  }
}

/// The deepest 4-D value of a network with at least `minimum` rows and columns for an input of `size` x `size`: the
/// layer whose GradCAM still resolves a cell in a crop (8 x 8 on a 64 px input: one cell of 4 x 4 crop pixels).
extension Network {
  public func camLayer(minimumSide minimum: Int, inputSize size: Int, output: String) throws -> String {
    let plan = try Plan(graph: graph, requested: [output], fusion: .none)
    let candidates = plan.steps.map(\.node.output)
    let channels = inputs.first?.shape?.dropFirst().first?.fixedValue ?? 3
    let values = try run(
      Tensor(shape: [1, channels, size, size]), outputs: candidates, anySpatialSize: true)
    guard let layer = candidates.last(where: { values[$0]!.shape.count == 4 && values[$0]!.shape[2] >= minimum }) else {
      throw NeuralNetError.unknownValue(
        name: output, message: "no 4-D value of \(file) below it keeps \(minimum) x \(minimum) positions at \(size) px")
    }
    return layer
  }
}
