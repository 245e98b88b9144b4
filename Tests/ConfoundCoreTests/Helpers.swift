import TestSupport
import XCTest

/// Runs a reference Python script and decodes its JSON output, skipping the test when the venv is missing.
func pythonReference<T>(_ script: String, _ arguments: [String], as: T.Type = T.self) throws -> T {
  let value: Any
  do { value = try PythonReference.json(script, arguments: arguments) } catch let s as SkipReason {
    throw XCTSkip(s.description)
  }
  return try XCTUnwrap(value as? T, "reference output is not \(T.self)")
}

/// A folder of ../shared/data, or a skip naming what is missing.
func sharedData(_ set: String) throws -> URL {
  do { return try SharedData.require("data/\(set)") } catch let s as SkipReason { throw XCTSkip(s.description) }
}
