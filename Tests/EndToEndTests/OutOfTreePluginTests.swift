import ConfoundImaging
import Foundation
import JSONRPC
import TestSupport
import XCTest

/// Plugins built outside the main package -- one in C with jansson, one Swift package depending on the SDK --
/// dropped into a folder and loaded by the already-built host, each checked by value.
final class OutOfTreePluginTests: XCTestCase {
  static let sources = SharedData.projectRoot.appendingPathComponent("Tests/Plugins")

  /// Compiles a C plugin with gcc against Protocol/confound_plugin.h.
  static func buildC(_ source: String, into dir: URL, name: String, defines: [String] = []) throws -> URL {
    let out = dir.appendingPathComponent(name)
    let include = SharedData.projectRoot.appendingPathComponent("Protocol").path
    try runCommand("/usr/bin/gcc", ["-shared", "-fPIC", "-O2", "-I", include] + defines.map { "-D\($0)" }
      + [sources.appendingPathComponent(source).path, "-ljansson", "-lm", "-o", out.path])
    return out
  }

  /// Builds the Swift package Tests/Plugins/SwiftEmbedder (its own package, depending on ConfoundKit by path).
  static func buildSwiftPackage(into dir: URL) throws -> URL {
    let scratch = SharedData.projectRoot.appendingPathComponent(".build/out-of-tree-plugin")
    try runCommand("/usr/bin/env", ["swift", "build", "--package-path", sources.appendingPathComponent("SwiftEmbedder").path,
                                    "--scratch-path", scratch.path])
    let built = scratch.appendingPathComponent("debug/liblab-swift-embedder.so")
    let target = dir.appendingPathComponent("liblab-swift-embedder.so")
    try FileManager.default.copyItem(at: built, to: target)
    return target
  }

  /// A deterministic two-channel image with distinct statistics per channel.
  static func testImage() -> (shape: [Int], pixels: [Float]) {
    let (c, h, w) = (2, 40, 50)
    var pixels = [Float](repeating: 0, count: c * h * w)
    for i in 0..<pixels.count {
      let channel = i / (h * w)
      pixels[i] = Float((i * 7919) % 1000) / (channel == 0 ? 10 : 3) + Float(channel * 50)
    }
    return ([c, h, w], pixels)
  }

  func testCPluginWithJanssonComputesChannelStatistics() throws {
    let dir = try TemporaryDirectory()
    _ = try Self.buildC("CStats/stats_plugin.c", into: dir.url, name: "libstats.so")
    let (shape, pixels) = Self.testImage()
    let npy = dir.file("image.npy")
    try NPYArray(shape: shape, values: pixels).write(to: npy)
    let host = try LiveHost(arguments: ["--plugin-dir", dir.url.path])
    try host.initialize()
    for trim in [0.0, 0.25] {
      let result = try host.request("plugins/run", [
        "plugin": "lab.c-stats", "parameters": ["trim": .double(trim)], "context": ["channels": ["DNA", "Actin"]],
        "inputs": [["name": "image", "npy": .string(npy.path)]],
      ])
      let channels = try XCTUnwrap(result["result"]?["channels"]?.arrayValue)
      XCTAssertEqual(channels.map { $0["channel"]?.stringValue }, ["DNA", "Actin"])
      let plane = shape[1] * shape[2]
      for (c, channel) in channels.enumerated() {
        let values = pixels[c * plane..<(c + 1) * plane].map(Double.init).sorted().dropFirst(Int(trim * Double(plane)))
        let mean = values.reduce(0, +) / Double(values.count)
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        let measures = try XCTUnwrap(channel["measures"])
        XCTAssertEqual(try XCTUnwrap(measures["Intensity_Mean"]?.doubleValue), mean, accuracy: 1e-9 * mean)
        XCTAssertEqual(try XCTUnwrap(measures["Intensity_StdDev"]?.doubleValue), std, accuracy: 1e-9 * std)
        XCTAssertEqual(measures["Intensity_Min"]?.doubleValue, values.first)
        XCTAssertEqual(measures["Intensity_Max"]?.doubleValue, values.last)
      }
    }
    XCTAssertEqual(try host.close(), 0)
  }

  func testSwiftPackagePluginBuiltAgainstTheSDK() throws {
    let dir = try TemporaryDirectory()
    _ = try Self.buildSwiftPackage(into: dir.url)
    let (n, c, h, w) = (3, 2, 8, 6)
    let crops = (0..<n * c * h * w).map { Float(($0 * 31) % 97) - 20 }
    let npy = dir.file("crops.npy")
    try NPYArray(shape: [n, c, h, w], values: crops).write(to: npy)
    let host = try LiveHost(arguments: ["--plugin-dir", dir.url.path])
    try host.initialize()
    let result = try host.request("plugins/run", ["kind": "embedder", "plugin": "lab.channel-moments",
                                                  "inputs": [["name": "crops", "npy": .string(npy.path)]]])
    XCTAssertEqual(result["result"]?["dimension"], 4)
    let ref = try XCTUnwrap(result["outputs"]?.arrayValue?.first)
    XCTAssertEqual(ref["shape"], [3, 4])
    let embeddings = try NPYArray.read(URL(fileURLWithPath: try XCTUnwrap(ref["path"]?.stringValue))).floats()
    for i in 0..<n {
      for k in 0..<c {
        let values = crops[(i * c + k) * h * w..<(i * c + k + 1) * h * w].map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        XCTAssertEqual(Double(embeddings[i * 2 * c + 2 * k]), mean, accuracy: 1e-4)
        XCTAssertEqual(Double(embeddings[i * 2 * c + 2 * k + 1]), std, accuracy: 1e-4)
      }
    }
    XCTAssertEqual(try host.close(), 0)
  }

  /// The conformance suite that plugin authors run, on the built-in plugin and both out-of-tree plugins.
  func testConformanceSuitePassesForBuiltInAndOutOfTreePlugins() throws {
    let dir = try TemporaryDirectory()
    let plugins = [
      LiveHost.binDirectory.appendingPathComponent("libconfound-plugin-focus.so"),
      try Self.buildC("CStats/stats_plugin.c", into: dir.url, name: "libstats.so"),
      try Self.buildSwiftPackage(into: dir.url),
    ]
    let confound = try LiveHost.binary("confound").path
    for plugin in plugins {
      let output = try runCommand(confound, ["plugins", "check", plugin.path])
      XCTAssertTrue(output.contains(" 0 failed"), output)
      XCTAssertFalse(output.contains("FAIL"), output)
    }
  }

  /// The suite must fail a plugin that breaks its kind's contract, or it proves nothing.
  func testConformanceSuiteFailsABrokenPlugin() throws {
    let dir = try TemporaryDirectory()
    let plugin = try Self.buildC("CMisbehave/misbehave_plugin.c", into: dir.url, name: "libmisbehave.so")
    let confound = try LiveHost.binary("confound").path
    XCTAssertThrowsError(try runCommand(confound, ["plugins", "check", plugin.path])) { error in
      // test.misbehave answers one channel for a two-channel image: the focus contract catches it.
      XCTAssertTrue("\(error)".contains("FAIL runs with default parameters"), "\(error)")
    }
  }
}
