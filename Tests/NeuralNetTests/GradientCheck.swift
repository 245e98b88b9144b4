import Foundation
import Statistics
import XCTest

@testable import NeuralNet

extension SeededGenerator {
  /// A uniform draw in [-1, 1).
  mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) * 2 - 1 }
}

/// How far a backward pass is from central finite differences of the float64 forward pass.
struct GradientError: CustomStringConvertible {
  var maxAbsolute = 0.0
  var maxRelative = 0.0
  var largest = 0.0
  var checked = 0
  var description: String {
    String(
      format: "%d elements: max abs %.2e, max rel %.2e (largest |g| %.3g)", checked, maxAbsolute, maxRelative, largest)
  }
}

/// Checks the gradient of `<seed, output>` with respect to the values `names` (graph inputs or intermediates)
/// against central differences `(f(v + h e_i) - f(v - h e_i)) / 2h` of the float64 forward pass, on up to `limit`
/// elements of each, with a random seed over the output.
enum GradientCheck {
  static let step = 1e-6

  @discardableResult
  static func assertMatchesFiniteDifferences(
    _ network: Network, feeds: [String: Tensor], output: String, withRespectTo names: [String],
    limit: Int = 400, tolerance: Double = 1e-7, anySpatialSize: Bool = false,
    file: StaticString = #filePath, line: UInt = #line
  ) throws -> GradientError {
    let feeds64 = feeds.mapValues { TensorOf<Double>($0) }
    let tape = try network.record(feeds64, outputs: [output], watching: names, anySpatialSize: anySpatialSize)
    var rng = SeededGenerator(seed: 42)
    let y = try tape.value(output)
    let seed = TensorOf<Double>(shape: y.shape, data: y.data.map { _ in rng.uniform() })
    let gradients = try tape.gradients(seeds: [output: seed], withRespectTo: names)
    var error = GradientError()
    for name in names {
      let g = gradients[name]!
      XCTAssertEqual(g.shape, try tape.value(name).shape, "\(name): gradient shape", file: file, line: line)
      let scale = max(1, g.data.map(abs).max() ?? 0)
      var picks = Array(g.data.indices)
      if picks.count > limit { picks = (0..<limit).map { _ in Int(rng.next() % UInt64(g.count)) } }
      for i in picks {
        func f(_ delta: Double) throws -> Double {
          let t = try Tape(network: network, feeds: feeds64, outputs: [output], watching: [name]) { value, tensor in
            if value == name { tensor.data[i] += delta }
          }
          return zip(try t.value(output).data, seed.data).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let numeric = (try f(step) - f(-step)) / (2 * step)
        let absolute = abs(numeric - g.data[i])
        error.maxAbsolute = max(error.maxAbsolute, absolute)
        error.maxRelative = max(error.maxRelative, absolute / max(abs(numeric), 1e-3))
        error.largest = max(error.largest, abs(g.data[i]))
        error.checked += 1
        if absolute > tolerance * scale {
          XCTFail(
            "d<seed, \(output)>/d\(name)[\(i)]: backward \(g.data[i]), finite differences \(numeric)", file: file,
            line: line)
          return error
        }
      }
    }
    return error
  }

  /// The float32 tape's gradient against the float64 tape's on the same inputs, relative to the largest element of
  /// each gradient: the worst element and the share of elements off by more than 1e-5.
  static func float32Error(
    _ network: Network, feeds: [String: Tensor], output: String, withRespectTo names: [String],
    anySpatialSize: Bool = false
  ) throws -> (worst: Double, shareAbove1e5: Double) {
    let t32 = try network.record(
      feeds.mapValues { TensorOf<Float>($0) }, outputs: [output], watching: names,
      anySpatialSize: anySpatialSize)
    let t64 = try network.record(
      feeds.mapValues { TensorOf<Double>($0) }, outputs: [output], watching: names,
      anySpatialSize: anySpatialSize)
    var rng = SeededGenerator(seed: 7)
    let y = try t64.value(output)
    let seed = y.data.map { _ in rng.uniform() }
    let g32 = try t32.gradients(
      seeds: [output: TensorOf(shape: y.shape, data: seed.map(Float.init))], withRespectTo: names)
    let g64 = try t64.gradients(seeds: [output: TensorOf(shape: y.shape, data: seed)], withRespectTo: names)
    var (worst, above, count) = (0.0, 0, 0)
    for name in names {
      let scale = max(1e-12, g64[name]!.data.map(abs).max() ?? 0)
      for (a, b) in zip(g32[name]!.data, g64[name]!.data) {
        let error = abs(Double(a) - b) / scale
        worst = max(worst, error)
        if error > 1e-5 { above += 1 }
        count += 1
      }
    }
    return (worst, Double(above) / Double(max(1, count)))
  }
}
