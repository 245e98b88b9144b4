import Foundation

/// Reads DeepProfiler's per-cell embeddings (`<plate>/<well>_s<site>.npz`, each with a `features` array of
/// cells x dimensions) into a well-level profiles table of mean embeddings, role `.embedding`.
///
/// A well's embedding is the mean over every cell of the well, its sites pooled: the same definition as the
/// SQLite reader's object aggregation. `Metadata_Object_Count` (pycytominer's name) is the cells pooled and
/// `Metadata_Sites` the sites. The pickled `metadata` array of each file is not read (it needs a Python
/// unpickler); plate, well and site come from the folder and file names.
public enum DeepProfilerReader {
  /// Whether `folder` holds DeepProfiler `.npz` files, directly or one folder down (one per plate).
  public static func isEmbeddingsFolder(_ folder: URL) -> Bool { !((try? sites(in: folder)) ?? []).isEmpty }

  public static func read(_ folder: URL) throws -> ProfileTable {
    let files = try sites(in: folder)
    guard !files.isEmpty else {
      throw ProfileError(file: folder.path, message: "no <well>_s<site>.npz files here or in its plate folders")
    }
    var order: [String] = []
    var wells: [String: (plate: String, well: String, sum: [Double], cells: Int, sites: Int)] = [:]
    var dimensions: Int? = nil
    for site in files {
      let array = try NumpyArchive(contentsOf: site.url).array(named: "features")
      if let d = dimensions, d != array.columns {
        throw ProfileError(file: site.url.path, message: "\(array.columns) dimensions where other files have \(d)")
      }
      dimensions = array.columns
      let key = "\(site.plate)/\(site.well)"
      if wells[key] == nil {
        order.append(key)
        wells[key] = (site.plate, site.well, Array(repeating: 0, count: array.columns), 0, 0)
      }
      for r in 0..<array.rows {
        for c in 0..<array.columns { wells[key]!.sum[c] += array.values[r * array.columns + c] }
      }
      wells[key]!.cells += array.rows
      wells[key]!.sites += 1
    }
    let d = dimensions ?? 0
    let rows = order.map { key -> ProfileRow in
      let w = wells[key]!
      return ProfileRow(
        plate: w.plate, well: w.well, site: nil,
        metadata: ["Metadata_Object_Count": String(w.cells), "Metadata_Sites": String(w.sites)],
        values: w.sum.map { w.cells > 0 ? $0 / Double(w.cells) : .nan })
    }
    return ProfileTable(
      level: .well, source: folder, format: "deepprofiler-npz",
      metadataColumns: ["Metadata_Object_Count", "Metadata_Sites"], features: (0..<d).map { "DeepProfiler_\($0)" },
      roles: Array(repeating: .embedding, count: d), rows: rows)
  }

  /// The `.npz` files named `<well>_s<site>.npz` (or `<well>_<site>.npz`), plate from their folder, sorted.
  static func sites(in folder: URL) throws -> [(url: URL, plate: String, well: String, site: Int)] {
    let manager = FileManager.default
    var result: [(url: URL, plate: String, well: String, site: Int)] = []
    let pattern = try NSRegularExpression(pattern: #"^([A-Za-z]{1,2}\d{1,3})_s?(\d+)\.npz$"#)
    func scan(_ dir: URL, plate: String) {
      for name in ((try? manager.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() {
        let range = NSRange(name.startIndex..., in: name)
        guard let m = pattern.firstMatch(in: name, range: range), let w = Range(m.range(at: 1), in: name),
          let s = Range(m.range(at: 2), in: name), let site = Int(name[s])
        else { continue }
        result.append((dir.appendingPathComponent(name), plate, String(name[w]), site))
      }
    }
    scan(folder, plate: folder.lastPathComponent)
    for name in ((try? manager.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() {
      var isFolder: ObjCBool = false
      let sub = folder.appendingPathComponent(name)
      if manager.fileExists(atPath: sub.path, isDirectory: &isFolder), isFolder.boolValue { scan(sub, plate: name) }
    }
    return result
  }
}
