import CNeuralKernels
import Statistics
@testable import NeuralNet
import TestSupport
import XCTest

/// The forward pass's channel-last kernels: `cf_pointwise` on every instruction set this CPU has, against a float64
/// product, and graphs that take each channel-last step and each way back to NCHW, against onnxruntime.
final class ChannelLastTests: XCTestCase {
  /// 37 rows of 27 inputs (in rows of 30 floats) to 40 outputs (two full panels and a part one), with bias, a clamp
  /// and a residual, on the baseline, AVX2 and AVX-512 kernels: the float64 product to 1e-5, and every row the same
  /// bits whether computed with the other rows or alone.
  func testPointwiseKernelsOnEveryInstructionSet() throws {
    let (rows, k, ldx, m) = (37, 27, 30, 40)
    var rng = SeededGenerator(seed: 3)
    let x = (0..<(rows * ldx)).map { _ in Float.random(in: -1...1, using: &rng) }
    let w = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
    let bias = (0..<m).map { _ in Float.random(in: -0.5...0.5, using: &rng) }
    let residual = (0..<(rows * m)).map { _ in Float.random(in: -1...1, using: &rng) }
    var packed = [Float](repeating: .nan, count: cf_pointwise_packed_size(Int32(k), Int32(m)))
    cf_pointwise_pack(w, Int32(k), Int32(m), &packed)
    var levels = 0
    for level in 0...2 {
      for (withResidual, lower, upper) in [(false, Float(0), Float(1.5)), (true, -Float.infinity, Float.infinity)] {
        var y = [Float](repeating: .nan, count: rows * m)
        let r: [Float]? = withResidual ? residual : nil
        let status = withOptionalPointer(r) { cf_pointwise_at_level(Int32(level), x, rows, ldx, Int32(k), packed, Int32(m), bias, lower, upper, $0, m, &y, m) }
        if status != 0 { continue }
        levels += 1
        for row in 0..<rows {
          for j in 0..<m {
            var sum = Double(bias[j])
            for i in 0..<k { sum += Double(x[row * ldx + i]) * Double(w[j * k + i]) }
            if withResidual { sum += Double(residual[row * m + j]) }
            let expected = min(max(sum, Double(lower)), Double(upper))
            XCTAssertEqual(Double(y[row * m + j]), expected, accuracy: 1e-5 * max(1, abs(expected)), "level \(level) [\(row), \(j)]")
          }
          var alone = [Float](repeating: .nan, count: m)
          _ = withOptionalPointer(r.map { Array($0[(row * m)..<((row + 1) * m)]) }) {
            cf_pointwise_at_level(Int32(level), Array(x[(row * ldx)...]), 1, ldx, Int32(k), packed, Int32(m), bias, lower, upper, $0, m, &alone, m)
          }
          XCTAssertEqual(alone, Array(y[(row * m)..<((row + 1) * m)]), "level \(level): row \(row) alone")
        }
      }
    }
    #if arch(x86_64)
      XCTAssertGreaterThanOrEqual(levels, 2, "the baseline kernel and at least one other ran")
    #else
      XCTAssertEqual(levels, 1, "the baseline kernel ran")
    #endif
  }

  /// A 3 x 3 window at stride 2 over a zero-bordered 7 x 8 image of 5 channels to 20 outputs, read in place by
  /// `cf_conv_taps` on every instruction set this CPU has: the float64 sum over each window to 1e-5, and every row
  /// the same bits as `cf_pointwise` gives on the same window gathered into a row.
  func testWindowsReadInPlaceOnEveryInstructionSet() throws {
    let (h, w, c, m) = (7, 8, 5, 20)
    var rng = SeededGenerator(seed: 4)
    let image = (0..<(h * w * c)).map { _ in Float.random(in: -1...1, using: &rng) }
    let weights = (0..<(m * 9 * c)).map { _ in Float.random(in: -1...1, using: &rng) }
    let bias = (0..<m).map { _ in Float.random(in: -0.5...0.5, using: &rng) }
    let (outH, outW, depth) = (3, 3, 9 * c)
    let starts = (0..<(outH * outW)).map { r in ((r / outW) * 2 * w + (r % outW) * 2) * c }
    var offsets = [Int32](repeating: 0, count: depth)
    for t in 0..<9 { for ch in 0..<c { offsets[t * c + ch] = Int32(((t / 3) * w + t % 3) * c + ch) } }
    var packed = [Float](repeating: .nan, count: cf_pointwise_packed_size(Int32(depth), Int32(m)))
    cf_pointwise_pack(weights, Int32(depth), Int32(m), &packed)
    var levels = 0
    for level in 0...2 {
      var y = [Float](repeating: .nan, count: outH * outW * m)
      guard cf_conv_taps_at_level(
        Int32(level), image, starts, outH * outW, offsets, Int32(depth), packed, Int32(m), bias, -.infinity, .infinity,
        &y, m) == 0
      else { continue }
      levels += 1
      for r in 0..<(outH * outW) {
        let row = offsets.map { image[starts[r] + Int($0)] }
        var gathered = [Float](repeating: .nan, count: m)
        XCTAssertEqual(cf_pointwise_at_level(Int32(level), row, 1, depth, Int32(depth), packed, Int32(m), bias, -.infinity, .infinity, nil, 0, &gathered, m), 0)
        XCTAssertEqual(Array(y[(r * m)..<((r + 1) * m)]), gathered, "level \(level): window \(r)")
        for j in 0..<m {
          var sum = Double(bias[j])
          for kk in 0..<depth { sum += Double(row[kk]) * Double(weights[j * depth + kk]) }
          XCTAssertEqual(Double(y[r * m + j]), sum, accuracy: 1e-5 * max(1, abs(sum)), "level \(level) [\(r), \(j)]")
        }
      }
    }
    #if arch(x86_64)
      XCTAssertGreaterThanOrEqual(levels, 2, "the baseline kernel and at least one other ran")
    #else
      XCTAssertEqual(levels, 1, "the baseline kernel ran")
    #endif
  }

