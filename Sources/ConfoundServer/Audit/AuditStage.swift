import ConfoundProtocol
import Foundation
import JSONRPC

/// What a stage of the audit needs before it runs and what it leaves in the run store.
enum AuditResource: String, Sendable, CaseIterable {
  /// Images to read (absent for a profiles table).
  case pixels
  /// Per-site focus and image-quality measures.
  case focus
  /// Per-site nuclei counts.
  case density
  /// Label masks, object tables and cell crops.
  case crops
  /// Per-cell, per-site and per-well embeddings.
  case embeddings
  /// Per-site features of any kind, for the per-well table.
  case features
}

/// One stage of the audit: a value of this protocol plus one line in `AuditPlan.stages`.
///
/// A stage declares what it needs and produces, says when it does not apply to a screen (no pixels, no target, no
/// plugin of its kind) and runs against the audit's shared state. Per-site stages keep one unit of work per site
/// in the store and redo only missing units on resume; analysis stages recompute from the store (they are seeded,
/// so a rerun gives the same numbers) and add findings and artifacts through `Audit`.
protocol AuditStage {
  /// The stage's name in `stages`, in the store and in summaries.
  static var name: String { get }
  /// What must exist (from an earlier stage of this run, or in the store of a resumed run).
  static var needs: Set<AuditResource> { get }
  static var produces: Set<AuditResource> { get }
  init()
  /// Why the stage does not apply to this audit (it is then skipped and the report says why), or nil.
  func skipReason(_ audit: Audit) -> String?
  /// Runs the stage; returns its unit counts (analysis stages: how many tests or figures it made).
  func run(_ audit: Audit) throws -> StageCounts
}

/// What a stage did: units computed now, found done, failed (with the first reasons).
struct StageCounts {
  var computed = 0
  var resumed = 0
  var failed = 0
  var failures: [String] = []
}

/// The audit's stages in order. A stage added later is one type and one line here.
enum AuditPlan {
  static let stages: [any AuditStage.Type] = [
    ImportStage.self, DesignStage.self, FocusStage.self, SegmentStage.self, EmbedStage.self, SpatialStage.self, DensityStage.self,
    EdgeStage.self, NuisanceStage.self, TargetStage.self, SupervisedStage.self, ExplainStage.self, ProjectionStage.self,
  ]

  static var names: [String] { stages.map { $0.name } }

  /// The stages `requested` names (all when nil), in the audit's order; an unknown name, or a stage whose needs no
  /// earlier selected stage (nor the store, `available`) meets, is an invalid-params error naming it.
  static func select(_ requested: [String]?, available: Set<AuditResource>) throws -> [any AuditStage.Type] {
    guard let requested else { return stages }
    for name in requested where !names.contains(name) {
      throw ResponseError(.invalidParams, "stages: unknown stage \"\(name)\"; the audit's stages are \(names.joined(separator: ", "))",
                          data: ["field": "stages"])
    }
    let chosen = stages.filter { requested.contains($0.name) }
    var have = available
    for stage in chosen {
      // Pixels are the screen's, not a stage's: a stage that needs them runs or is skipped with its reason.
      let missing = stage.needs.subtracting(have).subtracting([.pixels])
      if !missing.isEmpty {
        let providers = stages.filter { !$0.produces.intersection(missing).isEmpty }.map { $0.name }
        throw ResponseError(
          .invalidParams,
          "stages: \(stage.name) needs \(missing.map(\.rawValue).sorted().joined(separator: ", ")), which no earlier stage in the "
            + "list produces and the store does not hold: add \(providers.joined(separator: " or ")) before it",
          data: ["field": "stages"])
      }
      have.formUnion(stage.produces)
    }
    return chosen
  }
}
