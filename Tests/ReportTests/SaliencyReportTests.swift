import ConfoundCore
import Foundation
import PlateMaps
import TestSupport
import XCTest

@testable import Report

/// The explain stage's supervised-CNN file, in the schema the stage writes: two held-out crops per class, three
/// channels, 8 x 8 crops. Crop k's channel c has value 100 k + 10 c + (pixel index) / 8; its map is k + 1 on the
/// left half of the crop and 0 on the right half (one map per crop), so the greatest map value is 4.
func saliencyJSON(passed: Bool) -> String {
  let overlays = (0..<4).map { k -> [String: Any] in
    let crop = (0..<3).map { c in
      (0..<8).map { y in (0..<8).map { x in Double(100 * k + 10 * c) + Double(y * 8 + x) / 8 } }
    }
    let map = [(0..<8).map { _ in (0..<8).map { x in x < 4 ? Double(k + 1) : 0 } }]
    return ["class": k < 2 ? "0" : "1", "probability": [0.1, 0.15, 0.9, 0.95][k],
            "unit": "L0\(k + 1)", "site": "SIM-P01_A0\(k + 1)_s1", "crop": crop, "map": map]
  }
  let sanity: [String: Any] = [
    "steps": [["randomised": "head", "layers": ["head"], "spearman": passed ? 0.12 : 0.81],
              ["randomised": "top block", "layers": ["block_16/conv", "head"], "spearman": passed ? 0.05 : 0.77]],
    "permuted_labels_spearman": passed ? 0.08 : 0.74, "threshold": 0.5, "passed": passed,
    "failures": passed ? [] : ["Randomising the head left the maps' rank correlation at 0.81, above the threshold 0.5.",
                               "A model trained on permuted labels gave maps of rank correlation 0.74."],
  ]
  let object: [String: Any] = [
    "model": "supervised CNN", "target": "disease", "classes": ["0", "1"], "positive": "1",
    "channels": ["DNA", "ER", "Mito"], "method": "gradcam", "layer": "block_16/conv", "crop_size": 8,
    "folds": [["fold": "1", "roc_auc": 0.91, "train_units": 10, "test_units": 2, "train_crops": 600, "test_crops": 120],
              ["fold": "2", "roc_auc": 0.87, "train_units": 10, "test_units": 2, "train_crops": 590,
               "test_crops": 130]],
    "permuted_labels": ["roc_auc": [0.52, 0.47], "spearman": passed ? 0.08 : 0.74],
    "background": [
      ["class": "0", "crops": 300, "units": 6, "mass_share": 0.41, "area_share": 0.47, "excess": -0.06,
       "ci_low": -0.09, "ci_high": -0.03],
      ["class": "1", "crops": 300, "units": 6, "mass_share": 0.62, "area_share": 0.48, "excess": 0.14, "ci_low": 0.10,
       "ci_high": 0.18],
      ["class": "all", "crops": 600, "units": 12, "mass_share": 0.516, "area_share": 0.476, "excess": 0.04,
       "ci_low": 0.012, "ci_high": 0.07]],
    "sanity": sanity, "overlays": overlays,
  ]
  let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
  return String(decoding: data, as: UTF8.self)
}

