import NeuralNet
import TestSupport
import XCTest

/// Operators and attribute combinations the shipped models lack, each against onnxruntime on a model
/// built for the test.
final class OperatorTests: XCTestCase {
  func testPoolsWithPadsCeilModeAndCountIncludePad() throws {
    let directory = try TemporaryDirectory(prefix: "nn-pool")
    let reference = try OnnxRuntimeCase.build(
      """
      inputs = [('x', ['N', 3, 11, 13], [2, 3, 11, 13])]
      inits = []
      nodes = [
          helper.make_node('MaxPool', ['x'], ['max'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 1, 2]),
          helper.make_node('MaxPool', ['x'], ['max_ceil'], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
          helper.make_node('MaxPool', ['x'], ['max_dilated'], kernel_shape=[2, 3], dilations=[2, 2], pads=[1, 1, 0, 0]),
          helper.make_node('AveragePool', ['x'], ['avg_incl'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 2, 0, 1],
                           count_include_pad=1),
          helper.make_node('AveragePool', ['x'], ['avg_excl'], kernel_shape=[2, 3], strides=[1, 2], pads=[0, 1, 1, 1]),
          helper.make_node('AveragePool', ['x'], ['avg_ceil'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                           ceil_mode=1, count_include_pad=1),
          helper.make_node('AveragePool', ['x'], ['avg_same'], kernel_shape=[3, 2], strides=[2, 2],
                           auto_pad='SAME_UPPER'),
          helper.make_node('GlobalAveragePool', ['x'], ['gap']),
      ]
      outputs = ['max', 'max_ceil', 'max_dilated', 'avg_incl', 'avg_excl', 'avg_ceil', 'avg_same', 'gap']
      """, in: directory)
    try reference.assertMatches()
    try reference.assertMatches(threads: 2)
  }

  func testGroupedDilatedConvBatchNormSwishConcat() throws {
    let directory = try TemporaryDirectory(prefix: "nn-conv")
    let reference = try OnnxRuntimeCase.build(
      """
      inputs = [('x', ['N', 4, 9, 10], [3, 4, 9, 10])]
      inits = [w('w1', [6, 2, 3, 3]), wf('b1', [6]), w('w2', [2, 4, 1, 1]),
               wf('gamma', [6]), w('beta', [6]), w('mean', [6]),
               numpy_helper.from_array(rng.uniform(0.5, 2, 6).astype(np.float32), 'var'),
               wf('gx', [4]), w('bx', [4]), w('mx', [4]), numpy_helper.from_array(np.ones(4, np.float32), 'vx')]
      nodes = [
          helper.make_node('Conv', ['x', 'w1', 'b1'], ['grouped'], group=2, dilations=[2, 2], pads=[2, 2, 2, 2]),
          helper.make_node('BatchNormalization', ['grouped', 'gamma', 'beta', 'mean', 'var'], ['bn'], epsilon=1e-3),
          helper.make_node('Sigmoid', ['bn'], ['gate']),
          helper.make_node('Mul', ['bn', 'gate'], ['swish']),
          helper.make_node('Conv', ['x', 'w2'], ['pointwise']),
          helper.make_node('Concat', ['swish', 'pointwise'], ['joined'], axis=1),
          helper.make_node('BatchNormalization', ['x', 'gx', 'bx', 'mx', 'vx'], ['bn_alone']),
      ]
      outputs = ['grouped', 'bn', 'swish', 'joined', 'bn_alone']
      """, in: directory, seed: 1)
    // All values requested: nothing is fused.
    try reference.assertMatches()
    // Only the end values: BatchNormalization is folded into the grouped Conv.
    try reference.assertMatches(["joined", "bn_alone"], threads: 2)
  }

