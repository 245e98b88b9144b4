import Foundation

/// One run's results in one SQLite file that notebooks open directly (`sqlite3.connect`, `pandas.read_sql`).
///
/// Tables: `run` (parameters JSON), `plugins`, `inputs` (SHA-256 of each input file), `sites` (plate, well,
/// site, covariates JSON), `units` (which units of work are finished), `measurements` (per site), `objects`
/// (per object), `arrays` (.npy files beside the database), `features` (each measurement's role and the plugin or
/// file it came from), `design` (the study design the audit used), `stages` (each stage's last run or the reason
/// it was skipped), `artifacts` (every figure, table and summary the audit wrote, with its stage and finding),
/// `findings` (one row per finding; its whole record as JSON in `record`).
///
/// Crash safety: the journal is WAL with `synchronous=NORMAL`, which keeps every committed transaction when the
/// process is killed (it only risks the last commits on power loss). A unit of work's results and its `units`
/// row are written in one transaction by `complete(stage:key:_:)`, so after `kill -9` a unit is either wholly
/// present and marked done, or absent and redone on resume; `isDone(stage:key:)` tells which.
public final class RunStore {
  public let url: URL
  let db: SQLiteDatabase

  /// Opens the store at `url`, creating it and its tables when absent.
  public init(url: URL) throws {
    self.url = url
    db = try SQLiteDatabase(path: url.path)
    try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
    try migrateFindings()
    try db.execute(RunStore.schema)
  }

  /// Stores written before findings had a metric, a baseline and units kept a `findings` table of another shape
  /// that nothing ever wrote: drop it, so the current one is created.
  private func migrateFindings() throws {
    let columns = try db.query("PRAGMA table_info(findings)").compactMap { $0[1].text }
    if !columns.isEmpty && !columns.contains("record") { try db.execute("DROP TABLE findings") }
  }

  static let schema = """
    CREATE TABLE IF NOT EXISTS run (id INTEGER PRIMARY KEY CHECK (id = 1), parameters TEXT NOT NULL,
      created TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS plugins (id TEXT PRIMARY KEY, version TEXT NOT NULL, abi INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS inputs (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS sites (id INTEGER PRIMARY KEY, plate TEXT NOT NULL, well TEXT NOT NULL,
      site INTEGER NOT NULL, covariates TEXT NOT NULL, UNIQUE (plate, well, site));
    CREATE TABLE IF NOT EXISTS units (stage TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL,
      finished_at TEXT NOT NULL, message TEXT, PRIMARY KEY (stage, key));
    CREATE TABLE IF NOT EXISTS measurements (site_id INTEGER NOT NULL REFERENCES sites(id), name TEXT NOT NULL,
      value REAL, PRIMARY KEY (site_id, name));
    CREATE TABLE IF NOT EXISTS objects (site_id INTEGER NOT NULL REFERENCES sites(id), object INTEGER NOT NULL,
      name TEXT NOT NULL, value REAL, PRIMARY KEY (site_id, object, name));
    CREATE TABLE IF NOT EXISTS arrays (name TEXT PRIMARY KEY, path TEXT NOT NULL, shape TEXT NOT NULL,
      dtype TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS features (name TEXT PRIMARY KEY, role TEXT NOT NULL, source TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS design (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS stages (name TEXT PRIMARY KEY, position INTEGER NOT NULL, status TEXT NOT NULL,
      reason TEXT, computed INTEGER NOT NULL, resumed INTEGER NOT NULL, failed INTEGER NOT NULL,
      failures TEXT NOT NULL, seconds REAL NOT NULL, finished_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS artifacts (name TEXT PRIMARY KEY, kind TEXT NOT NULL, path TEXT NOT NULL,
      stage TEXT NOT NULL, finding INTEGER, description TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS findings (id INTEGER PRIMARY KEY, stage TEXT NOT NULL, kind TEXT NOT NULL,
      covariate TEXT NOT NULL, measure TEXT NOT NULL, role TEXT NOT NULL, metric TEXT NOT NULL, value REAL,
      ci_low REAL, ci_high REAL, baseline REAL, p_value REAL, p_adjusted REAL, units TEXT NOT NULL,
      unit_count INTEGER NOT NULL, significant INTEGER NOT NULL, verdict TEXT NOT NULL, plates TEXT NOT NULL,
      record TEXT NOT NULL);
    """

  // MARK: run, plugins, inputs

  /// Records the run's parameters (a JSON object) the first time; later calls keep the original.
  public func recordRun(parametersJSON: String) throws {
    try db.run(
      "INSERT OR IGNORE INTO run (id, parameters, created) VALUES (1, ?, ?)",
      [.text(parametersJSON), .text(RunStore.timestamp())])
  }

  public func runParametersJSON() throws -> String? { try db.query("SELECT parameters FROM run").first?[0].text }

  public func recordPlugin(id: String, version: String, abi: Int) throws {
    try db.run(
      "INSERT OR REPLACE INTO plugins (id, version, abi) VALUES (?, ?, ?)",
      [.text(id), .text(version), .integer(Int64(abi))])
  }

