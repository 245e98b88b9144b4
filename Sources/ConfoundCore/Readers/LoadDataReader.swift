import Foundation

/// Reads a CellProfiler LoadData CSV (the JUMP / Cell Painting Gallery input format).
///
/// Each row is one site. `FileName_<Channel>` and `PathName_<Channel>` name each channel's image; a relative
/// `PathName` (or a missing one) is resolved against the CSV's folder. `Metadata_Plate`, `Metadata_Well` and
/// `Metadata_Site` place the row; `Metadata_Row`/`Metadata_Col(umn)` stand in for a missing well. Every other
/// `Metadata_*` column becomes a covariate named without the prefix. `URL_<Channel>` with `file:` URLs is read
/// as well. Problems (bad rows, bad well names) are collected, never thrown, so one bad row does not hide others.
public enum LoadDataReader {
  /// Reads a LoadData CSV; `isCancelled` is polled while reading (`ReadCancelled` is thrown when it turns true).
  public static func read(_ url: URL, format: PlateFormat? = nil, isCancelled: () -> Bool = { false }) throws
    -> (screen: Screen, problems: [ScreenProblem])
  {
    var builder = ScreenBuilder(format: format)
    try add(url, to: &builder, isCancelled: isCancelled)
    return builder.build()
  }

  /// Adds every row of the CSV at `url` to `builder`, polling `isCancelled` while parsing and every 4096 rows.
  public static func add(_ url: URL, to builder: inout ScreenBuilder, isCancelled: () -> Bool = { false }) throws {
    let table = try CSVTable(contentsOf: url, isCancelled: isCancelled)
    let folder = url.deletingLastPathComponent()
    var channels: [(name: String, file: Int?, path: Int?, url: Int?)] = []
    for (i, column) in table.columns.enumerated() {
      for prefix in ["FileName_", "URL_"] where column.hasPrefix(prefix) {
        let name = String(column.dropFirst(prefix.count))
        if let k = channels.firstIndex(where: { $0.name == name }) {
          if prefix == "URL_" { channels[k].url = i } else { channels[k].file = i }
        } else {
          channels.append(
            (
              name, prefix == "FileName_" ? i : nil, table.columns.firstIndex(of: "PathName_" + name),
              prefix == "URL_" ? i : nil
            ))
        }
      }
    }
    guard !channels.isEmpty else {
      throw CSVError(
        file: url.path, line: 1, message: "no FileName_<Channel> or URL_<Channel> columns: is this a LoadData CSV?")
    }
    let metadata = table.columns.enumerated().filter { $0.element.hasPrefix("Metadata_") }
      .map { (index: $0.offset, name: String($0.element.dropFirst("Metadata_".count))) }
    let special: Set<String> = ["plate", "well", "site", "row", "col", "column"]
    for (r, row) in table.rows.enumerated() {
      if r % 4096 == 4095, isCancelled() { throw ReadCancelled(file: url.path) }
      let location = table.location(ofRow: r)
      var fields: [String: String] = [:]
      for m in metadata { fields[m.name] = row[m.index] }
      let lookup = { (key: String) in fields.first { $0.key.lowercased() == key }?.value }
      guard let well = wellName(lookup) else {
        builder.report(.init(.badRow, at: location, "no Metadata_Well (or Metadata_Row + Metadata_Col): row skipped"))
        continue
      }
      let plate = lookup("plate") ?? folder.lastPathComponent
      let siteText = lookup("site") ?? "1"
      guard let site = Int(siteText) else {
        builder.report(
          .init(.badRow, at: location, plate: plate, well: well, "Metadata_Site \"\(siteText)\" is not a number"))
        continue
      }
      let covariates = fields.filter { !special.contains($0.key.lowercased()) }
      for channel in channels {
        guard let path = imagePath(row: row, channel: channel, folder: folder) else {
          builder.report(
            .init(.missingChannel, at: location, plate: plate, well: well, "no file name for channel \(channel.name)"))
          continue
        }
        builder.add(
          ImageRecord(
            plate: plate, well: well, site: site, channel: channel.name, path: path, origin: location,
            metadata: covariates))
      }
    }
    for line in table.raggedLines {
      builder.report(
        .init(.badRow, at: SourceLocation(file: url.path, line: line), "field count differs from the header's"))
    }
  }

  private static func wellName(_ lookup: (String) -> String?) -> String? {
    if let well = lookup("well"), !well.isEmpty { return well }
    guard let row = lookup("row"), let column = lookup("col") ?? lookup("column"), let c = Int(column) else {
      return nil
    }
    let letters = Int(row).map { WellPosition.rowLetters($0 - 1) } ?? row
    return letters + String(format: "%02d", c)
  }

  private static func imagePath(row: [String], channel: (name: String, file: Int?, path: Int?, url: Int?), folder: URL)
    -> String?
  {
    if let f = channel.file, !row[f].isEmpty {
      let directory = channel.path.map { row[$0] } ?? ""
      let base = directory.isEmpty ? folder : URL(fileURLWithPath: directory, relativeTo: folder)
      return base.appendingPathComponent(row[f]).standardizedFileURL.path
    }
    if let u = channel.url, let parsed = URL(string: row[u]), parsed.isFileURL { return parsed.path }
    return nil
  }
}
