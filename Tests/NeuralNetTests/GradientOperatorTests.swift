import Foundation
import TestSupport
import XCTest

@testable import NeuralNet

/// Each operator's backward pass against central finite differences of the float64 forward pass, on small random
/// models built with onnx.helper. Each case also checks the float64 forward pass against onnxruntime and the
/// float32 tape (fused Conv epilogues, the fast kernels) against the float64 one.
final class GradientOperatorTests: XCTestCase {
  private func check(
    _ graph: String, seed: Int, outputs: [String], intermediates: [String] = [], file: StaticString = #filePath,
    line: UInt = #line
  ) throws {
    let directory = try TemporaryDirectory(prefix: "nn-grad")
    let reference = try OnnxRuntimeCase.build(graph, in: directory, seed: seed)
    let network = reference.network
    let feeds64 = reference.feeds.mapValues { TensorOf<Double>($0) }
    let forward = try network.record(feeds64, outputs: outputs)
    for name in outputs {
      assertClose(
        Tensor(try forward.value(name)), reference.expected[name]!, absolute: 2e-5, relative: 2e-5,
        "float64 \(name) against onnxruntime", file: file, line: line)
    }
    let inputs = Array(reference.feeds.keys)
    for output in outputs {
      let error = try GradientCheck.assertMatchesFiniteDifferences(
        network, feeds: reference.feeds, output: output, withRespectTo: inputs + intermediates, file: file, line: line)
      let float32 = try GradientCheck.float32Error(
        network, feeds: reference.feeds, output: output, withRespectTo: inputs + intermediates)
      XCTAssertLessThan(float32.worst, 1e-5, "\(output): float32 against float64 gradient", file: file, line: line)
      print("\(name) \(output): \(error); float32 vs float64 \(String(format: "%.1e", float32.worst))")
    }
  }

  func testDenseConvWithStridesPadsDilationsAndGroups() throws {
    try check(
      """
      inputs = [('x', ['N', 4, 9, 11], [2, 4, 9, 11])]
      inits = [w('w', [6, 2, 3, 3]), wf('b', [6]), w('p', [5, 4, 1, 1]), w('q', [3, 4, 2, 3])]
      nodes = [
          helper.make_node('Conv', ['x', 'w', 'b'], ['grouped'], group=2, strides=[2, 1], pads=[1, 0, 2, 1],
                           dilations=[1, 2]),
          helper.make_node('Conv', ['x', 'p'], ['pointwise']),
          helper.make_node('Conv', ['x', 'p'], ['pointwise_s2'], strides=[2, 2]),
          helper.make_node('Conv', ['x', 'q'], ['same'], strides=[2, 2], auto_pad='SAME_UPPER'),
      ]
      outputs = ['grouped', 'pointwise', 'pointwise_s2', 'same']
      """, seed: 11, outputs: ["grouped", "pointwise", "pointwise_s2", "same"])
  }

  func testDepthwiseConvWithStridesPadsAndMultiplier() throws {
    try check(
      """
      inputs = [('x', ['N', 3, 13, 10], [2, 3, 13, 10])]
      inits = [w('k3', [3, 1, 3, 3]), w('b3', [3]), w('k5', [3, 1, 5, 5]), w('k2', [6, 1, 3, 3])]
      nodes = [
          helper.make_node('Conv', ['x', 'k3', 'b3'], ['s1'], group=3, pads=[1, 1, 1, 1]),
          helper.make_node('Conv', ['x', 'k3', 'b3'], ['s2'], group=3, strides=[2, 2], pads=[0, 0, 1, 1]),
          helper.make_node('Conv', ['x', 'k5'], ['s2_5x5'], group=3, strides=[2, 2], pads=[2, 1, 2, 2]),
          helper.make_node('Conv', ['x', 'k3'], ['s3_dilated'], group=3, strides=[3, 3], dilations=[2, 1],
                           pads=[2, 0, 1, 1]),
          helper.make_node('Conv', ['x', 'k2'], ['multiplier2'], group=3, pads=[1, 1, 1, 1]),
      ]
      outputs = ['s1', 's2', 's2_5x5', 's3_dilated', 'multiplier2']
      """, seed: 12, outputs: ["s1", "s2", "s2_5x5", "s3_dilated", "multiplier2"])
  }

