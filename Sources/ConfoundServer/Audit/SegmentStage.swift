import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

/// The segment stage: every site through the default segmenter plugin. Per site (one unit of work): the site
/// features as measurements (`Count_Nuclei`, `ImageStats_...`), one `objects` row per nucleus with the plugin's
/// columns, the crops as `crops_<plate>_<well>_s<site>.npy` and the label mask as `labels_<plate>_<well>_s<site>.tif`
/// (Deflate TIFF, 16-bit when the count fits, else 32-bit; recorded in `arrays` with dtype `tiff-uint16` or
/// `tiff-uint32`, so not readable by `loadArray`) in the store's arrays folder. The measurements' roles come from
/// the plugin's manifest. Skipped, with the reason, when no segmenter plugin is loaded or the input has no pixels.
struct SegmentStage: AuditStage {
  static let name = "segment"
  static let needs: Set<AuditResource> = [.pixels]
  static let produces: Set<AuditResource> = [.density, .crops, .features]
  /// Crop side for the audit when the plugin takes `crop_size`: 32 px holds a simulated cell (nucleus radius
  /// 8 px, cytoplasm about twice that) and keeps a default audit's crops near 100 MB instead of 400 MB at 64.
  static let cropSize: Int64 = 32

  func skipReason(_ audit: Audit) -> String? {
    if audit.input.profiles != nil { return "the input is a profiles table with no pixels" }
    return audit.plugin(of: .segmenter) == nil ? "no segmenter plugin is loaded" : nil
  }

  func run(_ audit: Audit) throws -> StageCounts {
    let plugin = audit.plugin(of: .segmenter)!
    let screen = audit.screen
    let store = audit.store
    let counted = try store.sitesWithMeasurement(prefix: "Count_")
    let units = try SiteUnits(stage: Self.name, audit: audit) { key in audit.siteIDs[key].map(counted.contains) ?? false }
    let scratch = audit.out.appendingPathComponent("segment-scratch")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let parameters: JSONObject? = plugin.manifest.parameters.contains { $0.name == "crop_size" }
      ? ["crop_size": .int(Self.cropSize)] : nil
    var roles: [String: FeatureRole] = [:]
    let counts = units.run { item, key, lock in
      let (plate, well, site) = item
      let request = PluginsRunRequest.Params(
        plugin: plugin.manifest.id, kind: .segmenter, parameters: parameters,
        context: ["channels": .array(screen.channels.map(JSONValue.string)), "plate": .string(plate.name),
                  "well": .string(well.name), "site": .int(Int64(site.number))],
        inputs: [InputRef(name: "image", files: screen.channels.compactMap { site.images[$0]?.path })],
        outputDir: scratch.path)
      let response = try audit.runPlugin(request)
      defer { response.outputs.forEach { try? FileManager.default.removeItem(atPath: $0.path) } }
      let siteID = audit.siteIDs[SiteUnits.siteKey(item)]!
      let objects = try Self.objectRows(response)
      let cropName = Self.arrayName("crops", key: key)
      // The mask file is written before the unit; a crash leaves it unrecorded and the redone unit rewrites it.
      let maskName = Self.arrayName("labels", key: key)
      try FileManager.default.createDirectory(at: store.arraysFolder, withIntermediateDirectories: true)
      let mask = try SegmentMasks.write(labels: response.outputs,
                                        to: store.arraysFolder.appendingPathComponent(maskName + ".tif"))
      lock.lock()
      defer { lock.unlock() }
      try store.complete(stage: Self.name, key: key) { writer in
        for (name, value) in response.result["site_features"]?.objectValue ?? JSONObject() {
          try writer.measure(site: siteID, name, value.doubleValue ?? .nan)
          if roles[name] == nil {
            roles[name] = plugin.manifest.role(ofMeasure: name) ?? FeatureRole.infer(cellProfilerName: name) ?? .other
          }
        }
        for (object, row) in objects.rows.enumerated() {
          for (name, value) in zip(objects.columns, row) {
            try writer.measure(site: siteID, object: object + 1, name, value)
          }
        }
        if let crops = response.outputs.first(where: { $0.name == "crops" }) {
          try keep(crops, as: cropName, in: writer, store: store)
        }
        try writer.recordArray(name: maskName, path: store.arraysFolder.lastPathComponent + "/" + maskName + ".tif",
                               shape: mask.shape, dtype: "tiff-" + mask.sampleType)
      }
    }
    try audit.context.checkCancellation()
    try store.recordFeatures(roles, source: plugin.manifest.id)
    try store.recordPlugin(id: plugin.manifest.id, version: plugin.manifest.version, abi: plugin.manifest.abiVersion)
    return counts
  }

  /// The `objects` output (float64 [n, k]) as rows, with the column names from the result.
  static func objectRows(_ response: PluginsRunRequest.Response) throws -> (columns: [String], rows: [[Double]]) {
    let columns = response.result["columns"]?.arrayValue?.compactMap(\.stringValue) ?? []
    guard let ref = response.outputs.first(where: { $0.name == "objects" }), ref.shape.count == 2,
      ref.shape[1] == columns.count, ref.shape[0] > 0
    else { return (columns, []) }
    let values = try NPYArray.read(URL(fileURLWithPath: ref.path)).doubles()
    let k = columns.count
    return (columns, (0..<ref.shape[0]).map { Array(values[$0 * k..<($0 + 1) * k]) })
  }

  /// Moves an output .npy into the store's arrays folder under `name` and records it with the unit; a redone
  /// unit overwrites the file, so a crash leaves no stray array recorded.
  private func keep(_ ref: TensorRef, as name: String, in writer: UnitWriter, store: RunStore) throws {
    try FileManager.default.createDirectory(at: store.arraysFolder, withIntermediateDirectories: true)
    let file = store.arraysFolder.appendingPathComponent(name + ".npy")
    try? FileManager.default.removeItem(at: file)
    try FileManager.default.moveItem(at: URL(fileURLWithPath: ref.path), to: file)
    try writer.recordArray(name: name, path: store.arraysFolder.lastPathComponent + "/" + file.lastPathComponent,
                           shape: ref.shape, dtype: ref.dtype)
  }

  /// `crops_<plate>_<well>_s<site>` with every character outside [A-Za-z0-9_-] replaced by `_`.
  static func arrayName(_ prefix: String, key: String) -> String {
    let parts = key.split(separator: "/")
    let plain = parts.dropLast().joined(separator: "_") + "_s" + (parts.last.map(String.init) ?? "")
    return prefix + "_" + String(plain.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" })
  }
}
