import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC
import TestSupport
import XCTest

@testable import ConfoundServer

/// The audit on real screens from `../shared/data`, in this process: the LINCS plate's profiles with no pixels,
/// and BBBC013 as a folder of images with its template and platemap.
final class AuditRealScreenTests: XCTestCase {
  func testLINCSProfilesAuditedWithoutPixels() throws {
    let table = try SmallAudits.shared("data/lincs-SQ00015054-profiles")
      .appendingPathComponent("SQ00015054_normalized_feature_select.csv.gz")
    let dir = try TemporaryDirectory()
    let started = Date()
    let response = try InProcessAudit.run(
      .init(screen: table.path, out: dir.file("run").path, design: .init(control: "Metadata_pert_type=control")),
      plugins: ["probe"])
    let seconds = Date().timeIntervalSince(started)
    XCTAssertEqual(response.input, "pycytominer")
    XCTAssertEqual(response.wells, 384)
    XCTAssertEqual(response.design.first { $0.member == "control" }?.source, "declared")
    XCTAssertTrue(response.design.contains { $0.member == "unit" && $0.source.hasPrefix("inferred") }, "\(response.design)")
    let skipped = Set(response.skipped.map(\.name))
    XCTAssertTrue(skipped.isSuperset(of: ["focus", "segment", "embed"]), "no pixels: \(response.skipped)")
    XCTAssertTrue(response.skipped.first { $0.name == "focus" }?.reason.contains("no pixels") ?? false)
    XCTAssertTrue(skipped.contains("target"), "no target given")
    XCTAssertTrue(response.summary.contains { $0.hasPrefix("Design:") }, "the inferred design is printed")
    let positions = response.findings.filter { $0.kind == "nuisance" && ["row", "column"].contains($0.covariate)
      && $0.measure.name.hasSuffix("sample wells") }
    XCTAssertEqual(positions.count, 2, "\(response.findings.map { "\($0.kind) \($0.covariate) \($0.measure.name)" })")
    for f in positions {
      XCTAssertTrue(f.significant, f.verdict)
      XCTAssertEqual(f.evidence?["reading"]?.stringValue, "design-driven", f.verdict)
      XCTAssertEqual(f.metric.name, "balanced accuracy")
      XCTAssertTrue((f.metric.ciLow ?? 2) <= f.metric.value && f.metric.value <= (f.metric.ciHigh ?? -1), "\(f.metric)")
    }
    // The plate's 24 DMSO wells (6 in each of rows A, B, F and J) differ by row: scikit-learn finds it in the
    // first 32 principal components of the plate's standardised profiles (balanced accuracy 0.83-0.92 over five
    // shuffles of 3 stratified folds), and so must the audit, whose components are fitted on every well of the
    // table. Fitted on the 24 control wells alone they gave 0.17 (p = 0.79): a technical row effect missed.
    let controlRow = try XCTUnwrap(response.findings.first { $0.kind == "nuisance" && $0.covariate == "row"
      && $0.measure.name == "hand features of control wells" })
    XCTAssertTrue(controlRow.significant, controlRow.verdict)
    XCTAssertGreaterThan(controlRow.metric.value, 0.6, controlRow.verdict)
    XCTAssertEqual(controlRow.units.count, 24)
    XCTAssertNil(controlRow.evidence?["reading"], "control wells carry no design-driven reading")
    XCTAssertTrue(response.summary.contains { $0.contains("Batch mixing: the wells are on one plate") }, "\(response.summary)")
    let edge = response.findings.filter { $0.kind == "edge-effect" }
    XCTAssertTrue(edge.allSatisfy { $0.metric.name.hasPrefix("difference") }, "z-scored profiles compare by difference: \(edge)")
    let figures = try RunStore(url: dir.file("run/run.sqlite")).artifacts().filter { $0.kind == "figure" }.map(\.name)
    XCTAssertTrue(figures.contains("plots/wells-pca.png") && figures.contains("plots/wells-tsne.png"), "\(figures)")
    print("LINCS profiles audit: \(Int(seconds)) s, \(response.findings.count) findings")
  }

  func testBBBC013FolderWithTemplateAndPlatemapDoseFollowsTheColumn() throws {
    let root = try SmallAudits.shared("data/bbbc013-sbs-plate")
    let dir = try TemporaryDirectory()
    let response = try InProcessAudit.run(
      .init(screen: root.path, out: dir.file("run").path, stages: ["design", "focus", "segment", "spatial", "density", "edge"],
            template: "cellprofiler-example", platemap: root.appendingPathComponent("1049_Metadata.csv").path,
            design: .init(target: "SBS_Doses", control: "SBS_Controls=-1")),
      plugins: ["focus", "segmenter"])
    XCTAssertEqual(response.input, "folder")
    XCTAssertEqual(response.sites, 96)
    let column = try XCTUnwrap(response.findings.first { $0.kind == "design" && $0.covariate == "column" })
    XCTAssertTrue(column.significant && column.metric.value > 0.9, column.verdict)
    XCTAssertTrue(column.verdict.contains("SBS_Doses follows the column"), column.verdict)
    let row = try XCTUnwrap(response.findings.first { $0.kind == "design" && $0.covariate == "row" })
    XCTAssertFalse(row.significant, "dose is balanced over rows: \(row.verdict)")
    XCTAssertEqual(response.skipped.first { $0.name == "density" }?.reason.contains("numeric with 11"), true,
                   "\(response.skipped)")
    XCTAssertEqual(Set(response.findings.filter { $0.kind == "spatial" }.flatMap(\.plates)).count, 1,
                   "the spatial test is stated per plate")
  }
}
