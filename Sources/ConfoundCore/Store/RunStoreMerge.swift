import Foundation

/// What a merge of run stores brought together.
public struct RunStoreMergeSummary: Sendable, Equatable {
  /// The merged store, `<out>/run.sqlite`.
  public var store: URL
  public var sources: Int
  public var sites: Int
  public var units: Int
  public var measurements: Int
  public var objects: Int
  public var arrays: Int
}

extension RunStore {
  /// Parameters that differ between the shards of one audit without changing any result: where the shard ran, which
  /// part of the screen and which stages it ran, and the LoadData file that listed its part (a shard's own CSV).
  public static let runLocalParameters: Set<String> = [
    "out", "resume", "stages", "plates", "shard", "workDoneToken", "screen",
  ]

  /// Merges the stores of shards of one audit into a new store `<out>/run.sqlite`, exactly: every site (ids
  /// renumbered, in the order the sources list them), every unit of work (a unit done in any source is done), every
  /// measurement and object value as stored (SQLite copies the 8 bytes of a REAL), every array (its `.npy` file
  /// hard-linked into `<out>/run.sqlite.arrays/`, copied where a link is impossible), inputs and plugins unioned.
  /// Findings are not merged: they are the whole screen's, and the analyses run once on the merged store.
  ///
  /// Refused, naming the store and what differs: a source that is missing or holds no run; parameters that differ
  /// beyond `runLocalParameters` (another simulation, focus measure or model); a plugin recorded at two versions;
  /// a site with different covariates or an input file with different contents in two stores (different screens,
  /// or files changed between runs); a source holding whole-screen results (units of analyses such as
  /// `projection`), which would make the merged store skip analyses that must see every plate; an `out` that
  /// already holds a store.
  ///
  /// The store is built in a scratch folder inside `out` and moved into place last, so `<out>/run.sqlite` exists
  /// only once the merge is complete.
  public static func merge(_ sources: [URL], into out: URL) throws -> RunStoreMergeSummary {
    let target = out.appendingPathComponent("run.sqlite")
    guard !sources.isEmpty else {
      throw StoreError(path: target.path, message: "no stores to merge: name at least one")
    }
    guard !FileManager.default.fileExists(atPath: target.path) else {
      throw StoreError(path: target.path, message: "already exists: remove it or merge into another folder")
    }
    let files = try sources.map(storeFile)
    let scratch = out.appendingPathComponent(".merge-\(ProcessInfo.processInfo.processIdentifier)")
    try? FileManager.default.removeItem(at: scratch)
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }

