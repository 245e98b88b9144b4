import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost
import TestSupport
import XCTest

/// The test plugins of Tests/Plugins, compiled with gcc, and a registry of real workers serving them.
enum TestPlugins {
  static let sources = SharedData.projectRoot.appendingPathComponent("Tests/Plugins")

  /// `confound-worker` from $CONFOUND_BIN_DIR or the debug build; skips the test when it is not built.
  static func worker() throws -> String {
    let dir = ProcessInfo.processInfo.environment["CONFOUND_BIN_DIR"].map { URL(fileURLWithPath: $0) }
      ?? SharedData.projectRoot.appendingPathComponent(".build/debug")
    let path = dir.appendingPathComponent("confound-worker").path
    guard FileManager.default.isExecutableFile(atPath: path) else { throw XCTSkip("\(path) is not built: run `swift build`") }
    return path
  }

  /// Compiles `source` (under Tests/Plugins) into `dir` with the given -D flags.
  static func build(_ source: String, into dir: URL, name: String, defines: [String] = []) throws -> String {
    let out = dir.appendingPathComponent(name).path
    let include = SharedData.projectRoot.appendingPathComponent("Protocol").path
    let gcc = Process()
    gcc.executableURL = URL(fileURLWithPath: "/usr/bin/gcc")
    gcc.arguments = ["-shared", "-fPIC", "-O2", "-I", include] + defines.map { "-D\($0)" }
      + [sources.appendingPathComponent(source).path, "-ljansson", "-lm", "-o", out]
    try gcc.run()
    gcc.waitUntilExit()
    guard gcc.terminationStatus == 0 else { throw XCTSkip("gcc could not build \(source) (is libjansson-dev installed?)") }
    return out
  }

  /// A one-channel 4x4 float32 .npy image of known mean (7.5).
  static func image(in dir: URL) throws -> String {
    let url = dir.appendingPathComponent("image.npy")
    try NPYArray(shape: [1, 4, 4], values: (0..<16).map(Float.init)).write(to: url)
    return url.path
  }
}

/// A registry with test.misbehave loaded, and a way to call it in one of its modes.
final class MisbehaveFixture {
  let dir: TemporaryDirectory
  let registry: PluginRegistry
  let image: String

  init(limits: WorkerLimits = WorkerLimits(), defaultCallTimeout: Double = 30) throws {
    dir = try TemporaryDirectory(prefix: "plugin-host")
    let plugin = try TestPlugins.build("CMisbehave/misbehave_plugin.c", into: dir.url, name: "libmisbehave.so")
    registry = PluginRegistry(workerExecutable: try TestPlugins.worker(), maxWorkersPerPlugin: 1, limits: limits,
                              defaultCallTimeout: defaultCallTimeout)
    try registry.load(path: plugin)
    image = try TestPlugins.image(in: dir.url)
  }

  func run(_ mode: String, _ parameters: JSONObject = [:], timeout: Double? = nil) throws -> PluginsRunRequest.Response {
    var p = parameters
    p["mode"] = .string(mode)
    return try registry.run(
      PluginsRunRequest.Params(plugin: "test.misbehave", parameters: p, inputs: [InputRef(name: "image", npy: image)],
                               outputDir: dir.url.path, timeoutSeconds: timeout),
      isCancelled: { false }, progress: { _, _ in }, log: { _, _ in })
  }

  /// Runs `mode`, expecting an error; returns it with the seconds the call took.
  func failure(_ mode: String, _ parameters: JSONObject = [:], timeout: Double? = nil,
               file: StaticString = #filePath, line: UInt = #line) -> (ResponseError, Double) {
    let started = Date()
    do {
      let response = try run(mode, parameters, timeout: timeout)
      XCTFail("mode \(mode) succeeded: \(JSONWriter.string(response.result).prefix(200))", file: file, line: line)
    } catch let error as ResponseError {
      return (error, Date().timeIntervalSince(started))
    } catch {
      XCTFail("mode \(mode): not a ResponseError: \(error)", file: file, line: line)
    }
    return (ResponseError(.internalError, "none"), Date().timeIntervalSince(started))
  }

  /// The mean the plugin reports in mode "ok": the host is healthy again.
  func healthyMean() throws -> Double? {
    try run("ok").result["channels"]?.arrayValue?.first?["measures"]?["mean"]?.doubleValue
  }

  deinit { registry.shutdown() }
}

/// True while a process with this pid exists (and is not a zombie).
func processExists(_ pid: Int32) -> Bool {
  guard kill(pid, 0) == 0 else { return false }
  let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
  return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? false)
}
