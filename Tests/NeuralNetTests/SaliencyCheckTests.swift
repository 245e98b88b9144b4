import Foundation
import TestSupport
import Statistics
import XCTest

@testable import NeuralNet

/// Occlusion against its closed form on a linear model, upsampling against scikit-image, Spearman against SciPy,
/// the default layer and its errors, and the cascading randomisation sanity check on MobileNetV2.
final class SaliencyCheckTests: XCTestCase {
  func testOcclusionOfALinearModelIsTheAverageOfPatchSumsOfGradientTimesInput() throws {
    let directory = try TemporaryDirectory(prefix: "nn-occlusion")
    let reference = try OnnxRuntimeCase.build(
      """
      inputs = [('x', ['N', 2, 9, 10], [2, 2, 9, 10])]
      inits = [w('k', [3, 2, 3, 3]), wf('b', [3]), w('fc', [4, 3]), wf('c', [4])]
      nodes = [
          helper.make_node('Conv', ['x', 'k', 'b'], ['conv'], pads=[1, 1, 1, 1]),
          helper.make_node('GlobalAveragePool', ['conv'], ['pooled']),
          helper.make_node('Flatten', ['pooled'], ['embedding']),
          helper.make_node('Gemm', ['embedding', 'fc', 'c'], ['logits'], transB=1),
      ]
      outputs = ['logits']
      """, in: directory, seed: 31)
    let network = reference.network
    let x = reference.feeds["x"]!
    var options = SaliencyOptions(polarity: .signed)
    (options.patch, options.stride) = (4, 3)
    let map = try network.saliency(x, output: "logits", column: 2, method: .occlusion, options: options)
    XCTAssertEqual(map.shape, [2, 9, 10])
    // f is linear: occluding a patch (baseline 0) drops f by the patch's sum of gradient times input.
    let g = try network.record(TensorOf<Double>(x), outputs: ["logits"], watching: ["x"]).gradients(
      of: "logits", column: 2, withRespectTo: ["x"])["x"]!
    var expected = Tensor(shape: [2, 9, 10])
    var covered = [Float](repeating: 0, count: 90)
    for n in 0..<2 {
      // Patch rows start at 0, 3, 6 (the last cut at the edge); columns at 0, 3, 6 (the last reaching 10).
      for y0 in [0, 3, 6] {
        for x0 in [0, 3, 6] {
          var drop = 0.0
          for c in 0..<2 {
            for y in y0..<min(y0 + 4, 9) {
              for xx in x0..<min(x0 + 4, 10) {
                let i = ((n * 2 + c) * 9 + y) * 10 + xx
                drop += g.data[i] * Double(x.data[i])
              }
            }
          }
          for y in y0..<min(y0 + 4, 9) {
            for xx in x0..<min(x0 + 4, 10) {
              expected.data[(n * 9 + y) * 10 + xx] += Float(drop)
              if n == 0 { covered[y * 10 + xx] += 1 }
            }
          }
        }
      }
    }
    for i in expected.data.indices { expected.data[i] /= covered[i % 90] }
    assertClose(map, expected, absolute: 2e-5, relative: 1e-4, "occlusion")
  }

  func testUpsamplingMatchesScikitImageAndMinMaxScales() throws {
    var rng = SeededGenerator(seed: 3)
    let map = Tensor(shape: [2, 4, 5], data: (0..<40).map { _ in Float(rng.uniform()) })
    let up = MapFinish.upsample(map, height: 13, width: 17)
    let dir = try TemporaryDirectory(prefix: "nn-resize")
    try Npy.write(map, to: dir.file("m.npy"))
    try python(
      """
      import sys, numpy as np
      from skimage.transform import resize
      m = np.load(sys.argv[1] + '/m.npy').astype(np.float64)
      np.save(sys.argv[1] + '/up.npy', np.stack([resize(x, (13, 17), order=1, mode='edge', anti_aliasing=False)
                                                 for x in m]).astype(np.float32))
      """, [dir.url.path])
    assertClose(up, try Npy.read(dir.file("up.npy")), absolute: 1e-6, "bilinear upsampling")
    var scaled = map
    MapFinish.minMax(&scaled)
    for n in 0..<2 {
      let row = scaled.data[(n * 20)..<((n + 1) * 20)]
      XCTAssertEqual(row.min(), 0)
      XCTAssertEqual(row.max(), 1)
    }
  }

