import NeuralNet
import TestSupport
import XCTest

/// The largest |a - b| over two tensors of the same shape (fails the test when the shapes differ).
func maxAbsDifference(
  _ a: Tensor, _ b: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line
) -> Float {
  XCTAssertEqual(a.shape, b.shape, "\(what): shape", file: file, line: line)
  guard a.shape == b.shape else { return .infinity }
  return zip(a.data, b.data).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Asserts every element agrees within `absolute + relative * |expected|`.
func assertClose(
  _ actual: Tensor, _ expected: Tensor, absolute: Float, relative: Float = 0, _ what: String,
  file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
  guard actual.shape == expected.shape else { return }
  var worst = (index: -1, excess: Float(0))
  for i in expected.data.indices {
    let allowed = absolute + relative * abs(expected.data[i])
    let excess = abs(actual.data[i] - expected.data[i]) - allowed
    if !(excess <= worst.excess) { worst = (i, excess.isNaN ? .infinity : excess) }
  }
  if worst.index >= 0 {
    let i = worst.index
    XCTFail("\(what): element \(i) is \(actual.data[i]), expected \(expected.data[i])", file: file, line: line)
  }
}

/// The shared model folder, or an XCTSkip when this clone has no shared data beside it.
func modelsFolder() throws -> URL {
  do { return try SharedData.require("models") } catch let skip as SkipReason { throw XCTSkip(skip.description) }
}

/// Runs a reference script, turning a missing venv into an XCTSkip.
@discardableResult
func python(_ script: String, _ arguments: [String] = []) throws -> String {
  do { return try PythonReference.run(script, arguments: arguments) } catch let skip as SkipReason {
    throw XCTSkip(skip.description)
  }
}
