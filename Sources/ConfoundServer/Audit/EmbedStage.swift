import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

/// The embed stage: the segmenter's cell crops, read from the run store, through the default embedder plugin
/// (EfficientNet-Lite0 from the model cache unless the plugin is told otherwise), then the same crops through the
/// same architecture with seeded random weights, the untrained baseline of image-based profiling.
///
/// Policy, chosen to keep a default audit within about a minute of embedding on two cores: at most
/// `cropsPerSite` crops per site (evenly spaced over the site's crops, so not biased to one corner), every channel
/// embedded on its own and the vectors concatenated (`channel_mode` each), each crop percentile-normalised and
/// resized from the segmenter's 32 px to `inputSize` = 64 px, where the network runs (its global pool makes the
/// embedding size independent of the input size; upsampling 32 px crops to 224 would cost 12x more for no new
/// pixels). One plugin call per site: its crops go in as one batch, by reference to a .npy file, never as JSON.
///
/// Per site (one unit of work, resumable): `<prefix>_<plate>_<well>_s<site>` float32 [cells, D] (one row per
/// embedded cell), `<prefix>_crops_...` [cells] (the rows of the site's crops array they came from) and
/// `<prefix>_site_...` [1, D] (their mean). Per well (one unit of stage `<stage>-well` once its sites are done):
/// `<prefix>_well_<plate>_<well>` [1, D], the mean over all the well's embedded cells. A missing model or a
/// plugin that cannot run stops the stage with its message in the summary; the audit goes on, and `resume` runs
/// the stage again.
struct EmbedStage: AuditStage {
  static let name = "embed"
  static let needs: Set<AuditResource> = [.crops]
  static let produces: Set<AuditResource> = [.embeddings]
  static let cropsPerSite = 4
  static let inputSize = 64

  /// One embedding of the crops: its stage name, array prefix and plugin parameters.
  struct Variant {
    let stage: String
    let prefix: String
    let featureSet: String
    let parameters: JSONObject
  }

  static let variants = [
    Variant(stage: "embed", prefix: "embeddings", featureSet: "embeddings", parameters: [:]),
    Variant(stage: "embed-random", prefix: "random_embeddings", featureSet: "random-weights embeddings",
            parameters: ["random_weights": true, "seed": 1]),
  ]

  func skipReason(_ audit: Audit) -> String? {
    if audit.input.profiles != nil { return "the input is a profiles table with no pixels" }
    if audit.plugin(of: .embedder) == nil { return "no embedder plugin is loaded" }
    if ((try? audit.store.doneKeys(stage: SegmentStage.name)) ?? []).isEmpty { return "no site has cell crops from the segment stage" }
    return nil
  }

  /// Runs every variant; a variant that cannot run at all (no model, a plugin that fails) stops the stage with its
  /// message and the audit goes on.
  func run(_ audit: Audit) throws -> StageCounts {
    let plugin = audit.plugin(of: .embedder)!
    var total = StageCounts()
    for variant in Self.variants {
      let counts = try run(audit, plugin: plugin, variant: variant)
      total.computed += counts.computed
      total.resumed += counts.resumed
      total.failed += counts.failed
      total.failures += counts.failures
      try audit.context.checkCancellation()
      // A stage stopped wholesale (missing model, plugin that cannot run) fails the next variant alike.
      if counts.computed == 0 && counts.failed > 0 && counts.resumed == 0 { break }
    }
    try audit.store.recordFeatures(Dictionary(uniqueKeysWithValues: Self.variants.map { ($0.featureSet, FeatureRole.embedding) }),
                                   source: plugin.manifest.id)
    return total
  }

  func run(_ audit: Audit, plugin: PluginInfo, variant: Variant) throws -> StageCounts {
    let store = audit.store
    let segmented = try store.doneKeys(stage: SegmentStage.name)
    let units = try SiteUnits(stage: variant.stage, audit: audit, ready: segmented.contains)
    let todo = units.todo
    let scratch = audit.out.appendingPathComponent("embed-scratch")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    var parameters = variant.parameters
    parameters["input_size"] = .int(Int64(Self.inputSize))
    parameters["channel_mode"] = "each"
    parameters["intensity"] = "percentile"
    var computed = 0
    // The first site runs alone: when it cannot run (no model, bad plugin) every site would fail alike.
    if let first = todo.first {
      do {
        try embed(audit, site: first, plugin: plugin, variant: variant, parameters: parameters, scratch: scratch)
        computed += 1
      } catch let error as ResponseError where error.code == .requestCancelled {
        throw error
      } catch {
        let message = "\(variant.stage) stopped, no site embedded: \((error as? ResponseError)?.message ?? "\(error)")"
        audit.context.log(.warning, message)
        return StageCounts(computed: 0, resumed: units.done.count, failed: todo.count, failures: [message])
      }
    }
    var counts = units.run(Array(todo.dropFirst())) { site, _, lock in
      try embed(audit, site: site, plugin: plugin, variant: variant, parameters: parameters, scratch: scratch, lock: lock)
    }
    try audit.context.checkCancellation()
    counts.computed += computed + (try aggregateWells(audit, variant))
    try store.recordPlugin(id: plugin.manifest.id, version: plugin.manifest.version, abi: plugin.manifest.abiVersion)
    return counts
  }

