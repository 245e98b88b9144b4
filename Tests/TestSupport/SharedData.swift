import Foundation

/// Locates the project root, the real data in `../shared` and the test venv, for every test target.
///
/// Tests that need `../shared` call `try SharedData.require("set")`, which throws `XCTSkip`-compatible
/// `SkipReason` with a message when the folder is absent (an outside user's clone); CI always has it.
public enum SharedData {
  /// The repository root: the folder holding Package.swift, found upwards from this source file.
  public static let projectRoot: URL = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while url.path != "/" {
      if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
      url.deleteLastPathComponent()
    }
    fatalError("Package.swift not found above \(#filePath)")
  }()

  /// `../shared` beside the repository, or `CONFOUND_SHARED` when set.
  public static var sharedRoot: URL {
    if let env = ProcessInfo.processInfo.environment["CONFOUND_SHARED"] { return URL(fileURLWithPath: env) }
    return projectRoot.deletingLastPathComponent().appendingPathComponent("shared")
  }

  /// The folder `../shared/<relative>`, or nil when it does not exist.
  public static func path(_ relative: String) -> URL? {
    let url = sharedRoot.appendingPathComponent(relative)
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
  }

  /// The folder `../shared/<relative>`, or a `SkipReason` that says what is missing.
  public static func require(_ relative: String) throws -> URL {
    guard let url = path(relative) else {
      throw SkipReason("\(sharedRoot.path)/\(relative) is absent: this test needs the project's shared data beside the clone")
    }
    return url
  }
}

/// Thrown by helpers when a test cannot run here; test files turn it into `XCTSkip`.
public struct SkipReason: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
