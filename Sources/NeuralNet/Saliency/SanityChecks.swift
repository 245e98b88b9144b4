import Foundation
import Statistics

/// Model-randomisation sanity checks of saliency maps (Adebayo et al. 2018, "Sanity Checks for Saliency Maps"): a
/// map that explains the model must change when the model's weights are replaced by random ones, first the head,
/// then block after block from the top down (cascading). The rank correlation of each randomised map with the
/// original must fall; a method whose maps stay correlated is reporting the image, not the model.
public enum SanityCheck {
  /// One step of a cascading randomisation: the layers randomised so far (top first) and, per image, Spearman's
  /// rank correlation of the map with the original map.
  public struct Step: Sendable {
    public let layers: [String]
    public let correlations: [Double]
    /// The mean over images, NaN when any correlation is undefined (a constant map).
    public var mean: Double { correlations.reduce(0, +) / Double(max(1, correlations.count)) }
  }

  /// Randomises the top `counts[0]`, then `counts[1]`, ... weighted layers of `network` (from
  /// `Network.weightedLayers(from:)` for `output`, top first; each layer drawn once, so later steps keep the earlier
  /// steps' draws) and compares `maps(randomised network)` with `maps(network)`, image by image.
  public static func cascadingRandomisation(
    of network: Network, output: String, counts: [Int], seed: UInt64, maps: (Network) throws -> Tensor
  ) throws -> [Step] {
    let layers = try network.weightedLayers(from: output)
    let original = try maps(network)
    return try counts.map { count in
      let top = Array(layers.prefix(count))
      let randomised = try network.randomising(layers: top, seed: seed)
      return Step(layers: top, correlations: perImage(original, try maps(randomised)))
    }
  }

  /// Spearman's rank correlation of each image's map in two `[N, ...]` maps.
  public static func perImage(_ a: Tensor, _ b: Tensor) -> [Double] {
    precondition(a.shape == b.shape, "maps of shapes \(a.shape) and \(b.shape)")
    let n = a.shape.first ?? 0
    let row = n > 0 ? a.count / n : 0
    return (0..<n).map {
      spearman(Array(a.data[($0 * row)..<(($0 + 1) * row)]), Array(b.data[($0 * row)..<(($0 + 1) * row)]))
    }
  }

  /// Spearman's rank correlation of two maps (ties averaged, SciPy's `spearmanr`); NaN when either is constant.
  public static func spearman(_ a: [Float], _ b: [Float]) -> Double {
    spearmanCorrelation(a.map(Double.init), b.map(Double.init))
  }
}

extension Network {
  /// The nodes with weights (Conv, and Gemm or MatMul with a constant operand) that `output` is computed from, by
  /// node name, nearest the output first: the order in which cascading randomisation replaces them.
  public func weightedLayers(from output: String) throws -> [String] {
    let plan = try Plan(graph: graph, requested: [output], fusion: .none)
    return plan.steps.reversed().compactMap { step in
      switch step.node.op {
      case .conv: return step.node.name
      case .gemm, .matMul:
        return step.node.inputs.dropFirst().contains { graph.constants.floats[$0] != nil } ? step.node.name : nil
      default: return nil
      }
    }
  }

  /// A copy in which the weights and biases of the named layers (node names) are replaced by normal draws with
  /// mean 0 and each tensor's own standard deviation, layer by layer from `seed` and the layer's name, so that a
  /// layer gets the same draws whatever else is randomised with it. BatchNormalization is left as it is.
  public func randomising(layers: [String], seed: UInt64) throws -> Network {
    var copy = graph
    for name in layers {
      guard let index = copy.nodes.firstIndex(where: { $0.name == name }) else {
        throw NeuralNetError.unknownValue(name: name, message: "no node of \(file) has this name")
      }
      var rng = SeededGenerator(seed: seed ^ UInt64(truncatingIfNeeded: name.utf8.reduce(5381) { $0 &* 33 &+ Int($1) }))
      switch copy.nodes[index].op {
      case .conv(var spec):
        spec.weight.data = rng.like(spec.weight.data)
        spec.bias = rng.like(spec.bias)
        copy.nodes[index].op = .conv(spec)
      case .gemm, .matMul:
        for operand in copy.nodes[index].inputs.dropFirst() {
          guard let constant = copy.constants.floats[operand] else { continue }
          copy.constants.floats[operand]!.data = rng.like(constant.data)
        }
      default:
        throw NeuralNetError.unknownValue(name: name, message: "node of \(file) has no weights to randomise")
      }
    }
    return Network(self, graph: copy)
  }
}

/// Normal draws scaled like a layer's own weights.
extension SeededGenerator {
  /// Draws with mean 0 and the standard deviation of `values` (all 0 when they are constant).
  mutating func like(_ values: [Float]) -> [Float] {
    let mean = values.reduce(0.0) { $0 + Double($1) } / Double(max(1, values.count))
    let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(max(1, values.count))
    let sd = variance.squareRoot()
    return values.map { _ in Float(nextGaussian() * sd) }
  }
}
