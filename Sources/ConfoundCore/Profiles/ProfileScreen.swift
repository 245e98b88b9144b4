import Foundation

extension ProfileTable {
  /// The table as a screen with no images: plates, wells and sites (the site column's number, or site 1 for
  /// each row at well level), each row's metadata as covariates at the highest level where it is constant (one
  /// value over a plate: plate covariate; within each well: well covariate; else site covariate), batches from
  /// the batch column when there is one (`DesignConventions.batches`, else one batch), and the plate format as
  /// the smallest of 96, 384, 1536 wells that holds the well names. Rows whose well name cannot be read are
  /// left out (`screenProblems` lists them).
  public func screen() -> Screen { build().screen }

  /// The rows `screen()` leaves out (bad well names, a site listed twice), each naming the source file.
  public var screenProblems: [ScreenProblem] { build().problems }

  func build() -> (screen: Screen, problems: [ScreenProblem]) {
    var problems: [ScreenProblem] = []
    var plateOrder: [String] = []
    var byPlate: [String: [WellPosition: [(site: Int, row: Int)]]] = [:]
    let origin = SourceLocation(file: source.path)
    for (r, row) in rows.enumerated() {
      let position: WellPosition
      do { position = try WellPosition(parsing: row.well) } catch {
        problems.append(.init(.badWellName, at: origin, plate: row.plate, "\(error)"))
        continue
      }
      if byPlate[row.plate] == nil { plateOrder.append(row.plate) }
      let site = row.site ?? (byPlate[row.plate]?[position]?.count ?? 0) + 1
      if byPlate[row.plate]?[position]?.contains(where: { $0.site == site }) == true {
        problems.append(
          .init(.badRow, at: origin, plate: row.plate, well: position.name, "site \(site) is listed twice; first kept"))
        continue
      }
      byPlate[row.plate, default: [:]][position, default: []].append((site, r))
    }
    let batchColumn = DesignConventions.batches.lazy.compactMap { StudyDesign.column(named: $0, in: metadataColumns) }
      .first
    var batches: [String: [Plate]] = [:]
    var batchOrder: [String] = []
    for name in plateOrder {
      let wells = byPlate[name]!
      let all = wells.values.flatMap { $0.map(\.row) }
      let keys = Set(all.flatMap { rows[$0].metadata.keys })
      let value = { (r: Int, k: String) in rows[r].metadata[k] ?? "" }
      let plateKeys = keys.filter { k in Set(all.map { value($0, k) }).count == 1 }
      let wellKeys = keys.subtracting(plateKeys).filter { k in
        wells.values.allSatisfy { sites in Set(sites.map { value($0.row, k) }).count == 1 }
      }
      let siteKeys = keys.subtracting(plateKeys).subtracting(wellKeys)
      let pick = { (r: Int, ks: Set<String>) in rows[r].metadata.filter { ks.contains($0.key) } }
      let format = PlateFormat.smallest(fitting: wells.keys, among: [.wells96, .wells384, .wells1536]) ?? .wells1536
      var plate = Plate(name: name, format: format, covariates: pick(all[0], plateKeys))
      for position in wells.keys.sorted() {
        let sites = wells[position]!.sorted { $0.site < $1.site }
        guard format.contains(position) else {
          problems.append(
            .init(.badWellName, at: origin, plate: name, well: position.name, "outside a \(format) plate"))
          continue
        }
        plate.wells.append(
          Well(
            position: position, covariates: pick(sites[0].row, wellKeys),
            sites: sites.map { Site(number: $0.site, covariates: pick($0.row, siteKeys)) }))
      }
      let batch = batchColumn.flatMap { plate.covariates[$0] } ?? ""
      if batches[batch] == nil { batchOrder.append(batch) }
      batches[batch, default: []].append(plate)
    }
    return (Screen(batches: batchOrder.map { Batch(name: $0, plates: batches[$0]!) }, channels: []), problems)
  }
}
