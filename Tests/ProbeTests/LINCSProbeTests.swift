import Foundation
import JSONRPC
import TestSupport
import XCTest

/// Row and column probes on the LINCS Cell Painting plate SQ00015054 (384 wells x 454 features) through the
/// host and the built-in probe plugin, against scikit-learn on the same table and the same folds.
final class LINCSProbeTests: XCTestCase {
  func table() throws -> String {
    try sharedData("lincs-SQ00015054-profiles").appendingPathComponent("SQ00015054_normalized_feature_select.csv.gz").path
  }

  /// Runs the probe in the host and in scikit-learn; checks rows, features, folds, accuracies within 0.02 and
  /// the conclusion. `referencePermutations` 0 skips scikit-learn's permutation test (then the conclusion
  /// compared is "well above the permuted baseline").
  @discardableResult
  func compare(target: String, control: String?, permutations: Int, referencePermutations: Int,
               file: StaticString = #filePath, line: UInt = #line) throws -> (result: JSONValue, response: JSONValue) {
    let path = try table()
    let host = try ProbeHost()
    var params: JSONObject = ["table": .string(path), "target": .string(target),
                              "parameters": ["permutations": .int(Int64(permutations)), "bootstraps": 100]]
    if let control { params["control"] = .string(control) }
    let response = try host.request("probe/table", .object(params))
    let ref = try probeReference(["probe", path, target, "-", control ?? "-", String(referencePermutations)])
    let result = response["result"]!
    let overall = result["metrics"]!["overall"]!
    let accuracy = overall["accuracy"]!.doubleValue!
    let balanced = overall["balanced_accuracy"]!.doubleValue!
    let baseline = result["baseline"]!["overall"]!["balanced_accuracy"]!.doubleValue!
    let p = result["p_value"]!.doubleValue!
    let refAccuracy = ref["accuracy"] as! Double
    let refBaseline = ref["baseline"] as! Double
    print("probe \(target) control=\(control ?? "all"): accuracy \(accuracy) (sklearn \(refAccuracy)), balanced \(balanced) "
      + "(sklearn \(ref["balanced_accuracy"]!)), baseline \(baseline) (sklearn \(refBaseline)), p \(p) "
      + "(sklearn \(ref["p_value"]!)), leakage \(result["leakage_score"]!) CI \(result["leakage_ci"]!); \(result["verdict"]!)")
    XCTAssertEqual(response["table"]?["rowsUsed"]?.intValue, Int64(ref["rows"] as! Int), file: file, line: line)
    XCTAssertEqual(response["table"]?["featuresUsed"]?.intValue, Int64(ref["features"] as! Int), file: file, line: line)
    let sizes = result["metrics"]!["folds"]!.arrayValue!.map { Int($0["test_size"]!.intValue!) }
    XCTAssertEqual(sizes.sorted(), (ref["test_sizes"] as! [Int]).sorted(), "same folds", file: file, line: line)
    XCTAssertEqual(accuracy, refAccuracy, accuracy: 0.02, file: file, line: line)
    XCTAssertEqual(balanced, ref["balanced_accuracy"] as! Double, accuracy: 0.02, file: file, line: line)
    let verdict = result["verdict"]!.stringValue!
    if referencePermutations > 0 {
      let refP = ref["p_value"] as! Double
      XCTAssertEqual(p <= 0.05, refP <= 0.05, "same conclusion: p \(p) vs scikit-learn \(refP)", file: file, line: line)
    } else {
      XCTAssertEqual(balanced - baseline > 0.1, refAccuracy - refBaseline > 0.1, "same conclusion", file: file, line: line)
    }
    XCTAssertEqual(verdict.hasPrefix("\(target) is predictable"), p <= 0.05, verdict, file: file, line: line)
    XCTAssertGreaterThanOrEqual(p, result["smallest_attainable_p"]!.doubleValue! - 1e-12, file: file, line: line)
    print("interpretation: \(response["interpretation"]?.stringValue ?? "none")")
    return (result, response)
  }

  func testRowAndColumnFromAllWells() throws {
    // Across all wells the position is predictable, and the probe says that treatment follows it on this plate.
    for (target, treatment) in [("row", "Metadata_broad_sample"), ("column", "Metadata_mmoles_per_liter")] {
      let (result, response) = try compare(target: target, control: nil, permutations: 19, referencePermutations: 0)
      let interpretation = response["interpretation"]?.stringValue ?? "none"
      XCTAssertTrue(interpretation.hasPrefix("design-driven"), interpretation)
      let followers = response["designAssociations"]?.arrayValue?.compactMap { $0["covariate"]?.stringValue } ?? []
      XCTAssertTrue(followers.contains(treatment), "\(followers)")
      // 384 wells and 19 permutations: p can reach 0.05, and does when accuracy is far above the baseline.
      XCTAssertEqual(result["smallest_attainable_p"]?.doubleValue ?? 0, 0.05, accuracy: 1e-12)
      XCTAssertTrue(result["verdict"]!.stringValue!.hasPrefix("\(target) is predictable"), "\(result["verdict"]!)")
    }
  }

