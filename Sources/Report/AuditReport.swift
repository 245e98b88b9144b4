import Foundation

/// The entry point the audit and `confound report` share: build the model from a run folder and write the page.
public enum AuditReport {
  /// Builds the report of the run in `runFolder` and writes it to `file` (default `runFolder/report.html`), with
  /// `customise` applied to the model first (the audit adds what only it knows: stage times, the command).
  @discardableResult
  public static func write(runFolder: URL, to file: URL? = nil, generated: Date? = Date(),
                           customise: (inout ReportModel) throws -> Void = { _ in }) throws -> ReportHTML.Written {
    var model = try ReportBuilder(folder: runFolder).build()
    try customise(&model)
    return try ReportHTML.write(model, to: file ?? runFolder.appendingPathComponent("report.html"),
                                generated: generated)
  }
}
