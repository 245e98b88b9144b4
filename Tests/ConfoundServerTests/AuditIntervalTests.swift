import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import TestSupport
import XCTest

@testable import ConfoundServer

/// Every kind of finding carries the interval of its own metric: on a small audit with every confounder planted
/// (`SmallAudits`), so that every kind appears, each interval brackets its value, lies in the range of that metric,
/// and is tied to the metric it names.
///
/// Why a kind that stored another metric's interval fails here: a probe's other interval is the leakage score's
/// (a difference of balanced accuracies, centred near 0 when nothing leaks, near the gap above the permuted
/// baseline when something does), which cannot bracket a ROC AUC of 0.5 or more unless the two happen to
/// agree; the confound alert once stored the best set's AUC as both ends, which brackets its own AUC only when
/// it is the best set (checked: its interval is its source finding's); the density ratio, the spatial and edge
/// relative differences and the explanation's drop are recomputed here from the store and `plots/`, so an
/// interval of another quantity (a difference for a ratio, another plate's or measure's, the AUC for the drop)
/// sits around another value. The design's Cramer's V describes the layout itself (every well, no sample), so it
/// has no interval, and a half interval is refused.
final class AuditIntervalTests: XCTestCase {
  static let kinds: Set<String> = [
    "design", "spatial", "edge-effect", "density", "nuisance", "target-probe",
    "confound-alert", "explanation", "saliency", "sanity-check",
  ]

  func testEveryIntervalBracketsItsOwnMetric() throws {
    let run = try SmallAudits.run(plant: SmallAudits.everything)
    let findings = run.response.findings
    XCTAssertEqual(Set(findings.map(\.kind)), Self.kinds, "every kind appears (a new kind needs its check here)")
    let store = try RunStore(url: run.out.appendingPathComponent("run.sqlite"))
    let table = try WellTable.build(store: store, batches: [:])
    var checked: [String: Int] = [:]
    for f in findings {
      let m = f.metric
      let what =
        "\(f.kind) \(f.covariate) \(f.measure.name): \(m.name) \(m.value) [\(m.ciLow ?? .nan), \(m.ciHigh ?? .nan)]"
      XCTAssertEqual(m.ciLow == nil, m.ciHigh == nil, "no half interval: \(what)")
      if f.kind == "design" {
        XCTAssertTrue(m.ciLow == nil && m.name == "Cramer's V" && (0...1).contains(m.value), what)
        checked[f.kind, default: 0] += 1
        continue
      }
      // The sanity check reports correlations of maps (descriptive, on a handful of crops), with no interval.
      if f.kind == "sanity-check" {
        XCTAssertTrue(m.ciLow == nil && m.name.hasPrefix("Spearman") && (-1...1).contains(m.value), what)
        checked[f.kind, default: 0] += 1
        continue
      }
      let (low, high) = (try XCTUnwrap(m.ciLow, what), try XCTUnwrap(m.ciHigh, what))
      XCTAssertLessThanOrEqual(low, m.value + 1e-12, what)
      XCTAssertGreaterThanOrEqual(high, m.value - 1e-12, what)
      XCTAssertLessThan(low, high, "an interval, not one value twice: \(what)")
      switch f.kind {
      case "target-probe", "nuisance", "confound-alert":
        XCTAssertTrue(["ROC AUC", "balanced accuracy"].contains(m.name), what)
        XCTAssertTrue(low >= 0 && high <= 1, "an interval of a score in [0, 1]: \(what)")
      case "density":
        XCTAssertTrue(m.name.hasPrefix("ratio of mean nuclei per site") && low > 0, what)
        XCTAssertEqual(m.value, try densityRatio(table, f), accuracy: 1e-9, "the ratio of the stored counts: \(what)")
      case "spatial", "edge-effect":
        let plate = try XCTUnwrap(f.plates.first)
        XCTAssertEqual(m.value, try edgeDifference(table, f, plate: plate), accuracy: 1e-9, "from the store: \(what)")
        XCTAssertGreaterThan(low, -1, "a relative difference of positive values: \(what)")
      case "explanation":
        let json = try JSONParser.parse(
          Array(try Data(contentsOf: run.out.appendingPathComponent("plots/explanation-hand-features.json"))))
        let family = json["permutation_importance"]!.arrayValue!.first { $0["family"]?.stringValue == f.measure.role }!
        let (mean, sd) = (family["mean"]!.doubleValue!, family["std"]!.doubleValue!)
        let half = 1.96 * sd / Double(f.evidence!["repeats"]!.intValue!).squareRoot()
        XCTAssertEqual(m.value, mean, accuracy: 1e-12, what)
        XCTAssertEqual(low, mean - half, accuracy: 1e-12, what)
        XCTAssertEqual(high, mean + half, accuracy: 1e-12, what)
      case "saliency":
        let json = try JSONParser.parse(Array(try Data(contentsOf: run.out.appendingPathComponent(SupervisedStage.file))))
        let all = json["background"]!.arrayValue!.first { $0["class"]?.stringValue == "all" }!
        XCTAssertEqual(m.value, all["excess"]!.doubleValue!, accuracy: 1e-12, what)
        XCTAssertEqual(low, all["ci_low"]!.doubleValue!, accuracy: 1e-12, what)
        XCTAssertEqual(high, all["ci_high"]!.doubleValue!, accuracy: 1e-12, what)
      default:
        XCTFail("no check for kind \(f.kind)")
      }
      checked[f.kind, default: 0] += 1
    }
    // The alert is its source's AUC with its source's interval; the best set's AUC is its baseline, not an end.
    for alert in findings where alert.kind == "confound-alert" {
      let source = try XCTUnwrap(findings.first { $0.kind == "target-probe" && $0.measure == alert.measure })
      XCTAssertEqual(alert.metric, source.metric)
      let best = findings.filter { $0.kind == "target-probe" }.map(\.metric.value).max()!
      XCTAssertEqual(alert.baseline?.value, best)
    }
    // A target probe re-run with density regressed out has its own interval, which the finding does not take.
    for f in findings where f.kind == "target-probe" {
      guard let adjusted = f.evidence?["adjustedForDensity"], let a = adjusted["rocAUC"]?.doubleValue,
        abs(a - f.metric.value) > 0.05
      else { continue }
      XCTAssertNotEqual(
        adjusted["ciLow"]?.doubleValue, f.metric.ciLow, "the density-adjusted interval is not the finding's")
    }
    print("intervals checked per kind: \(checked.sorted { $0.key < $1.key })")
  }

