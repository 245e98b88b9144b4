import Foundation

extension ProfileTable {
  /// The table at well level: each well's value of a feature is the mean of its sites' values, NaN skipped (NaN
  /// when no site has one), the same mean the SQLite reader takes over a well's objects. Metadata constant over
  /// a well's sites stays; metadata that varies (position, time) is dropped. A well-level table is returned as is.
  public func aggregatedToWells() -> ProfileTable {
    guard level == .site else { return self }
    var order: [String] = []
    var groups: [String: [Int]] = [:]
    for (r, row) in rows.enumerated() {
      let key = "\(row.plate)\u{1F}\(row.well)"
      if groups[key] == nil { order.append(key) }
      groups[key, default: []].append(r)
    }
    let wells = order.map { key -> ProfileRow in
      let members = groups[key]!.map { rows[$0] }
      var sums = [Double](repeating: 0, count: features.count)
      var counts = [Int](repeating: 0, count: features.count)
      for member in members {
        for (f, v) in member.values.enumerated() where !v.isNaN {
          sums[f] += v
          counts[f] += 1
        }
      }
      let metadata = members.dropFirst().reduce(members[0].metadata) { kept, member in
        kept.filter { member.metadata[$0.key] == $0.value }
      }
      return ProfileRow(
        plate: members[0].plate, well: members[0].well, site: nil, metadata: metadata,
        values: zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan })
    }
    let (kept, wellRows) = ProfileRow.keepingWellMetadata(wells, columns: metadataColumns)
    return ProfileTable(
      level: .well, source: source, format: format, metadataColumns: kept, features: features, roles: roles,
      rows: wellRows)
  }
}

extension ProfileRow {
  /// Well rows whose metadata was cut to what is constant over each well's sites, cut further to the columns
  /// every well kept: a column that varies within one well (a site's position, time) describes no well.
  static func keepingWellMetadata(_ rows: [ProfileRow], columns: [String]) -> (columns: [String], rows: [ProfileRow]) {
    let kept = columns.filter { name in rows.allSatisfy { $0.metadata[name] != nil } }
    let keep = Set(kept)
    return (
      kept,
      rows.map { row in
        var row = row
        row.metadata = row.metadata.filter { keep.contains($0.key) }
        return row
      }
    )
  }
}
