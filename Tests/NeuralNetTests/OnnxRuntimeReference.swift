import Foundation
import NeuralNet
import TestSupport
import XCTest

/// Builds a model with `onnx.helper` in the test venv, runs onnxruntime on it and hands back the model, the
/// inputs it drew and onnxruntime's value for every graph output, so a test compares the engine to the
/// reference tool on the same file and data.
struct OnnxRuntimeCase {
  let network: Network
  let feeds: [String: Tensor]
  let expected: [String: Tensor]
  let modelURL: URL

  /// `graph` is Python that defines `nodes` (onnx.helper nodes), `inits` (initializers), `inputs` (a list of
  /// `(name, declared_shape, actual_shape)`) and `outputs` (value names), and may set `opset`.
  /// Helpers `w(name, shape)` (raw_data) and `wf(name, shape)` (float_data) make random initializers.
  static func build(_ graph: String, in directory: TemporaryDirectory, seed: Int = 0) throws -> OnnxRuntimeCase {
    let script = """
      import sys, numpy as np, onnx, onnxruntime as ort
      from onnx import helper, numpy_helper, TensorProto
      out, rng = sys.argv[1], np.random.default_rng(int(sys.argv[2]))
      def w(name, shape, scale=0.5):
          return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)
      def wf(name, shape, scale=0.5):
          values = (rng.standard_normal(shape) * scale).astype(np.float32)
          return helper.make_tensor(name, TensorProto.FLOAT, list(shape), values.flatten().tolist())
      def ints(name, values):
          return numpy_helper.from_array(np.array(values, dtype=np.int64), name)
      def scalar(name, value):
          return numpy_helper.from_array(np.array(value, dtype=np.float32), name)
      opset = 13
      \(graph)
      graph_inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, d) for n, d, _ in inputs]
      graph_outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs]
      graph = helper.make_graph(nodes, 'test', graph_inputs, graph_outputs, initializer=inits)
      model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])
      model.ir_version = 7
      onnx.save(model, out + '/model.onnx')
      feeds = {n: rng.uniform(-1, 1, size=s).astype(np.float32) for n, _, s in inputs}
      for n, v in feeds.items(): np.save(out + '/in_' + n + '.npy', v)
      session = ort.InferenceSession(out + '/model.onnx', providers=['CPUExecutionProvider'])
      for n, v in zip(outputs, session.run(outputs, feeds)): np.save(out + '/out_' + n + '.npy', v.astype(np.float32))
      print(','.join(outputs)); print(','.join(feeds))
      """
    let printed = try python(script, [directory.url.path, String(seed)]).split(separator: "\n")
    let outputs = printed[0].split(separator: ",").map(String.init)
    let inputs = printed[1].split(separator: ",").map(String.init)
    let url = directory.file("model.onnx")
    var feeds: [String: Tensor] = [:]
    for name in inputs { feeds[name] = try Npy.read(directory.file("in_\(name).npy")) }
    var expected: [String: Tensor] = [:]
    for name in outputs { expected[name] = try Npy.read(directory.file("out_\(name).npy")) }
    return OnnxRuntimeCase(network: try Network(contentsOf: url), feeds: feeds, expected: expected, modelURL: url)
  }

  /// Runs the engine for `names` (default: every graph output) and compares each with onnxruntime.
  func assertMatches(
    _ names: [String]? = nil, threads: Int = 1, tolerance: Float = 2e-5,
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let names = names ?? Array(expected.keys).sorted()
    let actual = try network.run(feeds, outputs: names, threads: threads)
    for name in names {
      assertClose(
        actual[name]!, expected[name]!, absolute: tolerance, relative: tolerance,
        "\(name) (\(threads) threads)", file: file, line: line)
    }
  }
}
