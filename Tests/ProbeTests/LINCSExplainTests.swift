import Foundation
import JSONRPC
import TestSupport
import XCTest

/// `explain/table` on the LINCS Cell Painting plate SQ00015054 (384 wells x 454 features) through the host and the
/// built-in explainer: partial dependence equals scikit-learn's `partial_dependence` on the model the response
/// reports; folds, families and the importance ranking hold together. (Importance against scikit-learn's
/// `permutation_importance` with the same draws is in StatisticsTests/ExplanationTests, which can share the draws.)
final class LINCSExplainTests: XCTestCase {
  func testPartialDependenceOfTheReportedModelEqualsScikitLearn() throws {
    let table = try sharedData("lincs-SQ00015054-profiles")
      .appendingPathComponent("SQ00015054_normalized_feature_select.csv.gz").path
    let host = try ProbeHost()
    let started = Date()
    // The plate row (16 classes), each well its own group.
    let response = try host.request(
      "explain/table",
      [
        "table": .string(table), "target": "row", "groups": "Metadata_Well",
        "parameters": ["top": 2, "n_repeats": 2, "folds": 4, "kind": "average"],
      ])
    let seconds = Date().timeIntervalSince(started)
    let result = response["result"]!
    XCTAssertEqual(result["rows"]?.intValue, 384)
    XCTAssertEqual(result["features"]?.intValue, 454)
    XCTAssertEqual(result["classes"]?.arrayValue?.count, 16, "rows A to P")
    XCTAssertEqual(result["folds"]?.arrayValue?.map { $0["test_size"]!.intValue! }, [96, 96, 96, 96])
    // The two most important features, one curve per class; averages only (16 x 384 ICE curves of 100 points per
    // feature would be 12 MB of JSON: ExplanationTests compares ICE on this table in process).
    let curves = result["partial_dependence"]!.arrayValue!
    XCTAssertEqual(curves.count, 32)
    XCTAssertNil(curves[0]["individual"])
    let families = response["families"]!.objectValue!
    let entries = result["permutation_importance"]!.arrayValue!
    XCTAssertEqual(entries.filter { $0["family"] != nil }.count, families.members.count)
    XCTAssertEqual(entries.filter { $0["feature"] != nil }.count, 454)
    let ranked = entries.filter { $0["feature"] != nil }.map { $0["mean"]!.doubleValue! }
    XCTAssertEqual(ranked, ranked.sorted(by: >), "features most important first")
    XCTAssertEqual(
      Set(curves.map { $0["feature"]!.stringValue! }),
      Set(entries.filter { $0["feature"] != nil }.prefix(2).map { $0["feature"]!.stringValue! }),
      "partial dependence of the two most important features")
    let scratch = try TemporaryDirectory()
    let file = scratch.file("response.json")
    try Data(JSONWriter.string(response).utf8).write(to: file)
    let ref = try probeReference(["explain", table, file.path])
    print(
      "explain/table row on LINCS: \(String(format: "%.1f", seconds)) s; baseline \(result["baseline"]!); "
        + "families \(entries.filter { $0["family"] != nil }.map { "\($0["family"]!.stringValue!) \($0["mean"]!)" }); "
        + "largest differences from scikit-learn \(ref)")
    XCTAssertEqual(ref["curves"] as? Int, 32)
    XCTAssertLessThan(ref["grid"] as! Double, 1e-12)
    XCTAssertLessThan(ref["average"] as! Double, 1e-10)
  }
}
