import Foundation

/// Reads a folder of images (recursively) by file name, for screens without a LoadData CSV.
///
/// With a template, every image file must match it; without one, each file is matched against the presets in
/// order (so a folder may mix conventions, as CellProfiler's example folders do). When the template has no
/// `plate` field the plate is the file's folder relative to the root ("ExampleVitraImages/images"), or the
/// root's own name for files directly in it. Image files matching nothing are reported, not dropped silently.
public enum DirectoryReader {
  static let imageExtensions: Set<String> = ["tif", "tiff", "png"]

  public static func read(_ root: URL, template: FileNameTemplate? = nil, format: PlateFormat? = nil) throws
    -> (screen: Screen, problems: [ScreenProblem])
  {
    var builder = ScreenBuilder(format: format)
    try add(root, template: template, to: &builder)
    return builder.build()
  }

  public static func add(_ root: URL, template: FileNameTemplate? = nil, to builder: inout ScreenBuilder) throws {
    let files = try imageFiles(under: root)
    guard !files.isEmpty else {
      throw CSVError(file: root.path, line: nil, message: "no .tif, .tiff or .png images in this folder")
    }
    let templates = template.map { [$0] } ?? FileNameTemplate.presets
    for file in files {
      let folder = file.deletingLastPathComponent()
      guard let match = templates.lazy.compactMap({ $0.record(fileName: file.lastPathComponent, folder: folder) }).first
      else {
        let expected =
          template.map { "\"\($0.pattern)\"" } ?? "any preset (\(templates.map(\.name).joined(separator: ", ")))"
        builder.report(
          .init(.unmatchedFileName, at: SourceLocation(file: file.path), "name does not match \(expected)"))
        continue
      }
      var record = match
      if !(template ?? matchingTemplate(file.lastPathComponent)).fields.contains("plate") {
        record.plate = plateName(folder: folder, root: root)
      }
      builder.add(record)
    }
  }

  private static func matchingTemplate(_ name: String) -> FileNameTemplate {
    FileNameTemplate.presets.first { $0.match(name) != nil }!
  }

  static func plateName(folder: URL, root: URL) -> String {
    let f = folder.standardizedFileURL.pathComponents
    let r = root.standardizedFileURL.pathComponents
    guard f.count > r.count, Array(f.prefix(r.count)) == r else { return root.lastPathComponent }
    return f[r.count...].joined(separator: "/")
  }

  /// Image files under `root`, sorted by path so the order (and every problem list) is reproducible.
  static func imageFiles(under root: URL) throws -> [URL] {
    guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
    else { throw CSVError(file: root.path, line: nil, message: "cannot list this folder") }
    var files: [URL] = []
    for case let url as URL in enumerator where imageExtensions.contains(url.pathExtension.lowercased()) {
      files.append(url)
    }
    return files.sorted { $0.path < $1.path }
  }
}
