import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import TestSupport
import XCTest

@testable import ConfoundServer

/// The supervised stage on the small audit with every confounder planted (tiny_cnn standing in for Lite0): the CNN
/// joins the target ladder on the target probe's own folds, its masks line up with its crops, and its saliency
/// numbers and sanity checks are recorded and drawn as the report reads them.
final class AuditSupervisedTests: XCTestCase {
  func testTheSupervisedCNNJoinsTheLadderOnTheTargetProbesFolds() throws {
    let run = try SmallAudits.run(plant: SmallAudits.everything)
    let findings = run.response.findings
    let cnn = try XCTUnwrap(findings.first { $0.kind == "target-probe" && $0.measure.name == "supervised CNN" })
    let hand = try XCTUnwrap(findings.first { $0.kind == "target-probe" && $0.measure.name == "hand features" })
    func units(_ f: AuditFinding) -> [[String]] {
      (f.evidence?["folds"]?.arrayValue ?? []).map { ($0["testUnits"]?.arrayValue ?? []).compactMap(\.stringValue).sorted() }
    }
    XCTAssertFalse(units(hand).isEmpty)
    XCTAssertEqual(units(cnn), units(hand), "the CNN is scored on the hand-features probe's folds")
    // Its metric is the mean of its per-fold ROC AUCs, with an interval around it and a p in (0, 1].
    let aucs = (cnn.evidence?["folds"]?.arrayValue ?? []).compactMap { $0["rocAUC"]?.doubleValue }
    XCTAssertEqual(cnn.metric.value, aucs.reduce(0, +) / Double(aucs.count), accuracy: 1e-12)
    XCTAssertLessThanOrEqual(try XCTUnwrap(cnn.metric.ciLow), cnn.metric.value)
    XCTAssertGreaterThanOrEqual(try XCTUnwrap(cnn.metric.ciHigh), cnn.metric.value)
    let p = try XCTUnwrap(cnn.pValue)
    XCTAssertGreaterThan(p, 0)
    XCTAssertLessThanOrEqual(p, 1)
    XCTAssertEqual(cnn.baseline?.name, "the same fine-tuning on labels permuted between units")
  }

  func testSaliencyNumbersAndSanityChecksAreRecordedAndDrawnOnlyWhenTheyPass() throws {
    let run = try SmallAudits.run(plant: SmallAudits.everything)
    let file = run.out.appendingPathComponent(SupervisedStage.file)
    let json = try JSONParser.parse([UInt8](Data(contentsOf: file)))
    let all = try XCTUnwrap(json["background"]?.arrayValue?.first { $0["class"]?.stringValue == "all" })
    let (mass, area, excess) = (all["mass_share"]!.doubleValue!, all["area_share"]!.doubleValue!, all["excess"]!.doubleValue!)
    XCTAssertEqual(excess, mass - area, accuracy: 1e-12)
    XCTAssertGreaterThan(area, 0)
    XCTAssertLessThan(area, 1)
    XCTAssertLessThanOrEqual(all["ci_low"]!.doubleValue!, excess)
    XCTAssertGreaterThanOrEqual(all["ci_high"]!.doubleValue!, excess)
    let sanity = try XCTUnwrap(json["sanity"])
    let steps = try XCTUnwrap(sanity["steps"]?.arrayValue)
    XCTAssertEqual(steps.map { $0["randomised"]?.stringValue }, ["head", "top layers", "top blocks"])
    let threshold = try XCTUnwrap(sanity["threshold"]?.doubleValue)
    let correlations = steps.compactMap { $0["spearman"]?.doubleValue } + [sanity["permuted_labels_spearman"]?.doubleValue ?? .nan]
    XCTAssertEqual(sanity["passed"]?.boolValue, correlations.allSatisfy { $0 < threshold })
    let figure = run.out.appendingPathComponent("plots/explanation-saliency.png")
    XCTAssertEqual(FileManager.default.fileExists(atPath: figure.path), sanity["passed"]?.boolValue ?? false)
    let finding = try XCTUnwrap(run.response.findings.first { $0.kind == "saliency" })
    XCTAssertEqual(finding.metric.value, excess, accuracy: 1e-12)
    XCTAssertEqual(finding.baseline?.value ?? .nan, area, accuracy: 1e-12)
    XCTAssertNotNil(run.response.findings.first { $0.kind == "sanity-check" })
  }

  /// The masks cut from the label image at the segmenter's windows: every crop is centred on a nucleus, so its
  /// centre pixel is on a cell, and a crop window of the wrong site or offset would miss some of them.
  func testMasksLineUpWithTheirCrops() throws {
    let run = try SmallAudits.run(plant: SmallAudits.everything)
    let store = try RunStore(url: run.out.appendingPathComponent("run.sqlite"))
    let sites = try store.siteIDs()
    var checked = 0
    for key in try store.doneKeys(stage: SegmentStage.name).sorted().prefix(12) {
      guard let crops = try store.loadArray(name: SegmentStage.arrayName("crops", key: key)), crops.shape[0] > 0 else { continue }
      let side = crops.shape[2]
      let masks = try XCTUnwrap(try SupervisedCrops.masks(store, siteIDs: sites, key: key, count: crops.shape[0], side: side), key)
      for crop in 0..<crops.shape[0] {
        XCTAssertEqual(masks[crop * side * side + (side / 2) * side + side / 2], 1, "\(key) crop \(crop)")
        checked += 1
      }
      XCTAssertLessThan(masks.reduce(0, +), Float(masks.count), "\(key): some background in its crops")
    }
    XCTAssertGreaterThan(checked, 20)
  }

  /// A resumed run with the same crops and folds reads the trained result back instead of training again.
  func testAResumedRunReadsTheSupervisedResultBack() throws {
    let run = try SmallAudits.run(plant: SmallAudits.everything)
    let copy = try TemporaryDirectory(prefix: "confound-supervised-resume")
    let out = copy.file("run")
    try FileManager.default.copyItem(at: run.out, to: out)
    let models = copy.file("models")
    try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(
      at: models.appendingPathComponent("efficientnet_lite0.onnx"), withDestinationURL: try SmallAudits.shared("models/tiny_cnn.onnx"))
    setenv("CONFOUND_MODEL_DIR", models.path, 1)
    defer { unsetenv("CONFOUND_MODEL_DIR") }
    let response = try InProcessAudit.run(
      .init(out: out.path, resume: true, stages: ["design", "target", "supervised"]),
      plugins: ["focus", "segmenter", "embedder", "probe", "explainer"])
    let stage = try XCTUnwrap(response.stages.first { $0.name == "supervised" })
    XCTAssertEqual(stage.resumed, 1)
    XCTAssertEqual(stage.computed, 0)
    let before = try XCTUnwrap(run.response.findings.first { $0.measure.name == "supervised CNN" })
    let after = try XCTUnwrap(response.findings.first { $0.measure.name == "supervised CNN" })
    XCTAssertEqual(after.metric, before.metric)
    XCTAssertEqual(after.pValue, before.pValue)
  }
}
