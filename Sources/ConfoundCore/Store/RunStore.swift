import Foundation

/// One run's results in one SQLite file that notebooks open directly (`sqlite3.connect`, `pandas.read_sql`).
///
/// Tables: `run` (parameters JSON), `plugins`, `inputs` (SHA-256 of each input file), `sites` (plate, well,
/// site, covariates JSON), `units` (which units of work are finished), `measurements` (per site), `objects`
/// (per object), `arrays` (.npy files beside the database), `findings`.
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
    try db.execute(RunStore.schema)
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
    CREATE TABLE IF NOT EXISTS findings (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, covariate TEXT NOT NULL,
      measure TEXT NOT NULL, effect REAL, ci_low REAL, ci_high REAL, p_value REAL, verdict TEXT NOT NULL,
      plates TEXT NOT NULL);
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

  public func findings() throws -> [Finding] {
    let sql =
      "SELECT kind, covariate, measure, effect, ci_low, ci_high, p_value, verdict, plates FROM findings ORDER BY id"
    return try db.query(sql).map { r in
      Finding(
        kind: r[0].text!, covariate: r[1].text!, measure: r[2].text!, effect: r[3].real ?? .nan,
        ciLow: r[4].real ?? .nan, ciHigh: r[5].real ?? .nan, pValue: r[6].real ?? .nan, verdict: r[7].text!,
        plates: (try? JSONDecoder().decode([String].self, from: Data(r[8].text!.utf8))) ?? [])
    }
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

/// A result of the audit: an effect of a covariate on a measure, with its uncertainty and verdict (the fields of
/// the protocol's `AuditFinding`, so a finding round-trips through the store).
public struct Finding: Codable, Sendable, Equatable {
  public var kind: String
  public var covariate: String
  /// The measurement the effect is on (`ImageQuality_FocusScore_DNA`, `Count_Nuclei`, an embedding).
  public var measure: String
  public var effect: Double
  public var ciLow: Double
  public var ciHigh: Double
  public var pValue: Double
  public var verdict: String
  public var plates: [String]

  public init(
    kind: String, covariate: String, measure: String, effect: Double, ciLow: Double, ciHigh: Double, pValue: Double,
    verdict: String, plates: [String]
  ) {
    self.kind = kind
    self.covariate = covariate
    self.measure = measure
    self.effect = effect
    self.ciLow = ciLow
    self.ciHigh = ciHigh
    self.pValue = pValue
    self.verdict = verdict
    self.plates = plates
  }
}

/// Sorted-key JSON of string pairs, so equal covariates give equal text.
func json(_ object: some Encodable) -> String {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  return String(decoding: (try? encoder.encode(object)) ?? Data("{}".utf8), as: UTF8.self)
}
