import Foundation
import Statistics

/// A binary classifier made of the top layers of a network and a linear head on its pooled output, fine-tuned with
/// Adam on the logistic loss: the paper's supervised CNN, trained on values at a cut (computed once by the frozen
/// layers below it), so that an epoch costs only the layers above the cut.
///
/// A sample is `views` consecutive images of the batch (e.g. each channel of a cell crop run on its own): their
/// pooled vectors are concatenated and the head reads all of them, `score = sum_v w_v . e_v + b`.
public struct FineTunedClassifier: Sendable {
  /// The layers above the cut, with the trained weights.
  public let top: Network
  /// The pooled output of `top` that the head reads ([images, D]).
  public let output: String
  public let layers: [String]
  public let head: [Float]
  public let bias: Float
  public let views: Int

  /// Training settings. Defaults keep an epoch of a few hundred crops within a second or two on one core.
  public struct Settings: Sendable {
    public var epochs = 6
    /// Samples per step.
    public var batch = 32
    public var learningRate: Float = 1e-3
    /// The top layers' learning rate, smaller than the head's: they start from pretrained weights.
    public var layerLearningRate: Float = 1e-4
    /// L2 penalty on the head's weights (added to the mean loss as weightDecay / 2 * |w|^2).
    public var weightDecay: Float = 1e-4
    public var seed: UInt64 = 0
    public var threads = 1
    public init() {}
  }

  /// Trains the top `layers` of `top` (a network from the cut to `output`) and a zero-initialised head on `inputs`
  /// (values at the cut, [samples * views, ...]) for `labels` (0 or 1 per sample), the two classes weighted equally.
  public static func train(
    _ top: Network, output: String, layers: [String], inputs: Tensor, views: Int, labels: [Int], settings: Settings
  ) throws -> FineTunedClassifier {
    let samples = labels.count
    guard views >= 1, inputs.shape.first == samples * views, samples > 0 else {
      throw NeuralNetError.unknownValue(
        name: top.inputs.first?.name ?? "input",
        message: "holds \(inputs.shape.first ?? 0) images for \(samples) samples of \(views) views")
    }
    let positives = labels.filter { $0 == 1 }.count
    guard positives > 0, positives < samples else {
      throw NeuralNetError.unknownValue(name: "labels", message: "need both classes to train on; got one")
    }
    let classWeight: [Float] = [Float(samples) / Float(2 * (samples - positives)), Float(samples) / Float(2 * positives)]
    var network = top
    var parameters = try top.parameters(of: layers)
    let dimension = try pooledSize(top, output: output, inputs: inputs)
    var model = FineTunedClassifier(
      top: top, output: output, layers: layers, head: [Float](repeating: 0, count: dimension * views), bias: 0,
      views: views)
    var adam = Adam(parameters: parameters, head: model.head.count)
    var generator = SeededGenerator(seed: settings.seed)
    let imageSize = inputs.count / max(1, inputs.shape[0])
    for _ in 0..<settings.epochs {
      var order = Array(0..<samples)
      order.shuffle(using: &generator)
      for start in stride(from: 0, to: samples, by: settings.batch) {
        let chosen = Array(order[start..<min(start + settings.batch, samples)])
        var data = [Float]()
        data.reserveCapacity(chosen.count * views * imageSize)
        for s in chosen { data += inputs.data[(s * views * imageSize)..<((s + 1) * views * imageSize)] }
        var shape = inputs.shape
        shape[0] = chosen.count * views
        var step = try model.gradients(
          network, Tensor(shape: shape, data: data), labels: chosen.map { labels[$0] },
          weights: chosen.map { classWeight[labels[$0]] }, threads: settings.threads)
        var head = model.head
        var bias = model.bias
        for i in head.indices { step.head[i] += settings.weightDecay * head[i] }
        adam.update(&parameters, &head, &bias, gradients: step, settings: settings)
        network = try top.replacing(parameters)
        model = FineTunedClassifier(top: network, output: output, layers: layers, head: head, bias: bias, views: views)
      }
    }
    return model
  }

  /// The head's logit per sample for values at the cut, [samples * views, ...].
  public func logits(_ inputs: Tensor, threads: Int = 1) throws -> [Float] {
    let pooled = try top.run(inputs, outputs: [output], threads: threads, anySpatialSize: true)[output]!
    return score(pooled)
  }

  /// sum_v w_v . e_v + b for pooled vectors [samples * views, D].
  func score(_ pooled: Tensor) -> [Float] {
    let dimension = pooled.count / max(1, pooled.shape[0])
    let samples = pooled.shape[0] / views
    return (0..<samples).map { s in
      var z = bias
      for j in 0..<(views * dimension) { z += head[j] * pooled.data[s * views * dimension + j] }
      return z
    }
  }

