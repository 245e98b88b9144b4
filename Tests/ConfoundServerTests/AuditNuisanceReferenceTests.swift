import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import TestSupport
import XCTest

@testable import ConfoundServer

/// The audit's nuisance probes of batch, plate, row and column from control wells, on two real tables, redone by
/// scikit-learn on the source files themselves (Tests/python/test_probe_reference.py `nuisance`): the same wells
/// and feature columns, the audit's standardisation and principal components (fitted on every well of the
/// table), the audit's folds (each fold's held-out groups, read from the finding's evidence) and C. Per fold the balanced accuracy and ROC AUC, the pooled
/// score, and the column-permuted baseline on the same permutation of each column agree; the label-permuted null
/// (units exchanged within strata, folds rebuilt per permutation) agrees in distribution.
///
/// What the designs allow: the LINCS plate is one plate in one batch, and its 24 DMSO wells sit in 4 rows (6 each)
/// over 18 columns (1 or 2 each): only row can be probed. The DeepProfiler BBBC021 set is 2 plates (one batch) x
/// wells B02-B04, all DMSO: only plate (3 wells per plate) can be probed. The audit says so for the others.
final class AuditNuisanceReferenceTests: XCTestCase {
  func testLINCSControlWellProbesMatchScikitLearn() throws {
    let table = try SmallAudits.shared("data/lincs-SQ00015054-profiles")
      .appendingPathComponent("SQ00015054_normalized_feature_select.csv.gz")
    let probed = try compare(source: table, design: .init(control: "Metadata_pert_type=control"))
    XCTAssertEqual(probed, ["row"])
  }

  func testDeepProfilerControlWellProbesMatchScikitLearn() throws {
    let folder = try SmallAudits.shared("data/deepprofiler-bbbc021-embeddings")
    // The wells' compound, from each file's own metadata (DMSO on every well): the control wells.
    let dir = try TemporaryDirectory()
    let platemap = dir.file("platemap.csv")
    try "well_position,compound\nB02,DMSO\nB03,DMSO\nB04,DMSO\n".write(to: platemap, atomically: true, encoding: .utf8)
    let probed = try compare(source: folder, design: .init(control: "compound=DMSO"), platemap: platemap)
    XCTAssertEqual(probed, ["plate"])
  }

  /// Audits `source` (import and nuisance stages), compares every control-well probe with scikit-learn; returns
  /// the covariates probed.
  func compare(source: URL, design: AuditRequest.DesignParams, platemap: URL? = nil) throws -> [String] {
    let dir = try TemporaryDirectory()
    let out = dir.file("run")
    let response = try InProcessAudit.run(
      .init(
        screen: source.path, out: out.path, stages: ["import", "nuisance"], platemap: platemap?.path, design: design),
      plugins: ["probe"])
    let findings = response.findings.filter { $0.kind == "nuisance" && $0.measure.name.hasSuffix(" of control wells") }
    let notes = response.summary.filter { line in
      ["batch", "plate", "row", "column"].contains { line.hasPrefix("\($0) from control wells") }
    }
    print("notes: \(notes)")
    let store = try RunStore(url: out.appendingPathComponent("run.sqlite"))
    let table = try WellTable.build(store: store, batches: [:])
    for f in findings {
      let evidence = try XCTUnwrap(f.evidence)
      let folds = try XCTUnwrap(evidence["folds"]?.arrayValue)
      let heldOut = folds.map { $0["test_groups"]!.arrayValue!.map { $0.stringValue! } }
      let byWell = f.covariate != "batch"
      XCTAssertTrue(byWell, "a batch probe holds out plates; none is expected here")
      let keys = Set(heldOut.flatMap { $0 })
      let rows = table.rows.filter { keys.contains($0.key) }
      let setName = String(f.measure.name.dropLast(" of control wells".count))
      let set = try XCTUnwrap(FeatureSet.ladder(table, rows: rows, formats: [:]).first { $0.name == setName })
      guard case .measurements(let columns) = set.source else { XCTFail("\(setName) is not measurements"); continue }
      XCTAssertEqual(try set.matrix(rows, table: table, components: ComponentScores()).kept.count, rows.count)
      let spec: [String: Any] = [
        "wells": rows.map { [$0.plate, $0.well] }, "columns": columns, "target": f.covariate,
        "components": columns.count > 2 * FeatureSet.measurementComponents ? FeatureSet.measurementComponents : 0,
        "groups": rows.map(\.key), "units": rows.map(\.key),
        "strata": f.covariate == "plate" ? NSNull() : rows.map(\.plate) as Any,
        "folds": heldOut, "c": folds.map { $0["c"]!.doubleValue! }, "column_seed": 2, "permutations": 199,
      ]
      let specFile = dir.file("spec-\(f.covariate).json")
      try JSONSerialization.data(withJSONObject: spec).write(to: specFile)
      let script = try String(
        contentsOf: SharedData.projectRoot.appendingPathComponent("Tests/python/test_probe_reference.py"),
        encoding: .utf8)
      let text: String
      do {
        text = try PythonReference.run(
          "import sys; sys.argv = ['ref'] + sys.argv[1:]\n" + script,
          arguments: ["nuisance", source.path, specFile.path])
      } catch let reason as SkipReason { throw XCTSkip(reason.description) }
      let ref = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
      let theirs = ref["folds"] as! [[String: Any]]
      var worst = (balanced: 0.0, auc: 0.0)
      for (ours, sk) in zip(folds, theirs) {
        worst.balanced = max(
          worst.balanced, abs(ours["balanced_accuracy"]!.doubleValue! - (sk["balanced_accuracy"] as! Double)))
        if let a = ours["auc"]?.doubleValue, let b = sk["auc"] as? Double { worst.auc = max(worst.auc, abs(a - b)) }
      }
      let columnPermuted = evidence["columnPermutedScore"]!.doubleValue!
      let null = try XCTUnwrap(f.baseline)
      print(
        "\(f.covariate) from \(set.name) of \(rows.count) control wells (\(ref["columns"]!) columns): balanced accuracy "
          + "\(f.metric.value) (sklearn \(ref["score"]!)); per fold \(folds.map { $0["balanced_accuracy"]!.doubleValue! }) "
          + "(sklearn \(theirs.map { $0["balanced_accuracy"]! })), largest fold difference \(worst.balanced), AUC \(worst.auc); "
          + "column-permuted \(columnPermuted) (sklearn \(ref["column_permuted"]!)); labels permuted \(null.value) ± "
          + "\(null.spread ?? .nan) (sklearn \(ref["null_mean"]!) ± \(ref["null_sd"]!))")
      XCTAssertEqual(ref["rows"] as? Int, rows.count)
      XCTAssertEqual(theirs.count, folds.count)
      XCTAssertLessThanOrEqual(worst.balanced, 1e-9, "the same predictions in every fold")
      XCTAssertLessThanOrEqual(worst.auc, 1e-3, "ROC AUC per fold")
      XCTAssertEqual(f.metric.value, ref["score"] as! Double, accuracy: 1e-9)
      XCTAssertEqual(columnPermuted, ref["column_permuted"] as! Double, accuracy: 1e-9, "the same permuted columns")
      let spread = ((null.spread ?? 0) + (ref["null_sd"] as! Double)) / 2
      XCTAssertEqual(
        null.value, ref["null_mean"] as! Double, accuracy: max(4 * spread * (2.0 / 199).squareRoot(), 0.01),
        "label-permuted nulls of the same definition")
    }
    return findings.map(\.covariate).sorted()
  }
}