  /// The layout conversions' transpose: 8 x 8 blocks of shuffles and the rows and columns left over, 19 x 21 and
  /// 3 x 40 (an RGB image's channels), against the definition.
  func testTransposeBlocksAndEdges() {
    for (rows, columns) in [(19, 21), (3, 40), (16, 8)] {
      let x = (0..<(rows * columns)).map { Float($0) }
      var y = [Float](repeating: .nan, count: x.count)
      cf_transpose(x, rows, columns, &y)
      let expected = (0..<(rows * columns)).map { i in x[(i % rows) * columns + i / rows] }
      XCTAssertEqual(y, expected, "\(rows) x \(columns)")
    }
  }

  /// Every channel-last step and every way back: a stem-like strided, asymmetrically padded 3 x 3 Conv over 3
  /// channels to 40 (read from the NCHW graph input); a strided 1x1 Conv and a dilated Conv (taps gathered); pointwise Convs whose Add
  /// with an earlier value is made in their registers, one whose Add reads the NCHW graph input (no fusion: run
  /// apart); a squeeze-and-excitation gate (a Conv on 1 x 1 planes, then a broadcast Mul that runs NCHW); expand +
  /// depthwise pairs on 16 x 16 planes (5 images: 4 together, then 1) and on 2 x 2 ones (all 5 together); a grouped
  /// Conv (NCHW only); and a requested channel-last value, converted back.
  func testChannelLastStepsAgainstOnnxRuntime() throws {
    let directory = try TemporaryDirectory(prefix: "nn-channel-last")
    let reference = try OnnxRuntimeCase.build(
      """
      inputs = [('x', ['N', 3, 33, 32], [5, 3, 33, 32])]
      # Weights about 1 / sqrt(fan-in), so that values stay near 1 through the twenty layers.
      inits = [w('stem', [40, 3, 3, 3], 0.2), w('bstem', [40]), w('pw', [24, 40, 1, 1], 0.16),
               w('pw2', [24, 24, 1, 1], 0.2), w('bpw2', [24]), w('stride1', [24, 24, 1, 1], 0.2),
               w('dil', [24, 24, 3, 2], 0.08), w('bdil', [24]), w('we', [96, 24, 1, 1], 0.2), w('be', [96]),
               w('wd', [96, 1, 3, 3], 0.33), w('bd', [96]), w('proj', [24, 96, 1, 1], 0.1), w('sq', [8, 24, 1, 1], 0.2),
               w('bsq', [8]), w('ex', [24, 8, 1, 1], 0.35), w('bex', [24]), w('down', [24, 1, 5, 5], 0.2),
               w('we2', [48, 24, 1, 1], 0.2), w('wd2', [48, 1, 5, 5], 0.2), w('bd2', [48]), w('proj2', [24, 48, 1, 1], 0.14),
               w('grp', [24, 6, 3, 3], 0.14), w('px', [3, 3, 1, 1]), scalar('zero', 0.0), scalar('six', 0.6)]
      nodes = [
          helper.make_node('Conv', ['x', 'stem', 'bstem'], ['s'], strides=[2, 2], pads=[1, 0, 2, 1]),
          helper.make_node('Clip', ['s', 'zero', 'six'], ['s6']),
          helper.make_node('Conv', ['s6', 'pw'], ['a']),
          helper.make_node('Conv', ['a', 'pw2', 'bpw2'], ['b']),
          helper.make_node('Add', ['a', 'b'], ['res1']),
          helper.make_node('Conv', ['res1', 'stride1'], ['c'], strides=[2, 2]),
          helper.make_node('Conv', ['c', 'dil', 'bdil'], ['d'], dilations=[2, 1], pads=[2, 0, 2, 1]),
          helper.make_node('Conv', ['d', 'we', 'be'], ['e']),
          helper.make_node('Clip', ['e', 'zero', 'six'], ['e6']),
          helper.make_node('Conv', ['e6', 'wd', 'bd'], ['f'], group=96, pads=[1, 1, 1, 1]),
          helper.make_node('Relu', ['f'], ['f6']),
          helper.make_node('Conv', ['f6', 'proj'], ['g']),
          helper.make_node('Add', ['d', 'g'], ['res2']),
          helper.make_node('GlobalAveragePool', ['res2'], ['pooled']),
          helper.make_node('Conv', ['pooled', 'sq', 'bsq'], ['squeezed']),
          helper.make_node('Relu', ['squeezed'], ['squeezed_relu']),
          helper.make_node('Conv', ['squeezed_relu', 'ex', 'bex'], ['excited']),
          helper.make_node('Sigmoid', ['excited'], ['gate']),
          helper.make_node('Mul', ['res2', 'gate'], ['gated']),
          helper.make_node('Conv', ['gated', 'down'], ['small'], group=24, strides=[4, 4], pads=[1, 2, 2, 2]),
          helper.make_node('Conv', ['small', 'we2'], ['h']),
          helper.make_node('Conv', ['h', 'wd2', 'bd2'], ['i'], group=48, pads=[2, 2, 2, 2]),
          helper.make_node('Conv', ['i', 'proj2'], ['j']),
          helper.make_node('Add', ['j', 'small'], ['res3']),
          helper.make_node('Conv', ['res3', 'grp'], ['grouped'], group=4, pads=[1, 1, 1, 1]),
          helper.make_node('Conv', ['x', 'px'], ['k']),
          helper.make_node('Add', ['k', 'x'], ['input_residual']),
      ]
      outputs = ['res1', 'gated', 'res3', 'grouped', 'input_residual']
      """, in: directory, seed: 11)
    XCTAssertEqual(reference.expected["res3"]?.shape, [5, 24, 2, 2], "the last pair runs on 2 x 2 planes")
    try reference.assertMatches(tolerance: 2e-5)
    try reference.assertMatches(["grouped", "input_residual"], tolerance: 2e-5)
    try reference.assertMatches(["grouped", "input_residual"], threads: 2, tolerance: 2e-5)
    // Each image alone gives the same bits as within the batch: its rows in a product with the other images' (the
    // 2 x 2 pair's expand runs all five together, the 16 x 16 one's four and one), or without them.
    let names = ["res1", "gated", "res3", "input_residual"]
    let batch = try reference.network.run(reference.feeds, outputs: names)
    for image in 0..<5 {
      let alone = try reference.network.run(
        reference.feeds.mapValues { $0.slice(batch: image..<(image + 1)) }, outputs: names)
      for name in names {
        XCTAssertEqual(alone[name]!.data, batch[name]!.slice(batch: image..<(image + 1)).data, "\(name), image \(image)")
      }
    }
  }