  func testBatchNormalizationAloneAndAfterConv() throws {
    // In float32, `bn` is folded into the Conv unless watched; `conv` is watched here, so both forms run.
    try check(
      """
      inputs = [('x', ['N', 4, 6, 7], [2, 4, 6, 7])]
      inits = [w('w', [5, 4, 3, 3]), wf('b', [5]), wf('g', [5]), w('beta', [5]), w('m', [5]),
               numpy_helper.from_array(rng.uniform(0.5, 2, 5).astype(np.float32), 'v'),
               wf('g4', [4]), w('b4', [4]), w('m4', [4]),
               numpy_helper.from_array(rng.uniform(0.5, 2, 4).astype(np.float32), 'v4')]
      nodes = [
          helper.make_node('Conv', ['x', 'w', 'b'], ['conv'], pads=[1, 1, 1, 1]),
          helper.make_node('BatchNormalization', ['conv', 'g', 'beta', 'm', 'v'], ['bn'], epsilon=1e-3),
          helper.make_node('BatchNormalization', ['x', 'g4', 'b4', 'm4', 'v4'], ['bn_alone']),
      ]
      outputs = ['bn', 'bn_alone']
      """, seed: 13, outputs: ["bn", "bn_alone"], intermediates: ["conv"])
    try check(
      """
      inputs = [('x', ['N', 4, 6, 7], [2, 4, 6, 7])]
      inits = [w('w', [5, 4, 3, 3]), wf('b', [5]), wf('g', [5]), w('beta', [5]), w('m', [5]),
               numpy_helper.from_array(rng.uniform(0.5, 2, 5).astype(np.float32), 'v'),
               scalar('lo', 0.0), scalar('hi', 0.7)]
      nodes = [
          helper.make_node('Conv', ['x', 'w', 'b'], ['conv'], pads=[1, 1, 1, 1]),
          helper.make_node('BatchNormalization', ['conv', 'g', 'beta', 'm', 'v'], ['bn'], epsilon=1e-3),
          helper.make_node('Clip', ['bn', 'lo', 'hi'], ['clipped']),
      ]
      outputs = ['clipped']
      """, seed: 14, outputs: ["clipped"])
  }

  func testReluAndClip() throws {
    try check(
      """
      inputs = [('x', ['N', 3, 5, 6], [2, 3, 5, 6])]
      inits = [scalar('lo', -0.3), scalar('hi', 0.5), w('w', [4, 3, 3, 3])]
      nodes = [
          helper.make_node('Relu', ['x'], ['relu']),
          helper.make_node('Clip', ['x', 'lo', 'hi'], ['clip']),
          helper.make_node('Clip', ['x', '', 'hi'], ['clip_upper']),
          helper.make_node('Conv', ['x', 'w'], ['conv'], pads=[1, 1, 1, 1]),
          helper.make_node('Relu', ['conv'], ['conv_relu']),
      ]
      outputs = ['relu', 'clip', 'clip_upper', 'conv_relu']
      """, seed: 15, outputs: ["relu", "clip", "clip_upper", "conv_relu"])
  }

  func testSigmoidAndMulOfTwoActivations() throws {
    try check(
      """
      inputs = [('x', ['N', 3, 4, 5], [2, 3, 4, 5])]
      inits = [w('c', [3, 1, 1])]
      nodes = [
          helper.make_node('Sigmoid', ['x'], ['gate']),
          helper.make_node('Mul', ['x', 'gate'], ['swish']),
          helper.make_node('Mul', ['x', 'c'], ['scaled']),
          helper.make_node('Mul', ['swish', 'swish'], ['square']),
      ]
      outputs = ['gate', 'swish', 'scaled', 'square']
      """, seed: 16, outputs: ["gate", "swish", "scaled", "square"])
  }

  func testAddSubDivWithBroadcasting() throws {
    try check(
      """
      inputs = [('x', ['N', 3, 4, 5], [2, 3, 4, 5]), ('v', ['N', 3, 1, 1], [2, 3, 1, 1])]
      inits = [w('c', [3, 1, 1]), wf('row', [5]), scalar('two', 2.0)]
      nodes = [
          helper.make_node('Add', ['x', 'c'], ['plus_constant']),
          helper.make_node('Add', ['x', 'v'], ['plus_vector']),
          helper.make_node('Sub', ['row', 'x'], ['minus']),
          helper.make_node('Sigmoid', ['v'], ['s']),
          helper.make_node('Add', ['s', 'two'], ['denominator']),
          helper.make_node('Div', ['x', 'denominator'], ['ratio']),
      ]
      outputs = ['plus_constant', 'plus_vector', 'minus', 'ratio']
      """, seed: 17, outputs: ["plus_constant", "plus_vector", "minus", "ratio"], intermediates: ["denominator"])
  }