  /// Mean Count_Nuclei of the finding's sample wells, the non-reference level over the reference (`healthy`).
  func densityRatio(_ table: WellTable, _ f: AuditFinding) throws -> Double {
    let wells = table.rows.filter { $0.covariates["control"] != "1" && $0.covariates[f.covariate] != nil }
    let count = { (level: String) -> Double in
      let v = wells.filter { $0.covariates[f.covariate] == level }.compactMap { $0.values[f.measure.name] }
      return v.reduce(0, +) / Double(v.count)
    }
    return count("disease") / count("healthy")
  }

  /// (edge mean - interior mean) / interior mean of the finding's measure on `plate`.
  func edgeDifference(_ table: WellTable, _ f: AuditFinding, plate: String) throws -> Double {
    let rows = table.rows.filter { $0.plate == plate && ($0.values[f.measure.name]?.isFinite ?? false) }
    let usable =
      f.kind == "edge-effect"
      ? rows.filter { $0.values["ImageQuality_TenengradNormalized_DNA"]?.isFinite ?? false } : rows
    let isEdge = { (r: WellTable.Row) in PlateFormat.wells96.edgeDistance(r.position) == 0 }
    let mean = { (r: [WellTable.Row]) in r.map { $0.values[f.measure.name]! }.reduce(0, +) / Double(r.count) }
    let interior = mean(usable.filter { !isEdge($0) })
    return (mean(usable.filter(isEdge)) - interior) / interior
  }
}
