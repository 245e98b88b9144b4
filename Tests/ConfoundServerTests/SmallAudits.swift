import ConfoundProtocol
import Foundation
import TestSupport
import XCTest

@testable import ConfoundServer

/// Small simulated audits run in this process with every built-in plugin (embedder included), each run once per
/// test process and shared by the tests that read it: 2 plates in 2 batches, 96 wells, 1 site, 1 channel, 96 px.
///
/// The embedder's model cache is pointed at a folder where the default model's file name links
/// `../shared/models/tiny_cnn.onnx`, a real 8,508-parameter CNN with the same interface as EfficientNet-Lite0
/// (input `input` [N, 3, H, W], output `embedding` [N, 1280], global pooling): the embed stage, the store's per-cell
/// arrays and the cell projection run as in a real audit, in seconds and without the converted Lite0.
enum SmallAudits {
  final class Run: @unchecked Sendable {
    let folder: TemporaryDirectory
    let response: AuditRequest.Response
    var out: URL { folder.file("run") }
    init(folder: TemporaryDirectory, response: AuditRequest.Response) {
      self.folder = folder
      self.response = response
    }
  }

  nonisolated(unsafe) private static var runs: [String: Run] = [:]
  private static let lock = NSLock()

  /// `../shared/<name>`, or the test is skipped with what is missing.
  static func shared(_ name: String) throws -> URL {
    do { return try SharedData.require(name) } catch let reason as SkipReason { throw XCTSkip(reason.description) }
  }

  /// Every confounder the simulator plants, at full strength, so that every kind of finding appears.
  static let everything = "focus-gradient:1,batch-shift:1,density:1,source-lab:1,edge-effect:1,plate-shift:1"

  /// The audit of simulated seed `seed` with `plant` planted, of `stages` (nil: all), cached per arguments.
  static func run(plant: String, seed: Int = 5, stages: [String]? = nil) throws -> Run {
    lock.lock()
    defer { lock.unlock() }
    let key = "\(plant)#\(seed)#\(stages ?? [])"
    if let run = runs[key] { return run }
    let tiny = try shared("models/tiny_cnn.onnx")
    let folder = try TemporaryDirectory(prefix: "confound-small-audit")
    let models = folder.file("models")
    try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      at: models.appendingPathComponent("efficientnet_lite0.onnx"),
      withDestinationURL: tiny)
    setenv("CONFOUND_MODEL_DIR", models.path, 1)
    defer { unsetenv("CONFOUND_MODEL_DIR") }
    let started = Date()
    let response = try InProcessAudit.run(
      .init(
        out: folder.file("run").path,
        simulate: .init(seed: seed, plates: 2, batches: 2, wells: 96, sites: 1, channels: 1, size: 96, plant: plant),
        stages: stages),
      plugins: ["focus", "segmenter", "embedder", "probe", "explainer"])
    print(
      "small audit \(plant) seed \(seed): \(Int(Date().timeIntervalSince(started))) s, \(response.findings.count) findings; "
        + response.stages.map { "\($0.name) \($0.computed)/\($0.failed) \(Int($0.seconds)) s" }.joined(separator: ", "))
    let run = Run(folder: folder, response: response)
    runs[key] = run
    return run
  }
}