  func testGlobalAveragePoolFlattenGemm() throws {
    try check(
      """
      inputs = [('x', ['N', 6, 5, 7], [3, 6, 5, 7])]
      inits = [w('fc', [4, 6]), wf('bias', [4])]
      nodes = [
          helper.make_node('GlobalAveragePool', ['x'], ['pooled']),
          helper.make_node('Flatten', ['pooled'], ['embedding']),
          helper.make_node('Gemm', ['embedding', 'fc', 'bias'], ['logits'], transB=1, alpha=0.8, beta=1.5),
      ]
      outputs = ['logits']
      """, seed: 18, outputs: ["logits"], intermediates: ["pooled", "embedding"])
  }

  func testAveragePoolWithPadsCeilModeAndCountIncludePad() throws {
    try check(
      """
      inputs = [('x', ['N', 2, 9, 11], [2, 2, 9, 11])]
      inits = []
      nodes = [
          helper.make_node('AveragePool', ['x'], ['incl'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 2, 0, 1],
                           count_include_pad=1),
          helper.make_node('AveragePool', ['x'], ['excl'], kernel_shape=[2, 3], strides=[1, 2], pads=[0, 1, 1, 1]),
          helper.make_node('AveragePool', ['x'], ['ceil'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                           ceil_mode=1, count_include_pad=1),
      ]
      outputs = ['incl', 'excl', 'ceil']
      """, seed: 19, outputs: ["incl", "excl", "ceil"])
  }

  func testMaxPool() throws {
    try check(
      """
      inputs = [('x', ['N', 2, 9, 11], [2, 2, 9, 11])]
      inits = []
      nodes = [
          helper.make_node('MaxPool', ['x'], ['max'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 1, 2]),
          helper.make_node('MaxPool', ['x'], ['dilated'], kernel_shape=[2, 3], dilations=[2, 2], pads=[1, 1, 0, 0]),
      ]
      outputs = ['max', 'dilated']
      """, seed: 20, outputs: ["max", "dilated"])
  }

  func testReshapeAndMatMulBatchedAndOneDimensional() throws {
    try check(
      """
      inputs = [('x', ['N', 2, 3, 4], [3, 2, 3, 4]), ('y', [2, 4, 3], [2, 4, 3])]
      inits = [ints('shape', [0, -1]), w('m', [24, 5]), w('n', [4, 3]), w('vec', [4])]
      nodes = [
          helper.make_node('Reshape', ['x', 'shape'], ['rows']),
          helper.make_node('MatMul', ['rows', 'm'], ['product']),
          helper.make_node('MatMul', ['x', 'n'], ['batched']),
          helper.make_node('MatMul', ['x', 'y'], ['broadcast']),
          helper.make_node('MatMul', ['x', 'vec'], ['vector']),
      ]
      outputs = ['product', 'batched', 'broadcast', 'vector']
      """, seed: 21, outputs: ["product", "batched", "broadcast", "vector"], intermediates: ["rows"])
  }

  func testGemmTransposesAndTwoActivations() throws {
    try check(
      """
      inputs = [('x', [3, 4], [3, 4]), ('z', [5, 5], [5, 5])]
      inits = [w('b', [3, 5]), w('c', [5]), w('c2', [4, 1])]
      nodes = [
          helper.make_node('Gemm', ['x', 'b', 'c'], ['y'], transA=1, alpha=0.7, beta=0.3),
          helper.make_node('Gemm', ['y', 'z', 'c2'], ['yz'], transB=1, alpha=1.5),
          helper.make_node('Gemm', ['z', 'y'], ['zy'], transA=1, transB=1),
          helper.make_node('Gemm', ['x', 'x'], ['gram'], transB=1),
      ]
      outputs = ['yz', 'zy', 'gram']
      """, seed: 22, outputs: ["yz", "zy", "gram"], intermediates: ["y"])
  }

  func testConcat() throws {
    try check(
      """
      inputs = [('x', ['N', 3, 5, 6], [2, 3, 5, 6])]
      inits = [w('w', [2, 3, 3, 3])]
      nodes = [
          helper.make_node('Conv', ['x', 'w'], ['conv'], pads=[1, 1, 1, 1]),
          helper.make_node('Sigmoid', ['x'], ['gate']),
          helper.make_node('Concat', ['conv', 'x', 'gate'], ['channels'], axis=1),
          helper.make_node('Concat', ['x', 'gate'], ['rows'], axis=-2),
      ]
      outputs = ['channels', 'rows']
      """, seed: 23, outputs: ["channels", "rows"], intermediates: ["conv"])
  }
}
