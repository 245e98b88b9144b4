import ConfoundProtocol
import Foundation

/// The text form of an `audit/run` response shared by the commands that run the audit or some of its stages:
/// one line per stage with its counts, the skipped stages with their reasons, then the plain-sentence summary.
func printStagesAndSummary(_ response: AuditRequest.Response) {
  for stage in response.stages {
    let seconds = String(format: "%.1f", stage.seconds)
    print("stage \(stage.name): \(stage.computed) computed, \(stage.resumed) resumed, \(stage.failed) failed, \(seconds) s")
  }
  for line in response.summary { print(line) }
}
