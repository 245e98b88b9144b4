import Foundation

/// Builds a `Screen` from flat image records, collecting problems instead of stopping at the first.
///
/// Metadata fields land at the highest level where they are constant: a field with one value across a plate
/// becomes a plate covariate, one constant within each well a well covariate, otherwise a site covariate.
/// A plate's batch is its `batch` field (any case) when there is one.
public struct ScreenBuilder: Sendable {
  public private(set) var records: [ImageRecord] = []
  public private(set) var problems: [ScreenProblem] = []
  /// Forces a plate format instead of inferring the smallest one that fits the wells seen.
  public var format: PlateFormat?

  public init(format: PlateFormat? = nil) { self.format = format }

  public mutating func add(_ record: ImageRecord) { records.append(record) }
  public mutating func report(_ problem: ScreenProblem) { problems.append(problem) }

  /// The screen and every problem met while building it (bad well names, duplicate images, missing channels).
  public func build() -> (screen: Screen, problems: [ScreenProblem]) {
    var problems = self.problems
    var channels: [String] = []
    var byPlate: [String: [WellPosition: [Int: [ImageRecord]]]] = [:]
    var plateOrder: [String] = []
    for record in records {
      let position: WellPosition
      do { position = try WellPosition(parsing: record.well) } catch {
        problems.append(.init(.badWellName, at: record.origin, plate: record.plate, "\(error)"))
        continue
      }
      if !channels.contains(record.channel) { channels.append(record.channel) }
      if byPlate[record.plate] == nil { plateOrder.append(record.plate) }
      byPlate[record.plate, default: [:]][position, default: [:]][record.site, default: []].append(record)
    }
    var batches: [String: [Plate]] = [:]
    var batchOrder: [String] = []
    for name in plateOrder {
      let wells = byPlate[name]!
      // Channels are expected per plate: plates from different instruments may name them differently.
      let seen = Set(wells.values.flatMap { $0.values.flatMap { $0.map(\.channel) } })
      let plateChannels = channels.filter(seen.contains)
      let plate = makePlate(name: name, wells: wells, channels: plateChannels, problems: &problems)
      let batch = plate.covariates.first { $0.key.lowercased() == "batch" }?.value ?? ""
      if batches[batch] == nil { batchOrder.append(batch) }
      batches[batch, default: []].append(plate)
    }
    let screen = Screen(batches: batchOrder.map { Batch(name: $0, plates: batches[$0]!) }, channels: channels)
    return (screen, problems)
  }

  private func makePlate(
    name: String, wells: [WellPosition: [Int: [ImageRecord]]], channels: [String], problems: inout [ScreenProblem]
  ) -> Plate {
    // Screens rarely image every well, and 6- or 24-well plates are rare in high-content work: infer among
    // 96, 384 and 1536 (pass `format` for the others); a platemap join may still enlarge it.
    let format =
      self.format ?? PlateFormat.smallest(fitting: wells.keys, among: [.wells96, .wells384, .wells1536])
      ?? .wells1536
    let all = wells.values.flatMap { $0.values.flatMap { $0 } }
    let keys = Set(all.flatMap(\.metadata.keys))
    let plateKeys = keys.filter { k in Set(all.map { $0.metadata[k] ?? "" }).count == 1 }
    let wellKeys = keys.subtracting(plateKeys).filter { k in
      wells.values.allSatisfy { sites in Set(sites.values.flatMap { $0 }.map { $0.metadata[k] ?? "" }).count == 1 }
    }
    let pick = { (r: ImageRecord, ks: Set<String>) in r.metadata.filter { ks.contains($0.key) } }
    var plate = Plate(name: name, format: format, covariates: all.first.map { pick($0, plateKeys) } ?? [:])
    for position in wells.keys.sorted() {
      if !format.contains(position) {
        let origin = wells[position]!.values.first?.first?.origin
        problems.append(
          .init(.badWellName, at: origin, plate: name, well: position.name, "well lies outside a \(format) plate"))
        continue
      }
      var well = Well(position: position)
      for (number, images) in wells[position]!.sorted(by: { $0.key < $1.key }) {
        well.covariates = pick(images[0], wellKeys)
        var site = Site(number: number, covariates: pick(images[0], keys.subtracting(plateKeys).subtracting(wellKeys)))
        for image in images {
          if let first = site.images[image.channel] {
            problems.append(
              .init(
                .duplicateImage, at: image.origin, plate: name, well: position.name,
                "site \(number) channel \(image.channel) already has \(first.path); ignoring \(image.path)"))
            continue
          }
          site.images[image.channel] = ImageReference(path: image.path, origin: image.origin)
        }
        for channel in channels where site.images[channel] == nil {
          problems.append(
            .init(
              .missingChannel, at: images[0].origin, plate: name, well: position.name,
              "site \(number) has no image for channel \(channel)"))
        }
        well.sites.append(site)
      }
      plate.wells.append(well)
    }
    return plate
  }
}
