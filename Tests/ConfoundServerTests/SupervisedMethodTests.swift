import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost
import Statistics
import TestSupport
import XCTest

@testable import ConfoundServer

/// The explainer's method "supervised" called as the audit calls it (through a worker), on crops made here: a
/// planted signal the fine-tuned CNN must find while permuted labels must not, background shares that follow the
/// masks, and refusals that name the member at fault.
final class SupervisedMethodTests: XCTestCase {
  /// 8 units of 4 wells of 3 crops, 2 channels, 16 px: units 0-3 "a", 4-7 "b"; in class "b" crops a bright square
  /// sits in the corner (on background), in "a" nothing does. Masks: the centre 6 x 6 is the cell.
  private func crops() -> (values: [Float], masks: [Float], labels: [String], groups: [String], wells: [String]) {
    var generator = SeededGenerator(seed: 3)
    var values: [Float] = [], masks: [Float] = []
    var labels: [String] = [], groups: [String] = [], wells: [String] = []
    for unit in 0..<8 {
      for well in 0..<4 {
        for _ in 0..<3 {
          let label = unit < 4 ? "a" : "b"
          for _ in 0..<2 {
            for y in 0..<16 {
              for x in 0..<16 {
                let cell = (5..<11).contains(x) && (5..<11).contains(y)
                let corner = x < 5 && y < 5 && label == "b"
                values.append(Float(generator.nextGaussian()) * 10 + 100 + (cell ? 200 : 0) + (corner ? 250 : 0))
              }
            }
          }
          for y in 0..<16 { for x in 0..<16 { masks.append((5..<11).contains(x) && (5..<11).contains(y) ? 1 : 0) } }
          labels.append(label)
          groups.append("U\(unit)")
          wells.append("U\(unit)-W\(well)")
        }
      }
    }
    return (values, masks, labels, groups, wells)
  }

  private func call(_ context: JSONObject, masks: Bool = true, shape: [Int] = [96, 2, 16, 16]) throws -> JSONValue {
    let model = try SmallAudits.shared("models/tiny_cnn.onnx")
    let folder = try TemporaryDirectory(prefix: "confound-supervised")
    let data = crops()
    var inputs = [InputRef(name: "crops", npy: folder.file("crops.npy").path)]
    try NPYArray(shape: shape, values: data.values).write(to: folder.file("crops.npy"))
    if masks {
      try NPYArray(shape: [96, 16, 16], values: data.masks).write(to: folder.file("masks.npy"))
      inputs.append(InputRef(name: "masks", npy: folder.file("masks.npy").path))
    }
    let registry = try InProcessAudit.registry(["explainer"])
    defer { registry.shutdown() }
    var full: JSONObject = [
      "labels": .array(data.labels.map(JSONValue.string)), "groups": .array(data.groups.map(JSONValue.string)),
      "wells": .array(data.wells.map(JSONValue.string)),
      "folds": .array((0..<4).map { .array([.string("U\($0)"), .string("U\($0 + 4)")]) }),
    ]
    for (key, value) in context { full[key] = value }
    let request = PluginsRunRequest.Params(
      kind: .explainer,
      parameters: ["method": "supervised", "model": .string(model.path), "input_size": 40, "epochs": 20,
                   "saliency_crops": 24, "seed": 2, "threads": 2],
      context: .object(full), inputs: inputs)
    return try registry.run(request, isCancelled: { false }, progress: { _, _ in }, log: { _, _ in }).result
  }

  func testTheFineTunedCNNFindsAPlantedSignalThatPermutedLabelsDoNot() throws {
    let result = try call([:])
    let aucs = (result["folds"]?.arrayValue ?? []).compactMap { $0["roc_auc"]?.doubleValue }
    XCTAssertEqual(aucs.count, 4)
    let mean = aucs.reduce(0, +) / 4
    let null = (result["permuted_labels"]?["roc_auc"]?.arrayValue ?? []).compactMap(\.doubleValue)
    print("supervised on a planted corner: per-fold ROC AUC \(aucs), permuted labels \(null)")
    XCTAssertGreaterThan(mean, 0.9)
    if !null.isEmpty { XCTAssertLessThan(null.reduce(0, +) / Double(null.count), mean - 0.2) }
    // The area share is the masks' own: 1 - 36/256 of every crop is background.
    for row in result["background"]?.arrayValue ?? [] {
      XCTAssertEqual(row["area_share"]?.doubleValue ?? .nan, 1 - 36.0 / 256, accuracy: 1e-12)
      XCTAssertEqual(
        row["excess"]?.doubleValue ?? .nan, (row["mass_share"]?.doubleValue ?? .nan) - (row["area_share"]?.doubleValue ?? .nan),
        accuracy: 1e-12)
    }
    XCTAssertEqual(result["background"]?.arrayValue?.count, 3, "a row per class and one over all")
    XCTAssertEqual(result["sanity"]?["steps"]?.arrayValue?.count, 3)
  }

  func testRefusalsNameTheMemberAtFault() throws {
    func message(_ body: () throws -> JSONValue) -> String {
      do { _ = try body() } catch { return "\(error)" }
      return "no error"
    }
    XCTAssertTrue(message { try call(["folds": [["U0", "nobody"]]]) }.contains("context.folds[0]"))
    XCTAssertTrue(message { try call(["wells": ["one"]]) }.contains("context.wells"))
    XCTAssertTrue(message { try call(["positive": "c"]) }.contains("context.positive"))
  }
}
