import Foundation
import TestSupport
import XCTest

/// Where the built `confound-host` and plugins are: `CONFOUND_BIN_DIR`, else beside this test bundle.
enum ProbeBinaries {
  static var directory: URL {
    if let dir = ProcessInfo.processInfo.environment["CONFOUND_BIN_DIR"] { return URL(fileURLWithPath: dir) }
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }
    return SharedData.projectRoot.appendingPathComponent(".build/debug")
  }
}
