import Foundation

/// A finding as the store keeps it: the columns a notebook filters on, and the whole record as JSON.
public struct StoredFinding: Sendable, Equatable {
  public var stage: String
  public var kind: String
  public var covariate: String
  public var measure: String
  public var role: String
  public var metric: String
  public var value: Double
  public var ciLow: Double?
  public var ciHigh: Double?
  public var baseline: Double?
  public var pValue: Double?
  public var pAdjusted: Double?
  public var units: String
  public var unitCount: Int
  public var significant: Bool
  public var verdict: String
  public var plates: [String]
  /// The finding's full record (the protocol's `AuditFinding`) as JSON text.
  public var record: String

  public init(stage: String, kind: String, covariate: String, measure: String, role: String, metric: String,
              value: Double, ciLow: Double?, ciHigh: Double?, baseline: Double?, pValue: Double?, pAdjusted: Double?,
              units: String, unitCount: Int, significant: Bool, verdict: String, plates: [String], record: String) {
    self.stage = stage
    self.kind = kind
    self.covariate = covariate
    self.measure = measure
    self.role = role
    self.metric = metric
    self.value = value
    self.ciLow = ciLow
    self.ciHigh = ciHigh
    self.baseline = baseline
    self.pValue = pValue
    self.pAdjusted = pAdjusted
    self.units = units
    self.unitCount = unitCount
    self.significant = significant
    self.verdict = verdict
    self.plates = plates
    self.record = record
  }
}

/// A stage's last run as the store keeps it.
public struct StoredStage: Sendable, Equatable {
  public var name: String
  /// `done`, `skipped` or `failed`.
  public var status: String
  public var reason: String?
  public var computed: Int
  public var resumed: Int
  public var failed: Int
  public var failures: [String]
  public var seconds: Double

  public init(name: String, status: String, reason: String? = nil, computed: Int = 0, resumed: Int = 0,
              failed: Int = 0, failures: [String] = [], seconds: Double = 0) {
    self.name = name
    self.status = status
    self.reason = reason
    self.computed = computed
    self.resumed = resumed
    self.failed = failed
    self.failures = failures
    self.seconds = seconds
  }
}

/// A file the audit wrote (figure, table, summary), registered so a report can be rebuilt from the store alone.
public struct Artifact: Sendable, Equatable {
  public var name: String
  /// `figure`, `table`, `summary`, `report`.
  public var kind: String
  /// Relative to the run folder (the folder holding run.sqlite).
  public var path: String
  public var stage: String
  /// The id of the finding it supports, if any.
  public var finding: Int64?
  public var description: String

  public init(name: String, kind: String, path: String, stage: String, finding: Int64? = nil, description: String) {
    self.name = name
    self.kind = kind
    self.path = path
    self.stage = stage
    self.finding = finding
    self.description = description
  }
}

extension RunStore {
  // MARK: features

  /// Records the role of each measurement name (first writer wins: a name keeps the role it was stored with).
  public func recordFeatures(_ roles: [String: FeatureRole], source: String) throws {
    try db.transaction {
      let insert = try db.prepare("INSERT OR IGNORE INTO features (name, role, source) VALUES (?, ?, ?)")
      for (name, role) in roles.sorted(by: { $0.key < $1.key }) {
        try insert.bind([.text(name), .text(role.rawValue), .text(source)])
        while try insert.step() {}
      }
    }
  }

  /// Measurement name -> role, for every name recorded.
  public func featureRoles() throws -> [String: FeatureRole] {
    var roles: [String: FeatureRole] = [:]
    for row in try db.query("SELECT name, role FROM features") {
      roles[row[0].text!] = FeatureRole(rawValue: row[1].text!) ?? .other
    }
    return roles
  }

  // MARK: design

  public func recordDesign(json: String) throws {
    try db.run("INSERT OR REPLACE INTO design (id, record) VALUES (1, ?)", [.text(json)])
  }

  public func designJSON() throws -> String? { try db.query("SELECT record FROM design").first?[0].text }

  // MARK: stages