  func testSpearmanMatchesSciPyWithTies() throws {
    var rng = SeededGenerator(seed: 9)
    let a = (0..<200).map { _ in Float((rng.uniform() * 5).rounded()) }  // many ties
    let b = a.map { $0 + Float(rng.uniform()) * 3 }
    let printed = try python(
      "import sys, json; from scipy.stats import spearmanr; a, b = json.loads(sys.argv[1]); print(spearmanr(a, b)[0])",
      [String(decoding: try JSONEncoder().encode([a, b]), as: UTF8.self)])
    let expected = try XCTUnwrap(Double(printed.trimmingCharacters(in: .whitespacesAndNewlines)))
    XCTAssertEqual(SanityCheck.spearman(a, b), expected, accuracy: 1e-12)
    XCTAssertEqual(SanityCheck.spearman([1, 2, 3], [3, 2, 1]), -1, accuracy: 1e-15)
    XCTAssertTrue(SanityCheck.spearman([1, 1, 1], [1, 2, 3]).isNaN)
  }

  func testDefaultLayerAndLayerErrors() throws {
    let models = try modelsFolder()
    let tiny = try Network(contentsOf: models.appendingPathComponent("tiny_cnn.onnx"))
    XCTAssertEqual(try tiny.defaultCAMLayer(output: "logits"), "add2")
    let input = try Npy.read(models.appendingPathComponent("refs/tiny_cnn/input.npy"))
    let cam = try tiny.saliency(input, output: "logits", column: 1, method: .gradCAM)
    XCTAssertEqual(cam.shape, [4, 9, 10])
    XCTAssertTrue(cam.data.allSatisfy { $0 >= 0 })
    let up = try tiny.saliency(
      input, output: "logits", column: 1, method: .gradCAM,
      options: SaliencyOptions(upsample: true))
    XCTAssertEqual(up.shape, [4, 33, 40])
    let early = try tiny.saliency(
      input, output: "logits", column: 1, method: .gradCAMPlusPlus,
      options: SaliencyOptions(layer: "conv1.relu6", minMax: true))
    XCTAssertEqual(early.shape, [4, 17, 20])
    XCTAssertEqual(early.data.max(), 1)
    let gradient = try tiny.saliency(
      input, output: "logits", column: 1, method: .gradient,
      options: SaliencyOptions(polarity: .absolute))
    XCTAssertEqual(gradient.shape, [4, 3, 33, 40])
    XCTAssertThrowsError(
      try tiny.saliency(
        input, output: "logits", column: 1, method: .gradCAM, options: SaliencyOptions(layer: "embedding"))
    ) { error in
      XCTAssertTrue("\(error)".contains("'embedding'") && "\(error)".contains("4-D"), "\(error)")
    }
    XCTAssertThrowsError(
      try tiny.saliency(input, output: "logits", column: 1, method: .gradCAM, options: SaliencyOptions(layer: "nope"))
    ) { error in
      XCTAssertTrue("\(error)".contains("'nope'"), "\(error)")
    }
  }

  func testCascadingRandomisationLowersRankCorrelationOnMobileNetV2() throws {
    let models = try modelsFolder()
    let network = try Network(contentsOf: models.appendingPathComponent("mobilenet_v2_1.0_224.onnx"))
    let photos = try Npy.read(models.appendingPathComponent("refs/mobilenet_v2_1.0_224/input.npy")).slice(batch: 0..<3)
    let layers = try network.weightedLayers(from: "logits")
    XCTAssertEqual(layers.count, 53)
    XCTAssertEqual(network.graph.nodes.first { $0.name == layers[0] }?.opType, "Gemm")
    for method in [SaliencyMethod.gradCAM, .gradient] {
      let steps = try SanityCheck.cascadingRandomisation(
        of: network, output: "logits", counts: [0, 1, 4, 16],
        seed: 1
      ) { randomised in
        try randomised.saliency(
          photos, output: "logits", column: 286, method: method,
          options: SaliencyOptions(polarity: method == .gradient ? .absolute : .signed))
      }
      print("\(method.rawValue) cascading randomisation:", steps.map { ($0.layers.count, $0.correlations) })
      XCTAssertEqual(steps[0].mean, 1, accuracy: 1e-12, "nothing randomised: the same maps")
      XCTAssertLessThan(steps[3].mean, 0.5, "\(method): maps after randomising the top 16 layers")
      XCTAssertLessThan(steps[3].mean, steps[1].mean, "\(method): cascading further lowers the correlation")
    }
  }
}