final class SaliencyReportTests: XCTestCase {
  /// A run whose explain stage left both files, the hand features' and the supervised CNN's, registered as it does.
  func run(passed: Bool) throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory()
    try makeRun(in: dir.url, findings: newSchemaFindings)
    let store = try RunStore(url: dir.url.appendingPathComponent("run.sqlite"))
    let plots = dir.url.appendingPathComponent("plots")
    try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
    for (name, text) in [("explanation-hand-features.json", explanationJSON),
                         ("explanation-supervised-cnn.json", saliencyJSON(passed: passed))] {
      try text.write(to: plots.appendingPathComponent(name), atomically: true, encoding: .utf8)
      try store.recordArtifact(Artifact(name: "plots/\(name)", kind: "table", path: "plots/\(name)", stage: "explain",
                                        description: "x"))
    }
    return dir
  }

  func explanationsHTML(_ model: ReportModel, in dir: TemporaryDirectory) throws -> String {
    let written = try ReportHTML.write(model, to: dir.url.appendingPathComponent("report.html"), generated: nil)
    let html = try String(contentsOf: written.html, encoding: .utf8)
    let start = try XCTUnwrap(html.range(of: "<section id=\"explanations\">"))
    let end = try XCTUnwrap(html.range(of: "</section>", range: start.upperBound..<html.endIndex))
    return String(html[start.upperBound..<end.lowerBound])
  }

  func testMapsThatPassedAreShownWithTheirNumbers() throws {
    let dir = try run(passed: true)
    let section = try ReportBuilder(folder: dir.url).build()[section: "explanations"]
    XCTAssertEqual(section.figures.map(\.id),
                   ["explanation-importance", "explanation-partial-dependence", "explanation-saliency"])
    let plot = try XCTUnwrap(section.figures[2].figure as? SaliencyOverlayPlot)
    XCTAssertEqual(plot.panels.count, 4 * 3)
    XCTAssertEqual(plot.channelNames, ["DNA", "ER", "Mito"])
    XCTAssertEqual(plot.crops.map(\.unit), ["L01", "L02", "L03", "L04"])
    XCTAssertEqual(plot.crops.map(\.probability), [0.1, 0.15, 0.9, 0.95])
    XCTAssertEqual(plot.crops[2].channels[1][3 * 8 + 5], 210 + 29.0 / 8, "crop 3, channel ER, row 3, column 5")
    XCTAssertEqual(plot.crops[3].map(2)[7], 0, "the right half of every map is 0")
    XCTAssertEqual(plot.range, 0...4, "one scale, to the greatest raw value over every crop's map")
    XCTAssertEqual(plot.probabilityName, "P(disease = 1)")
    XCTAssertEqual(overlappingTexts(try plot.textBoxes()).count, 0)

    XCTAssertTrue(section.paragraphs.contains(
      "On disease = 1 crops (300 crops of 6 units), 62% of the saliency falls on background, which is 48% of the "
        + "area: 14 points more (95% CI 10 to 18)."), "\(section.paragraphs)")
    XCTAssertTrue(section.paragraphs.contains(
      "On disease = 0 crops (300 crops of 6 units), 41% of the saliency falls on background, which is 47% of the "
        + "area: 6.0 points less (95% CI -9.0 to -3.0)."), "\(section.paragraphs)")
    XCTAssertTrue(section.paragraphs.contains(
      "Over all crops (600 crops of 12 units), 52% of the saliency falls on background, which is 48% of the area: "
        + "4.0 points more (95% CI 1.2 to 7.0)."), "\(section.paragraphs)")
    XCTAssertTrue(section.paragraphs.contains(
      "The GradCAM maps passed the sanity checks (Adebayo et al. 2018): their rank correlation with the original "
        + "maps is 0.12 with the head randomised, 0.05 with the top block randomised and 0.08 for a model trained on "
        + "permuted labels (Spearman; threshold 0.5)."), "\(section.paragraphs)")
    XCTAssertTrue(section.paragraphs.contains { $0.contains("held-out ROC AUC 0.91, 0.87 over 2 folds; trained on "
                                                              + "permuted labels, 0.52, 0.47.") })
    XCTAssertFalse(section.paragraphs.contains { $0.contains("failed") })
    let table = try XCTUnwrap(section.tables.first)
    XCTAssertEqual(table.rows, [["head randomised", "head", "0.12", "0.5"],
                                ["top block randomised", "block_16/conv, head", "0.05", "0.5"],
                                ["trained on permuted labels", "every layer retrained", "0.08", "0.5"]])
    XCTAssertTrue(table.caption.contains("(passed)"))

    let html = try explanationsHTML(try ReportBuilder(folder: dir.url).build(), in: dir)
    XCTAssertTrue(html.contains("id=\"fig-explanation-saliency\""))
    XCTAssertTrue(html.contains("14 points more (95% CI 10 to 18)"))
  }

  func testMapsThatFailedAreReportedAsFailingAndNotShown() throws {
    let dir = try run(passed: false)
    let model = try ReportBuilder(folder: dir.url).build()
    let section = model[section: "explanations"]
    XCTAssertEqual(section.figures.map(\.id), ["explanation-importance", "explanation-partial-dependence"])
    let saliency = try SaliencyExplanation(json: Data(saliencyJSON(passed: false).utf8), file: "plots/x.json")
    XCTAssertNil(try saliency.saliencyOverlays(), "the stage draws no overlay either")
    XCTAssertEqual(saliency.crops.count, 4, "the crops were read; they are withheld because the maps failed")
    XCTAssertTrue(section.paragraphs.contains(
      "The GradCAM saliency maps failed the sanity checks (Adebayo et al. 2018), so they are not shown as an "
        + "explanation of the supervised CNN. Randomising the head left the maps' rank correlation at 0.81, above the "
        + "threshold 0.5. A model trained on permuted labels gave maps of rank correlation 0.74. Their rank "
        + "correlation with the original maps is 0.81 with the head randomised, 0.77 with the top block randomised "
        + "and 0.74 for a model trained on permuted labels (Spearman; threshold 0.5)."), "\(section.paragraphs)")
    XCTAssertTrue(section.paragraphs.contains { $0.hasPrefix("These background shares are of maps that failed") })
    XCTAssertEqual(section.tables.first?.rows.map { $0[2] }, ["0.81", "0.77", "0.74"])
    XCTAssertTrue(section.tables.first?.caption.contains("(FAILED)") ?? false)
    let html = try explanationsHTML(model, in: dir)
    XCTAssertFalse(html.contains("explanation-saliency"))
    XCTAssertTrue(html.contains("failed the sanity checks"))
    XCTAssertTrue(html.contains("Randomising the head left the maps&#39; rank correlation at 0.81")
                    || html.contains("Randomising the head left the maps' rank correlation at 0.81"))
  }

  /// A file whose overlay is not [channel][row][column] is named in the error, and the report says so.
  func testAMalformedOverlayIsAClearErrorAndTheReportSaysSo() throws {
    var object = try JSONSerialization.jsonObject(with: Data(saliencyJSON(passed: true).utf8)) as! [String: Any]
    var overlays = object["overlays"] as! [[String: Any]]
    overlays[1]["map"] = [[[1, 2], [3]]]
    object["overlays"] = overlays
    let data = try JSONSerialization.data(withJSONObject: object)
    XCTAssertThrowsError(try SaliencyExplanation(json: data, file: "plots/explanation-supervised-cnn.json")) {
      XCTAssertTrue("\($0)".contains("plots/explanation-supervised-cnn.json: overlays[1].map"), "\($0)")
    }
    object["sanity"] = ["steps": []]
    XCTAssertThrowsError(try SaliencyExplanation(json: try JSONSerialization.data(withJSONObject: object), file: "f")) {
      XCTAssertTrue("\($0)".contains("sanity.passed"), "\($0)")
    }
    let dir = try run(passed: true)
    try data.write(to: dir.url.appendingPathComponent("plots/explanation-supervised-cnn.json"))
    let section = try ReportBuilder(folder: dir.url).build()[section: "explanations"]
    XCTAssertFalse(section.figures.contains { $0.id == "explanation-saliency" })
    XCTAssertTrue(section.paragraphs.contains {
      $0.hasPrefix("The supervised CNN's saliency could not be read") && $0.contains("overlays[1].map")
    }, "\(section.paragraphs)")
  }
}