  func testDepthwiseStridesDilationsAndMultiplier() throws {
    let directory = try TemporaryDirectory(prefix: "nn-dw")
    let reference = try OnnxRuntimeCase.build(
      """
      inputs = [('x', ['N', 3, 21, 37], [2, 3, 21, 37])]
      inits = [w('k3', [3, 1, 3, 3]), w('b3', [3]), w('k5', [3, 1, 5, 5]), w('k2', [6, 1, 3, 3]), w('b2', [6]),
               scalar('lo', -0.5), scalar('hi', 0.8)]
      nodes = [
          helper.make_node('Conv', ['x', 'k3', 'b3'], ['s1'], group=3, pads=[1, 1, 1, 1]),
          helper.make_node('Clip', ['s1', 'lo', 'hi'], ['s1_clipped']),
          helper.make_node('Conv', ['x', 'k3', 'b3'], ['s2'], group=3, strides=[2, 2], pads=[0, 0, 1, 1]),
          helper.make_node('Conv', ['x', 'k5'], ['s2_dilated'], group=3, strides=[2, 2], dilations=[2, 1],
                           pads=[4, 2, 3, 1]),
          helper.make_node('Conv', ['x', 'k3', 'b3'], ['s3'], group=3, strides=[3, 3], pads=[1, 0, 2, 1]),
          helper.make_node('Conv', ['x', 'k2', 'b2'], ['multiplier2'], group=3, pads=[1, 1, 1, 1]),
          helper.make_node('Relu', ['multiplier2'], ['relu']),
      ]
      outputs = ['s1', 's1_clipped', 's2', 's2_dilated', 's3', 'multiplier2', 'relu']
      """, in: directory, seed: 2)
    try reference.assertMatches()
    try reference.assertMatches(["s1_clipped", "relu", "s2", "s3"])
  }

  func testExpandThenDepthwiseRunBlockByBlock() throws {
    // 22 expanded channels of 129x131 are made in a block of 16 and one of 6 when only `out` is requested.
    let directory = try TemporaryDirectory(prefix: "nn-expand")
    let reference = try OnnxRuntimeCase.build(
      """
      inputs = [('x', ['N', 4, 129, 131], [2, 4, 129, 131])]
      inits = [w('we', [22, 4, 1, 1]), w('be', [22]), w('wd', [22, 1, 3, 3]), w('bd', [22]),
               scalar('zero', 0.0), scalar('six', 0.6)]
      nodes = [
          helper.make_node('Conv', ['x', 'we', 'be'], ['expanded']),
          helper.make_node('Clip', ['expanded', 'zero', 'six'], ['expanded6']),
          helper.make_node('Conv', ['expanded6', 'wd', 'bd'], ['dw'], group=22, strides=[2, 2], pads=[0, 0, 1, 1]),
          helper.make_node('Relu', ['dw'], ['out']),
      ]
      outputs = ['expanded6', 'out']
      """, in: directory, seed: 6)
    try reference.assertMatches()
    try reference.assertMatches(["out"], threads: 2)
    // A float32 gradient tape records with the same kernels and keeps NCHW copies: watching `dw`, the pair before it
    // is fused and `dw` kept.
    let tape = try reference.network.record(
      TensorOf<Float>(reference.feeds["x"]!), outputs: ["out"], watching: ["dw"])
    assertClose(Tensor(try tape.value("out")), reference.expected["out"]!, absolute: 2e-5, relative: 2e-5, "tape")
  }

