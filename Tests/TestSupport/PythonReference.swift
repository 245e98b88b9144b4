import Foundation

/// Runs a Python snippet in the test venv (made by `.ci/setup-tests`), to compute reference values with
/// scikit-learn, scikit-image, tifffile, onnxruntime or openTSNE on the same data the Swift code sees.
///
/// The venv is `$CONFOUND_VENV` or `<project>/.venv`. When it is missing the call throws `SkipReason`
/// naming the command that makes it.
public enum PythonReference {
  public static var python: URL {
    if let env = ProcessInfo.processInfo.environment["CONFOUND_VENV"] {
      return URL(fileURLWithPath: env).appendingPathComponent("bin/python")
    }
    return SharedData.projectRoot.appendingPathComponent(".venv/bin/python")
  }

  /// Runs `script` with `arguments`; returns its standard output. Throws with its standard error on failure.
  @discardableResult
  public static func run(_ script: String, arguments: [String] = []) throws -> String {
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
      throw SkipReason("no test venv at \(python.path): run `bash .ci/setup-tests` first")
    }
    let process = Process()
    process.executableURL = python
    process.arguments = ["-c", script] + arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes to the end before waiting, so a large output cannot block the child.
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errBox.data = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let errData = errBox.data
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw PythonError(status: process.terminationStatus, stderr: String(decoding: errData, as: UTF8.self))
    }
    return String(decoding: outData, as: UTF8.self)
  }

  /// Runs `script` and decodes its standard output as JSON.
  public static func json(_ script: String, arguments: [String] = []) throws -> Any {
    let text = try run(script, arguments: arguments)
    return try JSONSerialization.jsonObject(with: Data(text.utf8))
  }
}

/// A reference script failed; carries its standard error.
public struct PythonError: Error, CustomStringConvertible {
  public let status: Int32
  public let stderr: String
  public var description: String { "reference python exited \(status):\n\(stderr)" }
}

/// A scratch folder removed when the value is released.
public final class TemporaryDirectory {
  public let url: URL
  public init(prefix: String = "confound-test") throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }
  public func file(_ name: String) -> URL { url.appendingPathComponent(name) }
  deinit { try? FileManager.default.removeItem(at: url) }
}
