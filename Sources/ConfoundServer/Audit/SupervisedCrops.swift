import ConfoundCore
import ConfoundImaging
import Foundation
import Segmentation

/// The cell crops the supervised CNN trains on: those the embed stage embedded (at most `EmbedStage.cropsPerSite`
/// per site, evenly spaced), of the wells `wells`, with their segmentation masks cut from the site's label image at
/// the same windows (the segmenter's centres and crop rule), so that a map's pixels can be split into cell and
/// background.
struct SupervisedCrops {
  var values: [Float] = []
  /// [count, channels, side, side] once filled.
  var shape: [Int] = [0, 0, 0, 0]
  /// 1 on any cell's pixels, 0 on background; nil when a site's masks could not be matched to its crops.
  var masks: [Float]? = []
  var wells: [WellTable.Row] = []
  var sites: [String] = []

  init(_ audit: Audit, wells rows: [WellTable.Row], limit: Int) throws {
    let store = audit.store
    let byWell = Dictionary(rows.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
    let keys = try store.doneKeys(stage: EmbedStage.name).sorted()
    var chosen = keys.filter { byWell[Self.well(of: $0)] != nil }
    // Sites spread evenly when there are more crops than the limit allows.
    let perSite = EmbedStage.cropsPerSite
    if chosen.count * perSite > limit { chosen = (0..<(limit / perSite)).map { chosen[$0 * chosen.count / (limit / perSite)] } }
    for key in chosen {
      try audit.context.checkCancellation()
      guard let rows = try store.loadArray(name: SegmentStage.arrayName("embeddings_crops", key: key))?.floats(),
        let crops = try store.loadArray(name: SegmentStage.arrayName("crops", key: key)), crops.shape.count == 4,
        !rows.isEmpty
      else { continue }
      let (c, side) = (crops.shape[1], crops.shape[2])
      let plane = c * side * side
      let all = crops.floats()
      let picked = rows.map { Int($0) }.filter { $0 >= 0 && $0 < crops.shape[0] }
      for r in picked { values += all[(r * plane)..<((r + 1) * plane)] }
      shape = [shape[0] + picked.count, c, side, side]
      wells += picked.map { _ in byWell[Self.well(of: key)]! }
      sites += picked.map { _ in key }
      if masks != nil, let mask = try Self.masks(store, siteIDs: audit.siteIDs, key: key, count: crops.shape[0], side: side) {
        for r in picked { masks! += mask[(r * side * side)..<((r + 1) * side * side)] }
      } else {
        masks = nil
      }
    }
  }

  static func well(of key: String) -> String { key.split(separator: "/").dropLast().joined(separator: "/") }

  /// The site's label image cut at its crops' windows (1 where any cell is), or nil when the windows cannot be
  /// matched one to one with the stored crops.
  static func masks(_ store: RunStore, siteIDs: [SiteKey: Int64], key: String, count: Int, side: Int) throws -> [Float]? {
    let parts = key.split(separator: "/")
    guard parts.count == 3, let number = Int(parts[2]),
      let site = siteIDs[SiteKey(plate: String(parts[0]), well: String(parts[1]), site: number)]
    else { return nil }
    let file = store.arraysFolder.appendingPathComponent(SegmentStage.arrayName("labels", key: key) + ".tif")
    guard let labels = try? readTIFF(file) else { return nil }
    let xs = try store.objectValues(siteID: site, name: "Location_Center_X")
    let ys = try store.objectValues(siteID: site, name: "Location_Center_Y")
    let objects = xs.keys.sorted()
    guard objects == (1...max(1, objects.count)).map({ $0 }) || objects.isEmpty else { return nil }
    let centres = objects.compactMap { o in ys[o].map { (x: xs[o]!, y: $0) } }
    let plane = labels.pixels.prefix(labels.width * labels.height).map { $0 > 0 ? Float(1) : 0 }
    let batch = CellCrops.extract(planes: [Array(plane)], width: labels.width, height: labels.height, centres: centres,
                                  size: side, edge: .skip)
    return batch.count == count ? batch.values : nil
  }
}