  func testExpandThenDepthwiseChannelLastOnSmallPlanes() throws {
    // Planes of 9x11: the five images' expand as one product (`cf_pointwise`), then each image's depthwise; 40
    // channels make two full tiles of the C kernel and a part tile of 8. Interior columns go four at a time, borders
    // one by one.
    let directory = try TemporaryDirectory(prefix: "nn-expand-last")
    let reference = try OnnxRuntimeCase.build(
      """
      inputs = [('x', ['N', 6, 9, 11], [5, 6, 9, 11])]
      inits = [w('we', [40, 6, 1, 1]), w('be', [40]), w('wd', [40, 1, 3, 3]), w('bd', [40]),
               w('wf', [40, 6, 1, 1]), w('wg', [40, 1, 5, 5]), w('bg', [40]), scalar('zero', 0.0), scalar('six', 0.6)]
      nodes = [
          helper.make_node('Conv', ['x', 'we', 'be'], ['expanded']),
          helper.make_node('Clip', ['expanded', 'zero', 'six'], ['expanded6']),
          helper.make_node('Conv', ['expanded6', 'wd', 'bd'], ['dw'], group=40, pads=[1, 1, 1, 1]),
          helper.make_node('Relu', ['dw'], ['out']),
          helper.make_node('Conv', ['x', 'wf'], ['wide']),
          helper.make_node('Conv', ['wide', 'wg', 'bg'], ['strided'], group=40, strides=[2, 2], dilations=[1, 2],
                           pads=[2, 3, 1, 4]),
      ]
      outputs = ['expanded6', 'out', 'strided']
      """, in: directory, seed: 7)
    try reference.assertMatches()
    try reference.assertMatches(["out", "strided"])
    try reference.assertMatches(["out", "strided"], threads: 2)
  }

  func testReshapeMatMulAddBroadcastFlatten() throws {
    let directory = try TemporaryDirectory(prefix: "nn-matmul")
    let reference = try OnnxRuntimeCase.build(
      """
      inputs = [('x', ['N', 2, 3, 4], [5, 2, 3, 4])]
      inits = [ints('shape', [0, -1]), w('m', [24, 7]), wf('row', [7]), w('channel', [2, 1, 1]), w('n', [4, 3])]
      nodes = [
          helper.make_node('Reshape', ['x', 'shape'], ['rows']),
          helper.make_node('MatMul', ['rows', 'm'], ['product']),
          helper.make_node('Add', ['product', 'row'], ['biased']),
          helper.make_node('Mul', ['x', 'channel'], ['scaled']),
          helper.make_node('Sub', ['scaled', 'x'], ['difference']),
          helper.make_node('MatMul', ['x', 'n'], ['batched']),
          helper.make_node('Flatten', ['batched'], ['flat'], axis=2),
      ]
      outputs = ['rows', 'product', 'biased', 'scaled', 'difference', 'batched', 'flat']
      """, in: directory, seed: 3)
    try reference.assertMatches()
    try reference.assertMatches(threads: 2)
  }

  func testGemmTransposesAlphaBetaOnAFixedBatch() throws {
    let directory = try TemporaryDirectory(prefix: "nn-gemm")
    let reference = try OnnxRuntimeCase.build(
      """
      inputs = [('x', [3, 4], [3, 4])]
      inits = [w('b', [3, 5]), w('c', [5]), wf('b2', [6, 5]), w('c2', [4, 1])]
      nodes = [
          helper.make_node('Gemm', ['x', 'b', 'c'], ['y'], transA=1, alpha=0.7, beta=0.3),
          helper.make_node('Gemm', ['y', 'b2', 'c2'], ['z'], transB=1, alpha=1.5),
          helper.make_node('Gemm', ['x', 'x'], ['gram'], transB=1),
      ]
      outputs = ['y', 'z', 'gram']
      """, in: directory, seed: 4)
    try reference.assertMatches()
    // transA reads the batch axis as K: the graph must not be split over workers.
    try reference.assertMatches(threads: 2)
  }

  func testClipAttributesOfOpset6() throws {
    let directory = try TemporaryDirectory(prefix: "nn-clip6")
    let reference = try OnnxRuntimeCase.build(
      """
      opset = 6
      inputs = [('x', ['N', 2, 3, 3], [2, 2, 3, 3])]
      inits = []
      nodes = [helper.make_node('Clip', ['x'], ['clipped'], min=-0.25, max=0.5),
               helper.make_node('Dropout', ['clipped'], ['dropped'], is_test=1),
               helper.make_node('Identity', ['dropped'], ['same'])]
      outputs = ['clipped', 'same']
      """, in: directory, seed: 5)
    try reference.assertMatches()
  }
}
