import ConfoundKit
import Foundation
import JSONRPC
import NeuralNet
import Statistics

/// Method "supervised": the paper's supervised CNN beside the linear probes. The embedder's network (folded, as it
/// runs) is cut below its top `top_layers` weighted layers; every crop goes once through the frozen part (each
/// channel on its own, as the embedder feeds it), and inside each grouped fold the top layers and a linear head on
/// the pooled vectors of all channels are fine-tuned on that fold's training units only (at most `max_train_crops`
/// crops), then score the held-out crops. A well's score is the mean probability of its crops; a fold's ROC AUC is
/// over the held-out wells, as the target probe's. The same folds are trained again on labels permuted between
/// units: the baseline. GradCAM of each fold's model on its own held-out crops gives the saliency numbers.
struct SupervisedCNN {
  let request: SupervisedRequest
  let base: Network
  let input: CropInput
  let cut: String
  let layers: [String]
  let top: Network

  init(_ request: SupervisedRequest) throws {
    self.request = request
    let settings = request.settings
    do {
      base = try ImageSaliency.network(settings.model.isEmpty ? try DefaultModel.path() : settings.model).folded()
      input = CropInput(
        geometry: try ModelGeometry(base, size: settings.inputSize), intensity: .percentile, channels: .each)
      (cut, layers) = try base.cut(belowTop: settings.topLayers, of: settings.output)
      top = try base.subnetwork(from: cut, to: settings.output)
    } catch let error as NeuralNetError {
      throw PluginError.invalidParams("model \(settings.model): \(error.description)")
    }
  }

  /// One fold's model and its held-out crops' probabilities of the positive class.
  struct Fold {
    var index: Int
    var model: FineTunedClassifier
    var test: [Int]
    var probabilities: [Int: Double]
    var rocAUC: Double?
    var trainUnits: Int
    var testUnits: Int
    var trainCrops: Int
  }

  /// The network images of crops `indices` (each crop's channels in order).
  func images(_ indices: [Int]) -> NeuralNet.Tensor {
    let (c, h, w) = (request.shape[1], request.shape[2], request.shape[3])
    var data = [Float]()
    data.reserveCapacity(indices.count * c * h * w)
    for i in indices { data += request.crops[(i * c * h * w)..<((i + 1) * c * h * w)] }
    return data.withUnsafeBufferPointer { buffer in
      input.images(buffer, shape: [indices.count, c, h, w], range: 0..<(indices.count * c))
    }
  }

  /// The frozen part's values at the cut for every crop, [N * C, ...], computed a few dozen crops at a time.
  func cutValues(check: () throws -> Void) throws -> NeuralNet.Tensor {
    var parts: [NeuralNet.Tensor] = []
    for start in stride(from: 0, to: request.count, by: 32) {
      try check()
      let chunk = Array(start..<min(start + 32, request.count))
      parts.append(
        try base.run(images(chunk), outputs: [cut], threads: request.settings.threads, anySpatialSize: true)[cut]!)
    }
    var shape = parts[0].shape
    shape[0] = parts.reduce(0) { $0 + $1.shape[0] }
    return NeuralNet.Tensor(shape: shape, data: parts.flatMap(\.data))
  }

  /// Trains one model per fold on `labels` (one per crop) and scores the held-out crops.
  func folds(_ values: NeuralNet.Tensor, labels: [String], seed: UInt64, check: () throws -> Void) throws -> [Fold] {
    let views = request.views
    let imageSize = values.count / max(1, values.shape[0])
    func rows(_ indices: [Int]) -> NeuralNet.Tensor {
      var data = [Float]()
      data.reserveCapacity(indices.count * views * imageSize)
      for i in indices { data += values.data[(i * views * imageSize)..<((i + 1) * views * imageSize)] }
      var shape = values.shape
      shape[0] = indices.count * views
      return NeuralNet.Tensor(shape: shape, data: data)
    }
    return try request.folds.enumerated().map { index, held in
      try check()
      var train = request.groups.indices.filter { !held.contains(request.groups[$0]) }
      let test = request.groups.indices.filter { held.contains(request.groups[$0]) }
      let cap = request.settings.maxTrainCrops
      if train.count > cap {
        train = (0..<cap).map { train[$0 * train.count / cap] }
      }
      var settings = request.settings.training
      settings.seed = seed &+ UInt64(index)
      let model = try FineTunedClassifier.train(
        top, output: request.settings.output, layers: layers, inputs: rows(train), views: views,
        labels: train.map { labels[$0] == request.positive ? 1 : 0 }, settings: settings)
      let logits = test.isEmpty ? [] : try model.logits(rows(test), threads: request.settings.threads)
      let probabilities = Dictionary(uniqueKeysWithValues: zip(test, logits.map { Double(Float.logistic($0)) }))
      return Fold(
        index: index, model: model, test: test, probabilities: probabilities,
        rocAUC: wellAUC(probabilities, labels: labels), trainUnits: Set(train.map { request.groups[$0] }).count,
        testUnits: held.count, trainCrops: train.count)
    }
  }

  /// ROC AUC over wells of the mean probability of their crops; nil when the wells hold one class.
  func wellAUC(_ probabilities: [Int: Double], labels: [String]) -> Double? {
    var sums: [String: (total: Double, count: Int, positive: Bool)] = [:]
    for (crop, p) in probabilities {
      let well = request.wells[crop]
      let prior = sums[well] ?? (0, 0, labels[crop] == request.positive)
      sums[well] = (prior.total + p, prior.count + 1, prior.positive)
    }
    let wells = Array(sums.values)
    guard Set(wells.map(\.positive)).count == 2 else { return nil }
    return try? Metrics.rocAUC(positive: wells.map(\.positive), scores: wells.map { $0.total / Double($0.count) })
  }

  /// Labels exchanged between whole units (each unit keeps one label for all its crops).
  func permutedLabels(seed: UInt64) -> [String] {
    let units = Array(Set(request.groups)).sorted()
    var label: [String: String] = [:]
    for (i, unit) in request.groups.enumerated() where label[unit] == nil { label[unit] = request.labels[i] }
    var generator = SeededGenerator(seed: seed)
    let shuffled = units.map { label[$0]! }.shuffled(using: &generator)
    let permuted = Dictionary(uniqueKeysWithValues: zip(units, shuffled))
    return request.groups.map { permuted[$0]! }
  }
}
