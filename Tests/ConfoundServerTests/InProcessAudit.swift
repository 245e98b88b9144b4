import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost
import TestSupport
import XCTest

@testable import ConfoundServer

/// The audit run in this process, as the host runs it, with the built-in plugins of this build loaded into a
/// registry (their calls run in worker processes, as in the host). No JSON-RPC transport, no host binary.
enum InProcessAudit {
  /// The folder holding this build's products (`CONFOUND_BIN_DIR`, else .build/debug).
  static var products: URL {
    if let dir = ProcessInfo.processInfo.environment["CONFOUND_BIN_DIR"] { return URL(fileURLWithPath: dir) }
    return SharedData.projectRoot.appendingPathComponent(".build/debug")
  }

  /// A registry with the named built-in plugins (`probe`, `focus`, ...) of this build, or none.
  static func registry(_ kinds: [String]) throws -> PluginRegistry {
    let worker = products.appendingPathComponent("confound-worker")
    guard FileManager.default.isExecutableFile(atPath: worker.path) else {
      throw XCTSkip("\(worker.path) is not built: run `swift build` first")
    }
    let registry = PluginRegistry(workerExecutable: worker.path, maxWorkersPerPlugin: 2)
    for kind in kinds {
      _ = try registry.load(path: products.appendingPathComponent("libconfound-plugin-\(kind).so").path)
    }
    return registry
  }

  /// A request context whose log and progress go nowhere.
  static func context() -> RequestContext {
    RequestContext(id: .int(1), token: CancellationToken(), progressToken: nil, log: HostLog(threshold: .error)) { _ in }
  }

  static func run(_ params: AuditRequest.Params, plugins: [String]) throws -> AuditRequest.Response {
    let registry = try registry(plugins)
    defer { registry.shutdown() }
    return try Audit(params: params, plugins: registry, context: context()).run()
  }

  /// The same audit with the plugins opened in this process and called directly (no worker process at all).
  static func runInProcess(_ params: AuditRequest.Params, plugins kinds: [String]) throws -> AuditRequest.Response {
    let plugins = InProcessPlugins()
    for kind in kinds { try plugins.load(path: products.appendingPathComponent("libconfound-plugin-\(kind).so").path) }
    return try Audit(params: params, plugins: plugins, context: context()).run()
  }
}
