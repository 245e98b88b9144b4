import Foundation

/// The per-well table of a run: one row per well with at least one finite site measurement, read from the run
/// store in one pass, with each measurement's role. Every analysis of the audit, the projections and
/// `store/export --level well` read this table, so there is one definition of a well's value:
///
/// **a well's value of a measurement is the mean of that measurement over the well's sites where it is finite**
/// (a site with no value or NaN is left out; a well with no finite value has none). A well's covariates are those
/// on which all its sites agree.
public struct WellTable: Sendable {
  /// One well.
  public struct Row: Sendable {
    public let plate: String
    public let batch: String
    public let position: WellPosition
    /// The well's name as the screen spells it (the key of its stored arrays).
    public let well: String
    public let covariates: [String: String]
    /// How many sites the well has in the store.
    public let sites: Int
    public var values: [String: Double]
    /// Mean cell embedding per embedding feature set.
    public var embeddings: [String: [Float]] = [:]

    /// `plate/well`: the well's identity as a unit of replication.
    public var key: String { plate + "/" + well }
  }

  public var rows: [Row]
  /// Measurement name -> role, from the `features` table (names it does not list: `FeatureRole.infer`, or other).
  public let roles: [String: FeatureRole]

  public init(rows: [Row], roles: [String: FeatureRole]) {
    self.rows = rows
    self.roles = roles
  }

  /// Reads the table from `store`.
  /// - Parameters:
  ///   - batches: plate -> batch name (plates missing from it get the empty batch).
  ///   - plates: only these plates (all when nil).
  public static func build(store: RunStore, batches: [String: String] = [:], plates: Set<String>? = nil) throws -> WellTable {
    let sites = try store.siteTable()
    let measurements = try store.allMeasurements()
    var order: [String] = []
    var members: [String: [(id: Int64, key: SiteKey, covariates: [String: String])]] = [:]
    for site in sites where plates?.contains(site.key.plate) ?? true {
      let key = site.key.plate + "/" + site.key.well
      if members[key] == nil { order.append(key) }
      members[key, default: []].append(site)
    }
    var rows: [Row] = []
    for key in order {
      let group = members[key]!
      let first = group[0].key
      guard let position = try? WellPosition(parsing: first.well) else { continue }
      var sums: [String: (Double, Int)] = [:]
      for site in group {
        for (name, value) in measurements[site.id] ?? [:] where value.isFinite {
          let (s, n) = sums[name] ?? (0, 0)
          sums[name] = (s + value, n + 1)
        }
      }
      guard !sums.isEmpty else { continue }
      var shared = group[0].covariates
      for site in group.dropFirst() { shared = shared.filter { site.covariates[$0.key] == $0.value } }
      rows.append(Row(plate: first.plate, batch: batches[first.plate] ?? "", position: position, well: first.well,
                      covariates: shared, sites: group.count, values: sums.mapValues { $0.0 / Double($0.1) }))
    }
    var roles = try store.featureRoles()
    for name in Set(rows.flatMap(\.values.keys)) where roles[name] == nil {
      roles[name] = FeatureRole.infer(cellProfilerName: name) ?? .other
    }
    return WellTable(rows: rows, roles: roles)
  }

  /// Attaches each well's stored array `name(plate, well)` as its embedding of `featureSet` (wells without one
  /// keep none).
  public mutating func attachEmbeddings(store: RunStore, featureSet: String,
                                        name: (_ plate: String, _ well: String) -> String) throws {
    let recorded = try store.arrayNames()
    for index in rows.indices {
      let array = name(rows[index].plate, rows[index].well)
      guard recorded.contains(array), let vector = try store.loadArray(name: array)?.floats() else { continue }
      rows[index].embeddings[featureSet] = vector
    }
  }

  /// The measurement names every one of `rows` has, sorted, whose role satisfies `role`.
  public func commonColumns(of rows: [Row], role: (FeatureRole) -> Bool) -> [String] {
    guard let first = rows.first else { return [] }
    let common = rows.dropFirst().reduce(Set(first.values.keys)) { $0.intersection($1.values.keys) }
    return common.filter { role(roles[$0] ?? .other) }.sorted()
  }

  /// The role of a measurement.
  public func role(_ name: String) -> FeatureRole { roles[name] ?? FeatureRole.infer(cellProfilerName: name) ?? .other }
}