  /// Records a stage's run (replacing its earlier record); `position` keeps the audit's order.
  public func recordStage(_ stage: StoredStage, position: Int) throws {
    try db.run(
      "INSERT OR REPLACE INTO stages (name, position, status, reason, computed, resumed, failed, failures, seconds, "
        + "finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [.text(stage.name), .integer(Int64(position)), .text(stage.status), stage.reason.map { .text($0) } ?? .null,
       .integer(Int64(stage.computed)), .integer(Int64(stage.resumed)), .integer(Int64(stage.failed)),
       .text(json(stage.failures)), .real(stage.seconds), .text(RunStore.timestamp())])
  }

  /// Every recorded stage in the audit's order.
  public func stages() throws -> [StoredStage] {
    try db.query("SELECT name, status, reason, computed, resumed, failed, failures, seconds FROM stages ORDER BY position")
      .map { r in
        StoredStage(name: r[0].text!, status: r[1].text!, reason: r[2].text, computed: Int(r[3].integer ?? 0),
                    resumed: Int(r[4].integer ?? 0), failed: Int(r[5].integer ?? 0),
                    failures: (try? JSONDecoder().decode([String].self, from: Data((r[6].text ?? "[]").utf8))) ?? [],
                    seconds: r[7].real ?? 0)
      }
  }

  // MARK: artifacts

  public func recordArtifact(_ artifact: Artifact) throws {
    try db.run(
      "INSERT OR REPLACE INTO artifacts (name, kind, path, stage, finding, description) VALUES (?, ?, ?, ?, ?, ?)",
      [.text(artifact.name), .text(artifact.kind), .text(artifact.path), .text(artifact.stage),
       artifact.finding.map { .integer($0) } ?? .null, .text(artifact.description)])
  }

  public func artifacts() throws -> [Artifact] {
    try db.query("SELECT name, kind, path, stage, finding, description FROM artifacts ORDER BY stage, name").map { r in
      Artifact(name: r[0].text!, kind: r[1].text!, path: r[2].text!, stage: r[3].text!, finding: r[4].integer,
               description: r[5].text ?? "")
    }
  }

  // MARK: findings

  /// Replaces every finding with `findings`, in one transaction; returns their ids in order.
  @discardableResult
  public func replaceFindings(_ findings: [StoredFinding]) throws -> [Int64] {
    try db.transaction {
      try db.run("DELETE FROM findings")
      var ids: [Int64] = []
      for (index, f) in findings.enumerated() {
        let id = Int64(index + 1)
        let optional = { (x: Double?) -> SQLiteValue in x.map { $0.isFinite ? .real($0) : .null } ?? .null }
        try db.run(
          "INSERT INTO findings (id, stage, kind, covariate, measure, role, metric, value, ci_low, ci_high, baseline, "
            + "p_value, p_adjusted, units, unit_count, significant, verdict, plates, record) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          [.integer(id), .text(f.stage), .text(f.kind), .text(f.covariate), .text(f.measure), .text(f.role),
           .text(f.metric), optional(f.value), optional(f.ciLow), optional(f.ciHigh), optional(f.baseline),
           optional(f.pValue), optional(f.pAdjusted), .text(f.units), .integer(Int64(f.unitCount)),
           .integer(f.significant ? 1 : 0), .text(f.verdict), .text(json(f.plates)), .text(f.record)])
        ids.append(id)
      }
      return ids
    }
  }

  /// The full records (JSON text) of every finding, in order.
  public func findingRecords() throws -> [String] {
    try db.query("SELECT record FROM findings ORDER BY id").map { $0[0].text! }
  }

  /// How many findings the store holds.
  public func findingCount() throws -> Int {
    Int(try db.query("SELECT COUNT(*) FROM findings").first?[0].integer ?? 0)
  }

  // MARK: whole-table reads

  /// Every stored measurement, one pass over the table: site id -> name -> value (NULL read as NaN).
  public func allMeasurements() throws -> [Int64: [String: Double]] {
    var result: [Int64: [String: Double]] = [:]
    let statement = try db.prepare("SELECT site_id, name, value FROM measurements")
    while try statement.step() {
      let row = statement.row()
      result[row[0].integer!, default: [:]][row[1].text!] = row[2].real ?? .nan
    }
    return result
  }

  /// How many measurements each stage's done units left, to tell a store whose data went missing from one
  /// whose units are all done: site id -> count of stored measurements.
  public func measurementCounts() throws -> [Int64: Int] {
    var counts: [Int64: Int] = [:]
    for row in try db.query("SELECT site_id, COUNT(*) FROM measurements GROUP BY site_id") {
      counts[row[0].integer!] = Int(row[1].integer!)
    }
    return counts
  }

  /// Marks units of a stage as not done (their data is missing), so the stage redoes them.
  public func forget(stage: String, keys: [String]) throws {
    try db.transaction {
      for key in keys { try db.run("DELETE FROM units WHERE stage = ? AND key = ?", [.text(stage), .text(key)]) }
    }
  }

  /// Names of every recorded array.
  public func arrayNames() throws -> Set<String> {
    Set(try db.query("SELECT name FROM arrays").map { $0[0].text! })
  }
}

extension RunStore {
  /// Ids of the sites holding at least one measurement whose name starts with `prefix`.
  public func sitesWithMeasurement(prefix: String) throws -> Set<Int64> {
    Set(try db.query("SELECT DISTINCT site_id FROM measurements WHERE substr(name, 1, ?) = ?",
                     [.integer(Int64(prefix.count)), .text(prefix)]).map { $0[0].integer! })
  }
}
