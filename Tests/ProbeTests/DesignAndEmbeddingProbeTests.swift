import Foundation
import JSONRPC
import TestSupport
import XCTest

/// The design audit on BBBC013's layout, and the plate probe on real DeepProfiler CNN embeddings of BBBC021.
final class DesignAndEmbeddingProbeTests: XCTestCase {
  /// BBBC013 dilutes dose along the columns: the audit calls it confounded, with scipy's Cramer's V.
  func testBBBC013DoseIsConfoundedWithColumn() throws {
    let platemap = try sharedData("bbbc013-sbs-plate").appendingPathComponent("1049_Metadata.csv").path
    let audit = try ProbeHost().request("design/audit", ["platemap": .string(platemap), "target": "SBS_Doses"])
    let column = audit["associations"]!.arrayValue!.first { $0["covariate"]?.stringValue == "Column" }!
    let row = audit["associations"]!.arrayValue!.first { $0["covariate"]?.stringValue == "Row" }!
    let ref = try probeReference(["association", platemap, "SBS_Doses", "Column"])
    print("BBBC013: \(column["verdict"]!); \(row["verdict"]!) (scipy V \(ref["cramers_v"]!))")
    XCTAssertEqual(column["cramersV"]!.doubleValue!, ref["cramers_v"] as! Double, accuracy: 1e-9)
    XCTAssertTrue(column["verdict"]!.stringValue!.hasPrefix("SBS_Doses is confounded with Column"))
    XCTAssertTrue(row["verdict"]!.stringValue!.hasPrefix("no evidence"))
  }

  /// Plate from per-cell CNN embeddings (2 plates x 3 wells x 2 sites, 1,532 cells): folds leave one well position
  /// out, labels are permuted between whole wells; scikit-learn on the same table and folds agrees within 0.02.
  func testPlateFromDeepProfilerEmbeddings() throws {
    let folder = try sharedData("deepprofiler-bbbc021-embeddings")
    let scratch = try TemporaryDirectory(prefix: "confound-probe")
    let table = scratch.file("embeddings.csv").path
    try probeReference(["embeddings", folder.path, table])
    let response = try ProbeHost().request("probe/table", [
      "table": .string(table), "target": "Metadata_Plate", "groups": "Metadata_Well", "units": "Metadata_PlateWell",
      "features": "Embedding_", "parameters": ["permutations": 199, "bootstraps": 200],
    ])
    let result = response["result"]!
    let ref = try probeReference(["probe", table, "Metadata_Plate", "Metadata_Well", "-", "0"])
    let balanced = result["metrics"]!["overall"]!["balanced_accuracy"]!.doubleValue!
    let baseline = result["baseline"]!["overall"]!["balanced_accuracy"]!.doubleValue!
    print("DeepProfiler plate: balanced accuracy \(balanced) (sklearn \(ref["balanced_accuracy"]!)), baseline \(baseline), "
      + "AUC \(result["metrics"]!["overall"]!["auc"]!), p \(result["p_value"]!), min p \(result["smallest_attainable_p"]!), "
      + "leakage \(result["leakage_score"]!) CI \(result["leakage_ci"]!); \(result["verdict"]!)")
    XCTAssertEqual(result["metrics"]!["folds"]!.arrayValue!.count, 3)
    // 6 wells (the unit of replication), 3 per plate: 20 arrangements, enumerated, so p is exact and >= 0.05.
    XCTAssertEqual(result["units"]?.intValue, 6)
    XCTAssertEqual(result["p_exact"]?.boolValue, true)
    XCTAssertEqual(result["smallest_attainable_p"]!.doubleValue!, 1.0 / 20, accuracy: 1e-12)
    XCTAssertEqual(balanced, ref["balanced_accuracy"] as! Double, accuracy: 0.02)
    XCTAssertEqual(baseline, 0.5, accuracy: 0.1, "column-permuted embeddings carry no plate")
    XCTAssertEqual(result["leaks"]?.arrayValue?.count, 0, "wells never straddle folds")
    let p = result["p_value"]!.doubleValue!
    XCTAssertEqual(result["verdict"]!.stringValue!.hasPrefix("Metadata_Plate is predictable"), p <= 0.05)
    XCTAssertEqual(balanced - baseline > 0.2, (ref["balanced_accuracy"] as! Double) - (ref["baseline"] as! Double) > 0.2)
  }
}