  /// Hashes `file` and records it; returns the SHA-256 hex digest.
  @discardableResult
  public func recordInput(_ file: URL) throws -> String {
    let digest = try SHA256.hex(ofFile: file)
    let size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0
    try db.run(
      "INSERT OR REPLACE INTO inputs (path, sha256, size) VALUES (?, ?, ?)",
      [.text(file.path), .text(digest), .integer(size)])
    return digest
  }

  /// Path -> SHA-256 of every recorded input, to tell on resume whether an input changed.
  public func inputs() throws -> [String: String] {
    Dictionary(uniqueKeysWithValues: try db.query("SELECT path, sha256 FROM inputs").map { ($0[0].text!, $0[1].text!) })
  }

  // MARK: sites

  /// Registers every site of `screen` (with its plate, well and site covariates) in one transaction and returns
  /// the site ids; sites already present keep their id.
  @discardableResult
  public func registerSites(of screen: Screen) throws -> [SiteKey: Int64] {
    try db.transaction {
      let insert = try db.prepare(
        "INSERT INTO sites (plate, well, site, covariates) VALUES (?, ?, ?, ?) "
          + "ON CONFLICT (plate, well, site) DO UPDATE SET covariates = excluded.covariates")
      for (plate, well, site) in screen.sites {
        let covariates = Screen.covariates(plate: plate, well: well, site: site)
        try insert.bind([.text(plate.name), .text(well.name), .integer(Int64(site.number)), .text(json(covariates))])
        while try insert.step() {}
      }
    }
    return try siteIDs()
  }

  public func siteIDs() throws -> [SiteKey: Int64] {
    var ids: [SiteKey: Int64] = [:]
    for row in try db.query("SELECT id, plate, well, site FROM sites") {
      ids[SiteKey(plate: row[1].text!, well: row[2].text!, site: Int(row[3].integer!))] = row[0].integer!
    }
    return ids
  }

  // MARK: units of work

  public func isDone(stage: String, key: String) throws -> Bool {
    try db.query("SELECT 1 FROM units WHERE stage = ? AND key = ? AND status = 'done'", [.text(stage), .text(key)])
      .isEmpty == false
  }

  /// Keys of the finished units of `stage`.
  public func doneKeys(stage: String) throws -> Set<String> {
    Set(try db.query("SELECT key FROM units WHERE stage = ? AND status = 'done'", [.text(stage)]).map { $0[0].text! })
  }

  /// Runs `body`'s writes and marks the unit done, all in one transaction: if `body` throws or the process dies,
  /// none of its writes remain. Redoing a unit replaces its earlier values.
  public func complete(stage: String, key: String, _ body: (UnitWriter) throws -> Void) throws {
    try db.transaction {
      try body(UnitWriter(db: db))
      try markUnit(stage: stage, key: key, status: "done", message: nil)
    }
  }

  /// Marks a unit as failed (a corrupt image, say) with its reason, so the run reports it and moves on.
  /// `isDone` stays false: a resumed run tries the unit again (the file may have been fixed meanwhile).
  public func fail(stage: String, key: String, message: String) throws {
    try db.transaction { try markUnit(stage: stage, key: key, status: "failed", message: message) }
  }

  /// Failed units of `stage` with their messages.
  public func failures(stage: String) throws -> [String: String] {
    let rows = try db.query("SELECT key, message FROM units WHERE stage = ? AND status = 'failed'", [.text(stage)])
    return Dictionary(uniqueKeysWithValues: rows.map { ($0[0].text!, $0[1].text ?? "") })
  }

  private func markUnit(stage: String, key: String, status: String, message: String?) throws {
    try db.run(
      "INSERT OR REPLACE INTO units (stage, key, status, finished_at, message) VALUES (?, ?, ?, ?, ?)",
      [.text(stage), .text(key), .text(status), .text(RunStore.timestamp()), message.map { .text($0) } ?? .null])
  }

  // MARK: reading back

  /// Name -> value of every measurement of one site.
  public func measurements(siteID: Int64) throws -> [String: Double] {
    let rows = try db.query("SELECT name, value FROM measurements WHERE site_id = ?", [.integer(siteID)])
    return Dictionary(uniqueKeysWithValues: rows.map { ($0[0].text!, $0[1].real ?? .nan) })
  }

  /// Object number (1-based, as the segmenter numbered them) -> value of measurement `name` for one site.
  public func objectValues(siteID: Int64, name: String) throws -> [Int: Double] {
    let rows = try db.query(
      "SELECT object, value FROM objects WHERE site_id = ? AND name = ?", [.integer(siteID), .text(name)])
    return Dictionary(rows.map { (Int($0[0].integer!), $0[1].real ?? .nan) }, uniquingKeysWith: { a, _ in a })
  }

  static func timestamp() -> String { ISO8601DateFormatter().string(from: Date()) }
}

/// A site's identity in the store.
public struct SiteKey: Hashable, Sendable, Codable {
  public let plate: String
  public let well: String
  public let site: Int

  public init(plate: String, well: String, site: Int) {
    self.plate = plate
    self.well = well
    self.site = site
  }
}

/// Sorted-key JSON of string pairs, so equal covariates give equal text.
func json(_ object: some Encodable) -> String {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  return String(decoding: (try? encoder.encode(object)) ?? Data("{}".utf8), as: UTF8.self)
}
