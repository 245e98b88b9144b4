import Foundation

/// Whatever a lab has, read as a screen: the one entry point of `confound audit SCREEN`.
///
/// SCREEN is a CellProfiler LoadData CSV; a folder written by `confound simulate` (it holds `load_data.csv`,
/// joined to the `barcode_platemap.csv` beside it); a folder of images read by file name (`template`, or the
/// presets); a folder of DeepProfiler embeddings (`DeepProfilerReader`) or of CellProfiler CSV outputs
/// (`CellProfilerCSVFolder`); or a profiles table
/// (`ProfileTableReader`: no pixels, told from a LoadData CSV by its columns).
/// `platemap` is joined to every plate and `barcodePlatemap` by barcode, as `confound screen` does. Errors name
/// the file.
public enum ScreenSource {
  /// The screen, every problem met reading it, the files it was read from (to record in the run), and the
  /// profiles table when SCREEN is one (then the screen has no images).
  /// `isCancelled` is polled while a LoadData CSV is read (`ReadCancelled` is thrown when it turns true).
  public static func load(_ path: URL, template: FileNameTemplate?, platemap: URL?, barcodePlatemap: URL?,
                          isCancelled: () -> Bool = { false }) throws
    -> (screen: Screen, problems: [ScreenProblem], inputs: [URL], profiles: ProfileTable?)
  {
    let path = path.standardizedFileURL
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isFolder) else {
      throw CSVError(
        file: path.path, line: nil,
        message: "does not exist: give a LoadData CSV, a folder of images, or a profiles table (CSV, CSV.gz, SQLite)")
    }
    var screen: Screen
    var problems: [ScreenProblem]
    var inputs = [path]
    var profiles: ProfileTable? = nil
    var barcodes = barcodePlatemap
    let loadData = path.appendingPathComponent("load_data.csv")
    if isFolder.boolValue, template == nil, FileManager.default.fileExists(atPath: loadData.path) {
      (screen, problems) = try LoadDataReader.read(loadData, isCancelled: isCancelled)
      inputs = [loadData]
      barcodes = barcodes ?? beside(loadData)
    } else if isFolder.boolValue, template == nil, DeepProfilerReader.isEmbeddingsFolder(path) {
      let table = try DeepProfilerReader.read(path)
      (screen, problems) = (table.screen(), table.screenProblems)
      profiles = table
    } else if isFolder.boolValue, template == nil, CellProfilerCSVFolder.isOutputFolder(path) {
      let table = try CellProfilerCSVFolder.read(path)
      (screen, problems) = (table.screen(), table.screenProblems)
      profiles = table
    } else if isFolder.boolValue {
      (screen, problems) = try DirectoryReader.read(path, template: template)
    } else if try ProfileTableReader.isProfilesTable(path) {
      if let template {
        throw TemplateError(
          template: template.pattern, message: "applies to a folder of images, not to the profiles table \(path.path)")
      }
      let table = try ProfileTableReader.read(path)
      (screen, problems) = (table.screen(), table.screenProblems)
      profiles = table
    } else {
      if let template {
        throw TemplateError(
          template: template.pattern, message: "applies to a folder of images, not to the LoadData CSV \(path.path)")
      }
      (screen, problems) = try LoadDataReader.read(path, isCancelled: isCancelled)
      barcodes = barcodes ?? beside(path)
    }
    if let platemap {
      problems += screen.join(try Platemap(contentsOf: platemap))
      inputs.append(platemap)
    }
    if let barcodes {
      let table = try BarcodePlatemap(contentsOf: barcodes)
      problems += screen.join(table)
      inputs.append(barcodes)
    }
    return (screen, problems, inputs, profiles)
  }

  /// The `barcode_platemap.csv` beside a LoadData CSV (the layout `confound simulate` and the Broad write).
  static func beside(_ loadData: URL) -> URL? {
    let url = loadData.deletingLastPathComponent().appendingPathComponent("barcode_platemap.csv")
    return FileManager.default.fileExists(atPath: url.path) ? url : nil
  }
}

extension FileNameTemplate {
  /// A preset by name (`metaxpress`, `operetta`, `imagexpress`, `cellprofiler-example`), or else a template
  /// string with `{fields}`: what `--template` takes. The error names both forms.
  public static func named(_ text: String) throws -> FileNameTemplate {
    if let preset = presets.first(where: { $0.name == text }) { return preset }
    guard text.contains("{") else {
      throw TemplateError(
        template: text,
        message: "is neither a preset (\(presets.map(\.name).joined(separator: ", "))) nor a template with {fields}")
    }
    return try FileNameTemplate(text)
  }
}