  /// Embeds one site's crops (a subset of at most `cropsPerSite`) and stores its unit; a site whose segment unit
  /// stored no crops, or an empty crops array, completes with no arrays.
  private func embed(_ audit: Audit, site item: ScreenSite, plugin: PluginInfo, variant: Variant,
                     parameters: JSONObject, scratch: URL, lock: NSLock = NSLock()) throws {
    let store = audit.store
    let screen = audit.screen
    let key = SiteUnits.key(item)
    let cropsFile = store.arraysFolder.appendingPathComponent(SegmentStage.arrayName("crops", key: key) + ".npy")
    let (input, rows) = FileManager.default.fileExists(atPath: cropsFile.path)
      ? try Self.subset(cropsFile, limit: Self.cropsPerSite, scratch: scratch, key: key) : (cropsFile, [])
    defer { if input != cropsFile { try? FileManager.default.removeItem(at: input) } }
    guard !rows.isEmpty else {
      // No nucleus (or none far enough from the edge): the site is done, with nothing to store.
      lock.lock()
      defer { lock.unlock() }
      try store.complete(stage: variant.stage, key: key) { _ in }
      return
    }
    let request = PluginsRunRequest.Params(
      plugin: plugin.manifest.id, kind: .embedder, parameters: parameters,
      context: ["channels": .array(screen.channels.map(JSONValue.string)), "plate": .string(item.plate.name),
                "well": .string(item.well.name), "site": .int(Int64(item.site.number))],
      inputs: [InputRef(name: "crops", npy: input.path)], outputDir: scratch.path)
    let response = try audit.runPlugin(request)
    defer { response.outputs.forEach { try? FileManager.default.removeItem(atPath: $0.path) } }
    guard let ref = response.outputs.first(where: { $0.name == "embeddings" }), ref.shape.count == 2,
      ref.shape[0] == rows.count, ref.shape[1] > 0
    else {
      throw ResponseError(.pluginError, "the embedder returned no \"embeddings\" [\(rows.count), D] output")
    }
    let cells = try NPYArray.read(URL(fileURLWithPath: ref.path)).floats()
    let dimension = ref.shape[1]
    lock.lock()
    defer { lock.unlock() }
    try store.complete(stage: variant.stage, key: key) { writer in
      try store.saveArray(cells, shape: ref.shape, name: SegmentStage.arrayName(variant.prefix, key: key), in: writer)
      try store.saveArray(rows.map(Float.init), shape: [rows.count],
                          name: SegmentStage.arrayName(variant.prefix + "_crops", key: key), in: writer)
      try store.saveArray(Self.columnMeans(cells, dimension: dimension), shape: [1, dimension],
                          name: SegmentStage.arrayName(variant.prefix + "_site", key: key), in: writer)
    }
  }

  /// The crops file itself when it holds at most `limit` crops, else rows round(i * n / limit) written to scratch.
  static func subset(_ file: URL, limit: Int, scratch: URL, key: String) throws -> (URL, [Int]) {
    let crops = try NPYArray.read(file)
    guard crops.shape.count == 4, crops.dtype == .float32 else {
      throw ResponseError(.badInputFile, "\(file.path) holds \(crops.dtype) \(crops.shape), not float32 [n, C, s, s]")
    }
    let n = crops.shape[0]
    guard n > limit else { return (file, Array(0..<n)) }
    let rows = (0..<limit).map { $0 * n / limit }
    let size = crops.count / n
    let values = crops.floats()
    var picked: [Float] = []
    picked.reserveCapacity(limit * size)
    for row in rows { picked += values[row * size..<(row + 1) * size] }
    let url = scratch.appendingPathComponent(SegmentStage.arrayName("crops", key: key) + "-\(UUID().uuidString).npy")
    try NPYArray(shape: [limit] + crops.shape.dropFirst(), values: picked).write(to: url)
    return (url, rows)
  }

  static func columnMeans(_ rows: [Float], dimension: Int) -> [Float] {
    let n = rows.count / dimension
    var sums = [Double](repeating: 0, count: dimension)
    for r in 0..<n { for d in 0..<dimension { sums[d] += Double(rows[r * dimension + d]) } }
    return sums.map { Float($0 / Double(max(n, 1))) }
  }

  /// Stores each well's mean over all its embedded cells, once none of its segmented sites is waiting for this
  /// stage; returns how many wells were aggregated now.
  private func aggregateWells(_ audit: Audit, _ variant: Variant) throws -> Int {
    let store = audit.store
    let screen = audit.screen
    let wellStage = variant.stage + "-well"
    let wellsDone = try store.doneKeys(stage: wellStage)
    let done = try store.doneKeys(stage: variant.stage)
    let failed = try store.failures(stage: variant.stage)
    let segmented = try store.doneKeys(stage: SegmentStage.name)
    var count = 0
    for plate in screen.plates {
      for well in plate.wells where !wellsDone.contains("\(plate.name)/\(well.name)") {
        let keys = well.sites.map { "\(plate.name)/\(well.name)/\($0.number)" }.filter(segmented.contains)
        guard !keys.isEmpty, keys.allSatisfy({ done.contains($0) || failed[$0] != nil }) else { continue }
        var rows: [Float] = []
        var dimension = 0
        for key in keys where done.contains(key) {
          guard let cells = try store.loadArray(name: SegmentStage.arrayName(variant.prefix, key: key)) else { continue }
          rows += cells.floats()
          dimension = cells.shape[1]
        }
        try store.complete(stage: wellStage, key: "\(plate.name)/\(well.name)") { writer in
          guard dimension > 0 else { return }
          try store.saveArray(Self.columnMeans(rows, dimension: dimension), shape: [1, dimension],
                              name: Self.wellArrayName(variant.prefix, plate: plate.name, well: well.name), in: writer)
        }
        count += 1
      }
    }
    return count
  }

  /// `<prefix>_well_<plate>_<well>`, characters outside [A-Za-z0-9_-] replaced by `_`.
  static func wellArrayName(_ prefix: String, plate: String, well: String) -> String {
    let plain = "\(plate)_\(well)".map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" }
    return prefix + "_well_" + String(plain)
  }
}