  func testRowAndColumnFromDMSOControls() throws {
    let (row, rowResponse) = try compare(target: "row", control: "Metadata_broad_sample=DMSO", permutations: 99,
                                               referencePermutations: 99)
    XCTAssertEqual(row["units"]?.intValue, 24)
    // Among DMSO wells nothing else varies with row: if row is predictable there, it is technical.
    XCTAssertEqual(rowResponse["interpretation"]?.stringValue.map { $0.hasPrefix("technical") },
                   row["verdict"]!.stringValue!.hasPrefix("row is predictable") ? true : nil)
    // 24 DMSO wells over 18 columns, 12 of them with a single well: the probe says it cannot tell.
    let (column, _) = try compare(target: "column", control: "Metadata_broad_sample=DMSO", permutations: 99,
                                  referencePermutations: 99)
    XCTAssertTrue(column["verdict"]!.stringValue!.hasPrefix("cannot tell: 12 of 18 column values"), "\(column["verdict"]!)")
  }

  /// Across all wells, position is predictable largely because treatment follows the layout: on this plate's
  /// platemap compound tracks row and dose tracks column. The audit says so from the layout alone, with
  /// Cramer's V equal to scipy's; only the DMSO-only probe speaks to a technical position effect.
  func testDesignAuditFindsCompoundByRowAndDoseByColumn() throws {
    let platemap = try sharedData("lincs-SQ00015054-profiles")
      .appendingPathComponent("platemaps/2016_04_01_a549_48hr_batch1/platemap/C-7161-01-LM6-027.txt").path
    let host = try ProbeHost()
    for (target, covariate) in [("broad_sample", "row"), ("mmoles_per_liter", "column")] {
      let audit = try host.request("design/audit", ["platemap": .string(platemap), "target": .string(target)])
      let found = audit["associations"]!.arrayValue!.first { $0["covariate"]?.stringValue == covariate }!
      let ref = try probeReference(["association", platemap, target, covariate])
      print("design \(target) ~ \(covariate): \(found["verdict"]!) (scipy V \(ref["cramers_v"]!), p \(ref["p_value"]!))")
      XCTAssertEqual(found["cramersV"]!.doubleValue!, ref["cramers_v"] as! Double, accuracy: 1e-9)
      XCTAssertEqual(found["pValue"]!.doubleValue!, ref["p_value"] as! Double, accuracy: 1e-12)
      XCTAssertLessThan(found["pValue"]!.doubleValue!, 0.001)
      XCTAssertTrue(found["verdict"]!.stringValue!.contains("with \(covariate)"))
    }
  }

  /// Nested C through the host (`nested_c`): plate row from all wells, compounds as groups; each outer fold's C is
  /// chosen by GroupKFold(3) inside its training rows. scikit-learn's GridSearchCV on the same folds: our inner mean
  /// accuracy per C within 0.03 of its (default tolerances on both sides), and the C we choose scores within 0.02 of
  /// its best.
  func testNestedCMatchesGridSearchCV() throws {
    let path = try table()
    let response = try ProbeHost().request("probe/table", [
      "table": .string(path), "target": "row", "groups": "Metadata_broad_sample",
      "parameters": ["nested_c": true, "permutations": 1, "bootstraps": 10],
    ])
    let ref = try probeReference(["nested", path, "row", "Metadata_broad_sample"])
    let folds = response["result"]!["metrics"]!["folds"]!.arrayValue!
    let expected = ref["folds"] as! [[String: Any]]
    XCTAssertEqual(response["result"]?["c"]?.stringValue, "nested")
    XCTAssertEqual(folds.map { Int($0["test_size"]!.intValue!) }, expected.map { $0["test_size"] as! Int }, "same folds")
    let grid = [0.001, 0.01, 0.1, 1, 10, 100]
    for (fold, theirs) in zip(folds, expected) {
      let ours = fold["inner_cv"]!["mean_accuracy"]!.arrayValue!.map { $0.doubleValue! }
      let scores = theirs["scores"] as! [Double]
      for (a, b) in zip(ours, scores) { XCTAssertEqual(a, b, accuracy: 0.03, "inner accuracy per C: \(ours) vs \(scores)") }
      let chosen = fold["c"]!.doubleValue!
      XCTAssertEqual(fold["inner_cv"]!["grid"]!.arrayValue!.map { $0.doubleValue! }, grid)
      XCTAssertGreaterThanOrEqual(scores[grid.firstIndex(of: chosen)!], scores.max()! - 0.02,
                                  "our C \(chosen) vs scikit-learn's \(theirs["c"]!)")
    }
    print("nested C per fold: \(folds.map { $0["c"]!.doubleValue! }) (scikit-learn \(expected.map { $0["c"]! }))")
  }

  func testWrongColumnIsInvalidParamsWithCloseMatches() throws {
    let host = try ProbeHost()
    XCTAssertThrowsError(try host.request("probe/table", ["table": .string(try table()), "target": "Metadata_Wel"])) {
      let error = $0 as? ResponseError
      XCTAssertEqual(error?.code, .invalidParams)
      XCTAssertTrue(error?.message.contains("\"Metadata_Wel\"") ?? false, "\(String(describing: error))")
      XCTAssertTrue(error?.message.contains("Metadata_Well") ?? false, "\(String(describing: error))")
    }
  }
}
