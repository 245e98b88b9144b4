import ConfoundProtocol
import Foundation
import JSONRPC
import XCTest

@testable import ConfoundServer

/// The audit as a list of stages: selection by name, needs checked against earlier stages and the store, and the
/// one correction every test enters.
final class AuditPlanTests: XCTestCase {
  /// The wire's list of stage names (what the CLI's help prints) is the host's plan, in its order.
  func testTheProtocolNamesEveryStageOfThePlanInOrder() {
    XCTAssertEqual(AuditRequest.stageNames, AuditPlan.names)
  }

  func testStagesAreSelectedInTheAuditsOrderAndUnmetNeedsAreNamed() throws {
    let chosen = try AuditPlan.select(["spatial", "focus"], available: [.pixels]).map { $0.name }
    XCTAssertEqual(chosen, ["focus", "spatial"], "the audit's order, not the list's")
    XCTAssertThrowsError(try AuditPlan.select(["focs"], available: [])) { error in
      let e = error as! ResponseError
      XCTAssertEqual(e.code, .invalidParams)
      XCTAssertTrue(e.message.contains("unknown stage \"focs\"") && e.message.contains("focus, segment"), e.message)
    }
    XCTAssertThrowsError(try AuditPlan.select(["embed"], available: [.pixels])) { error in
      let message = (error as! ResponseError).message
      XCTAssertTrue(message.contains("embed needs crops") && message.contains("add segment before it"), message)
    }
    // A resumed store that holds crops meets the embed stage's needs without the segment stage.
    XCTAssertEqual(try AuditPlan.select(["embed"], available: [.crops]).map { $0.name }, ["embed"])
    XCTAssertEqual(try AuditPlan.select(nil, available: []).count, AuditPlan.stages.count)
  }

  private func draft(_ kind: String, p: Double?, eligible: Bool = true) -> FindingDraft {
    let finding = AuditFinding(kind: kind, stage: kind, covariate: "c", measure: .init(name: "m", role: "focus"),
                               metric: .init(name: "x", value: 1), pValue: p, units: .init(name: "wells", count: 10),
                               plates: [], significant: false, verdict: "")
    return FindingDraft(finding: finding, eligible: eligible) { f in "\(f.kind) \(f.significant) \(f.pAdjusted ?? -1)" }
  }

  func testEveryTestEntersOneBenjaminiHochbergCorrectionAndVerdictsUseTheCorrectedValue() {
    // Raw p 0.01, 0.04, 0.03, 0.005 and 0.5: BH gives 0.025, 0.05, 0.05, 0.025 and 0.5.
    let drafts = [draft("spatial", p: 0.01), draft("density", p: 0.04), draft("edge-effect", p: 0.03),
                  draft("nuisance", p: 0.005, eligible: false), draft("design", p: 0.5), draft("alert", p: nil)]
    let (findings, correction) = AuditCorrection.apply(drafts)
    XCTAssertEqual(correction, "Benjamini-Hochberg over the 5 tests of this audit, false discovery rate 5%")
    let byKind = Dictionary(uniqueKeysWithValues: findings.map { ($0.kind, $0) })
    XCTAssertEqual(byKind["spatial"]?.pAdjusted ?? 0, 0.025, accuracy: 1e-12)
    XCTAssertEqual(byKind["spatial"]?.significant, true)
    XCTAssertEqual(byKind["density"]?.significant, false, "0.04 raw is 0.05 after correction: not below 5%")
    XCTAssertEqual(byKind["nuisance"]?.significant, false, "significant p but not eligible (below chance)")
    XCTAssertNil(byKind["alert"]?.pAdjusted, "not a test: no correction")
    XCTAssertEqual(byKind["spatial"]?.verdict, "spatial true 0.025")
    XCTAssertEqual(findings.first?.kind, "spatial", "significant findings first")
  }
}