  /// The plan fuses what the test above counts on: the residual Adds of `res1`, `res2` and `res3` into their Convs,
  /// not the one that reads the graph input (computed before any step, but NCHW), and expand + depthwise pairs.
  func testResidualAddsAreAbsorbedOnlyWhereTheResidualComesFirst() throws {
    let directory = try TemporaryDirectory(prefix: "nn-channel-last-plan")
    let reference = try OnnxRuntimeCase.build(
      """
      inputs = [('x', ['N', 8, 6, 6], [1, 8, 6, 6])]
      inits = [w('a', [8, 8, 1, 1]), w('b', [8, 8, 1, 1]), w('c', [8, 8, 1, 1])]
      nodes = [
          helper.make_node('Conv', ['x', 'a'], ['p']),
          helper.make_node('Conv', ['p', 'b'], ['q']),
          helper.make_node('Add', ['q', 'p'], ['fused']),
          helper.make_node('Conv', ['fused', 'c'], ['r']),
          helper.make_node('Relu', ['r'], ['r_relu']),
          helper.make_node('Add', ['r_relu', 'fused'], ['not_fused_activation']),
      ]
      outputs = ['not_fused_activation']
      """, in: directory, seed: 12)
    let plan = try reference.network.plan(for: ["not_fused_activation"])
    let program = try XCTUnwrap(plan.channelLast)
    let absorbed = program.absorbed.map { plan.steps[$0.key].node.output }
    XCTAssertEqual(absorbed, ["fused"], "only the Add after a Conv without activation")
    try reference.assertMatches()
  }
}
