import Foundation

/// Whole-table reads of the run store, for the report: each row as a plain value, in a fixed order (so two reads
/// of one store give equal lists).
extension RunStore {
  /// The run's parameters (JSON text) and when the run was first recorded.
  public func runRecord() throws -> (parameters: String, created: String)? {
    try db.query("SELECT parameters, created FROM run").first.map { ($0[0].text ?? "{}", $0[1].text ?? "") }
  }

  /// A plugin the run used.
  public struct PluginRecord: Sendable, Equatable {
    public let id: String
    public let version: String
    public let abi: Int
  }

  public func pluginRecords() throws -> [PluginRecord] {
    try db.query("SELECT id, version, abi FROM plugins ORDER BY id").map {
      PluginRecord(id: $0[0].text ?? "", version: $0[1].text ?? "", abi: Int($0[2].integer ?? 0))
    }
  }

  /// An input file with its SHA-256 and size in bytes.
  public struct InputRecord: Sendable, Equatable {
    public let path: String
    public let sha256: String
    public let size: Int64
  }

  public func inputRecords() throws -> [InputRecord] {
    try db.query("SELECT path, sha256, size FROM inputs ORDER BY path").map {
      InputRecord(path: $0[0].text ?? "", sha256: $0[1].text ?? "", size: $0[2].integer ?? 0)
    }
  }

  /// A registered site with its covariates (plate, well and site level, as `registerSites` stored them).
  public struct SiteRecord: Sendable, Equatable {
    public let id: Int64
    public let key: SiteKey
    public let covariates: [String: String]
  }

  public func siteRecords() throws -> [SiteRecord] {
    try db.query("SELECT id, plate, well, site, covariates FROM sites ORDER BY id").map { r in
      let covariates = (try? JSONDecoder().decode([String: String].self, from: Data((r[4].text ?? "{}").utf8))) ?? [:]
      return SiteRecord(id: r[0].integer ?? 0,
                        key: SiteKey(plate: r[1].text ?? "", well: r[2].text ?? "", site: Int(r[3].integer ?? 0)),
                        covariates: covariates)
    }
  }

  /// A unit of work: done or failed, with the failure's message.
  public struct UnitRecord: Sendable, Equatable {
    public let stage: String
    public let key: String
    public let status: String
    public let finishedAt: String
    public let message: String?
  }

  public func unitRecords() throws -> [UnitRecord] {
    try db.query("SELECT stage, key, status, finished_at, message FROM units ORDER BY stage, key").map {
      UnitRecord(stage: $0[0].text ?? "", key: $0[1].text ?? "", status: $0[2].text ?? "",
                 finishedAt: $0[3].text ?? "", message: $0[4].text)
    }
  }

  /// Names of the recorded arrays, sorted.
  public func sortedArrayNames() throws -> [String] { try arrayNames().sorted() }
}