  /// The gradient of the weighted mean logistic loss over one batch: per layer, for the head and its bias.
  func gradients(_ network: Network, _ batch: Tensor, labels: [Int], weights: [Float], threads: Int) throws -> Step {
    let samples = labels.count
    let pieces = stride(from: 0, to: samples, by: max(1, (samples + threads - 1) / threads)).map {
      $0..<min($0 + max(1, (samples + threads - 1) / threads), samples)
    }
    let total = weights.reduce(0, +)
    let parts = try inParallel(pieces.count, threads: threads) { index -> Step in
      let range = pieces[index]
      let input = batch.slice(batch: (range.lowerBound * views)..<(range.upperBound * views))
      let tape = try network.record(
        TensorOf<Float>(input), outputs: [output], watching: [network.inputs[0].name], anySpatialSize: true)
      let pooled = Tensor(try tape.value(output))
      let dimension = pooled.count / max(1, pooled.shape[0])
      let z = score(pooled)
      var step = Step(head: [Float](repeating: 0, count: head.count), bias: 0, layers: [:])
      var seed = TensorOf<Float>(shape: pooled.shape)
      for (k, s) in range.enumerated() {
        let p = Float.logistic(z[k])
        let dz = (p - Float(labels[s])) * weights[s] / total
        step.bias += dz
        for j in 0..<(views * dimension) {
          step.head[j] += dz * pooled.data[k * views * dimension + j]
          seed.data[k * views * dimension + j] = dz * head[j]
        }
      }
      let grads = try tape.parameterGradients(seeds: [output: seed], layers: layers)
      step.layers = grads.mapValues { LayerParameters(weight: Tensor($0.weight), bias: $0.bias.map { Tensor($0) }) }
      return step
    }
    var sum = parts[0]
    for part in parts.dropFirst() { sum.add(part) }
    return sum
  }

  /// The width D of the pooled output per image.
  static func pooledSize(_ top: Network, output: String, inputs: Tensor) throws -> Int {
    let one = inputs.slice(batch: 0..<1)
    let pooled = try top.run(one, outputs: [output], anySpatialSize: true)[output]!
    return pooled.count
  }

  /// One batch's gradients.
  struct Step {
    var head: [Float]
    var bias: Float
    var layers: [String: LayerParameters]

    mutating func add(_ other: Step) {
      for i in head.indices { head[i] += other.head[i] }
      bias += other.bias
      for (name, g) in other.layers {
        guard var mine = layers[name] else { layers[name] = g; continue }
        for i in mine.weight.data.indices { mine.weight.data[i] += g.weight.data[i] }
        if let b = g.bias, mine.bias != nil { for i in b.data.indices { mine.bias!.data[i] += b.data[i] } }
        layers[name] = mine
      }
    }
  }
}

/// Adam (Kingma and Ba 2015) with bias correction, β1 = 0.9, β2 = 0.999, ε = 1e-8.
struct Adam {
  var moments: [String: (m: [Float], v: [Float])] = [:]
  var t = 0

  init(parameters: [String: LayerParameters], head: Int) {
    for (name, p) in parameters {
      moments[name + "#w"] = zeros(p.weight.count)
      if let b = p.bias { moments[name + "#b"] = zeros(b.count) }
    }
    moments["#head"] = zeros(head)
    moments["#bias"] = zeros(1)
  }

  private func zeros(_ n: Int) -> (m: [Float], v: [Float]) { ([Float](repeating: 0, count: n), [Float](repeating: 0, count: n)) }

  mutating func update(
    _ parameters: inout [String: LayerParameters], _ head: inout [Float], _ bias: inout Float,
    gradients: FineTunedClassifier.Step, settings: FineTunedClassifier.Settings
  ) {
    t += 1
    let correction1 = 1 - powf(0.9, Float(t)), correction2 = 1 - powf(0.999, Float(t))
    func apply(_ key: String, _ values: inout [Float], _ g: [Float], _ rate: Float) {
      var (m, v) = moments[key]!
      for i in values.indices {
        m[i] = 0.9 * m[i] + 0.1 * g[i]
        v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
        values[i] -= rate * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + 1e-8)
      }
      moments[key] = (m, v)
    }
    apply("#head", &head, gradients.head, settings.learningRate)
    var b = [bias]
    apply("#bias", &b, [gradients.bias], settings.learningRate)
    bias = b[0]
    for (name, g) in gradients.layers {
      apply(name + "#w", &parameters[name]!.weight.data, g.weight.data, settings.layerLearningRate)
      if let gb = g.bias, parameters[name]?.bias != nil {
        apply(name + "#b", &parameters[name]!.bias!.data, gb.data, settings.layerLearningRate)
      }
    }
  }
}
