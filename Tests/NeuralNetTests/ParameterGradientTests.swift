import Foundation
import Statistics
import TestSupport
import XCTest

@testable import NeuralNet

/// Gradients with respect to the weights and biases of Conv and Gemm nodes (what fine-tuning a top block and a head
/// needs) against central finite differences of the float64 forward pass with the float32 weight moved by a known
/// step.
final class ParameterGradientTests: XCTestCase {
  func testConvAndGemmParameterGradientsMatchFiniteDifferences() throws {
    let directory = try TemporaryDirectory(prefix: "nn-params")
    let reference = try OnnxRuntimeCase.build(
      """
      inputs = [('x', ['N', 4, 9, 8], [3, 4, 9, 8])]
      inits = [w('k', [6, 2, 3, 3]), wf('b', [6]), w('fc', [5, 6]), wf('c', [5])]
      nodes = [
          helper.make_node('Conv', ['x', 'k', 'b'], ['conv'], group=2, strides=[2, 2], pads=[1, 0, 1, 1]),
          helper.make_node('Relu', ['conv'], ['relu']),
          helper.make_node('GlobalAveragePool', ['relu'], ['pooled']),
          helper.make_node('Flatten', ['pooled'], ['embedding']),
          helper.make_node('Gemm', ['embedding', 'fc', 'c'], ['logits'], transB=1, alpha=0.9),
      ]
      outputs = ['logits']
      """, in: directory, seed: 41)
    let network = reference.network
    let x = TensorOf<Double>(reference.feeds["x"]!)
    var rng = SeededGenerator(seed: 5)
    let seed = TensorOf<Double>(shape: [3, 5], data: (0..<15).map { _ in rng.uniform() })
    let conv = network.graph.nodes.first { $0.opType == "Conv" }!.name
    let gemm = network.graph.nodes.first { $0.opType == "Gemm" }!.name
    let tape = try network.record(x, outputs: ["logits"], watching: ["x"])
    let gradients = try tape.parameterGradients(seeds: ["logits": seed], layers: [conv, gemm])
    XCTAssertEqual(gradients[conv]?.weight.shape, [6, 2, 3, 3])
    XCTAssertEqual(gradients[gemm]?.weight.shape, [5, 6])

    /// <seed, logits> with one weight (or bias) of one node moved to the float nearest `w + delta`; returns the
    /// value and the step actually taken.
    func f(_ node: String, bias: Bool, _ index: Int, _ delta: Double) throws -> (Double, Double) {
      var graph = network.graph
      var moved = 0.0
      let at = graph.nodes.firstIndex { $0.name == node }!
      func move(_ value: inout Float) {
        let old = value
        value = Float(Double(value) + delta)
        moved = Double(value) - Double(old)
      }
      switch graph.nodes[at].op {
      case .conv(var spec):
        if bias { move(&spec.bias[index]) } else { move(&spec.weight.data[index]) }
        graph.nodes[at].op = .conv(spec)
      default:
        move(&graph.constants.floats[graph.nodes[at].inputs[bias ? 2 : 1]]!.data[index])
      }
      let y = try Network(network, graph: graph).record(x, outputs: ["logits"]).value("logits")
      return (zip(y.data, seed.data).reduce(0) { $0 + $1.0 * $1.1 }, moved)
    }
    var worst = 0.0
    for (node, bias, count) in [(conv, false, 108), (conv, true, 6), (gemm, false, 30), (gemm, true, 5)] {
      let analytic = bias ? gradients[node]!.bias!.data : gradients[node]!.weight.data
      XCTAssertEqual(analytic.count, count)
      for index in stride(from: 0, to: count, by: max(1, count / 12)) {
        let (up, stepUp) = try f(node, bias: bias, index, 1e-4)
        let (down, stepDown) = try f(node, bias: bias, index, -1e-4)
        let numeric = (up - down) / (stepUp - stepDown)
        worst = max(worst, abs(numeric - analytic[index]))
        XCTAssertEqual(analytic[index], numeric, accuracy: 1e-8, "\(node) \(bias ? "bias" : "weight")[\(index)]")
      }
    }
    print("parameter gradients against finite differences: max abs \(worst)")
    XCTAssertThrowsError(try tape.parameterGradients(seeds: ["logits": seed], layers: ["nope"])) { error in
      XCTAssertTrue("\(error)".contains("'nope'"), "\(error)")
    }
  }
}