    var summary = RunStoreMergeSummary(store: target, sources: files.count, sites: 0, units: 0, measurements: 0,
                                       objects: 0, arrays: 0)
    do {
      let merged = try RunStore(url: scratch.appendingPathComponent("run.sqlite"))
      // A scratch file, moved into place only when complete and deleted on any failure: it needs no journal and
      // no syncs (the shards' stores keep theirs).
      try merged.db.execute("PRAGMA foreign_keys=OFF; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF")
      var reference: (file: URL, parameters: [String: Any])?
      for file in files {
        try merged.db.run("ATTACH DATABASE ? AS src", [.text(file.path)])
        defer { try? merged.db.execute("DETACH DATABASE src") }
        let parameters = try merged.checkParameters(of: file, against: reference)
        if reference == nil {
          reference = (file, parameters.filter { !RunStore.runLocalParameters.contains($0.key) })
          try merged.recordRun(parametersJSON: mergedParameters(parameters, sources: files, out: out))
        }
        try merged.checkAgreement(with: file)
        try merged.db.transaction { try merged.copyRows(from: file) }
      }
      let count = { (table: String) in Int(try merged.db.query("SELECT count(*) FROM \(table)")[0][0].integer ?? 0) }
      summary.sites = try count("sites")
      summary.units = try count("units")
      summary.measurements = try count("measurements")
      summary.objects = try count("objects")
      summary.arrays = try count("arrays")
      // One file, no -wal beside it, so the move below carries everything.
      try merged.db.execute("PRAGMA journal_mode=DELETE")
    }
    let arrays = scratch.appendingPathComponent("run.sqlite.arrays")
    if FileManager.default.fileExists(atPath: arrays.path) {
      let destination = out.appendingPathComponent("run.sqlite.arrays")
      try? FileManager.default.removeItem(at: destination)
      try FileManager.default.moveItem(at: arrays, to: destination)
    }
    try FileManager.default.moveItem(at: scratch.appendingPathComponent("run.sqlite"), to: target)
    return summary
  }

  /// `DIR` (holding run.sqlite) or the store file itself, which must exist.
  public static func storeFile(_ source: URL) throws -> URL {
    var isFolder: ObjCBool = false
    let exists = FileManager.default.fileExists(atPath: source.path, isDirectory: &isFolder)
    // A missing path is named as the folder it most likely meant, unless it names a .sqlite file.
    let asFolder = isFolder.boolValue || (!exists && source.pathExtension != "sqlite")
    let file = asFolder ? source.appendingPathComponent("run.sqlite") : source
    guard exists, FileManager.default.fileExists(atPath: file.path) else {
      throw StoreError(
        path: file.path, message: "no run store here: give a shard's folder (holding run.sqlite) or the file")
    }
    return file.standardizedFileURL
  }

  /// The attached source's parameters, checked equal to the first source's (`reference`, without the run-local
  /// ones) except for the run-local ones.
  private func checkParameters(of file: URL, against reference: (file: URL, parameters: [String: Any])?) throws
    -> [String: Any]
  {
    guard let text = try db.query("SELECT parameters FROM src.run").first?[0].text,
      let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    else {
      throw StoreError(path: file.path, message: "holds no run parameters (table run is empty): is it a run store?")
    }
    let parameters = object.filter { !RunStore.runLocalParameters.contains($0.key) }
    if let reference {
      let keys = Set(parameters.keys).union(reference.parameters.keys).sorted()
      let differing = keys.filter { canonical(parameters[$0]) != canonical(reference.parameters[$0]) }
      if !differing.isEmpty {
        let detail = differing.map { "\($0) \(canonical(reference.parameters[$0])) vs \(canonical(parameters[$0]))" }
        throw StoreError(
          path: file.path,
          message: "was run with other parameters than \(reference.file.path) (\(detail.joined(separator: "; "))): "
            + "only shards of one audit of one screen can be merged")
      }
    }
    return object
  }

  /// Refuses a source that contradicts what is merged so far, or that holds whole-screen results.
  private func checkAgreement(with file: URL) throws {
    let site = try db.query(
      "SELECT s.plate, s.well, s.site FROM src.sites s JOIN main.sites m ON m.plate = s.plate AND m.well = s.well "
        + "AND m.site = s.site WHERE m.covariates <> s.covariates LIMIT 1")
    if let row = site.first {
      throw StoreError(
        path: file.path,
        message: "site \(row[0].text ?? "")/\(row[1].text ?? "")/\(row[2].integer ?? 0) has other covariates than in "
          + "the stores before it: the stores are of different screens (or platemaps)")
    }
    let input = try db.query(
      "SELECT s.path FROM src.inputs s JOIN main.inputs m ON m.path = s.path WHERE m.sha256 <> s.sha256 LIMIT 1")
    if let row = input.first {
      throw StoreError(
        path: file.path,
        message: "input \(row[0].text ?? "") has other contents than in the stores before it: different screens, "
          + "or the file changed between the shards' runs")
    }
    let plugin = try db.query(
      "SELECT s.id, s.version, m.version FROM src.plugins s JOIN main.plugins m ON m.id = s.id "
        + "WHERE m.version <> s.version OR m.abi <> s.abi LIMIT 1")
    if let row = plugin.first {
      throw StoreError(
        path: file.path,
        message: "plugin \(row[0].text ?? "") is version \(row[1].text ?? "") here and \(row[2].text ?? "") in the "
          + "stores before it: run every shard with the same build")
    }
    // A unit whose key names no site or well of the store is a whole-screen result (an analysis).
    let analyses = try db.query(
      "SELECT DISTINCT stage FROM src.units WHERE key NOT IN "
        + "(SELECT plate || '/' || well || '/' || site FROM src.sites UNION SELECT plate || '/' || well FROM src.sites) "
        + "ORDER BY stage")
    if !analyses.isEmpty {
      let stages = analyses.compactMap { $0[0].text }.joined(separator: ", ")
      throw StoreError(
        path: file.path,
        message: "holds whole-screen results (stage \(stages)): merge stores of the per-site stages only (focus, "
          + "segment, embed); the analyses run once on the merged store")
    }
  }

  private func hasTable(_ name: String, in schema: String) throws -> Bool {
    try !db.query("SELECT 1 FROM \(schema).sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]).isEmpty
  }

  /// Copies the attached source's rows into this store (one transaction per source), remapping site ids.
  private func copyRows(from file: URL) throws {
    try db.execute(
      """
      INSERT INTO sites (plate, well, site, covariates) SELECT plate, well, site, covariates FROM src.sites
        WHERE true ORDER BY id ON CONFLICT (plate, well, site) DO NOTHING;
      DROP TABLE IF EXISTS temp.site_map;
      CREATE TEMP TABLE site_map (old INTEGER PRIMARY KEY, new INTEGER NOT NULL);
      INSERT INTO temp.site_map SELECT s.id, m.id FROM src.sites s JOIN main.sites m
        ON m.plate = s.plate AND m.well = s.well AND m.site = s.site;
      INSERT OR IGNORE INTO measurements (site_id, name, value)
        SELECT map.new, x.name, x.value FROM src.measurements x JOIN temp.site_map map ON map.old = x.site_id;
      INSERT OR IGNORE INTO objects (site_id, object, name, value)
        SELECT map.new, x.object, x.name, x.value FROM src.objects x JOIN temp.site_map map ON map.old = x.site_id;
      INSERT INTO units (stage, key, status, finished_at, message)
        SELECT stage, key, status, finished_at, message FROM src.units WHERE true
        ON CONFLICT (stage, key) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
          message = excluded.message WHERE units.status <> 'done' AND excluded.status = 'done';
      INSERT OR IGNORE INTO inputs (path, sha256, size) SELECT path, sha256, size FROM src.inputs;
      INSERT OR IGNORE INTO plugins (id, version, abi) SELECT id, version, abi FROM src.plugins;
      """)
    // Tables of newer schemas that hold the same facts in every shard of one audit (each measurement's role, the
    // design resolved on the whole screen): the first store's rows, where both stores have the table.
    for table in ["features", "design"] {
      guard try hasTable(table, in: "src"), try hasTable(table, in: "main") else { continue }
      try db.execute("INSERT OR IGNORE INTO main.\(table) SELECT * FROM src.\(table)")
    }
    let folder = file.deletingLastPathComponent()
    let arrays = try db.query(
      "SELECT name, path, shape, dtype FROM src.arrays WHERE name NOT IN (SELECT name FROM main.arrays) ORDER BY name")
    if !arrays.isEmpty { try FileManager.default.createDirectory(at: arraysFolder, withIntermediateDirectories: true) }
    let insert = try db.prepare("INSERT INTO arrays (name, path, shape, dtype) VALUES (?, ?, ?, ?)")
    for row in arrays {
      guard let name = row[0].text, let path = row[1].text else { continue }
      let source = path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
      let destination = arraysFolder.appendingPathComponent(source.lastPathComponent)
      guard FileManager.default.fileExists(atPath: source.path) else {
        throw StoreError(path: file.path, message: "array \(name) is recorded but its file \(source.path) is missing")
      }
      do { try FileManager.default.linkItem(at: source, to: destination) } catch {
        try FileManager.default.copyItem(at: source, to: destination)
      }
      try insert.bind([.text(name), .text(arraysFolder.lastPathComponent + "/" + destination.lastPathComponent),
                       row[2], row[3]])
      while try insert.step() {}
    }
  }
}

/// The first source's parameters with `out` pointing at the merged store, and without what only one shard meant.
private func mergedParameters(_ parameters: [String: Any], sources: [URL], out: URL) throws -> String {
  var merged = parameters.filter { !["resume", "stages", "plates", "shard", "workDoneToken"].contains($0.key) }
  merged["out"] = out.standardizedFileURL.path
  merged["mergedFrom"] = sources.map { $0.deletingLastPathComponent().path }
  let data = try JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys, .withoutEscapingSlashes])
  return String(decoding: data, as: UTF8.self)
}

/// A JSON value as sorted-key text, so equal parameters compare equal whatever their key order.
private func canonical(_ value: Any?) -> String {
  guard let value else { return "absent" }
  let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
  guard let data = try? JSONSerialization.data(withJSONObject: [value], options: options) else { return "\(value)" }
  // The value alone, without the brackets of the array it was wrapped in.
  return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
}
