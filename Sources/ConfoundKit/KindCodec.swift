import CConfoundPlugin
import JSONRPC

#if canImport(Glibc)
  import Glibc
#endif

/// Reads each kind's inputs from the call and writes its typed result as JSON plus tensors
/// (the layouts documented in Protocol/README.md, "Plugin kinds").
enum KindCodec {
  static func image(_ inputs: [String: TensorView], _ context: CallContext) throws -> ImageStack {
    guard let image = inputs["image"] else { throw PluginError.invalidParams("missing input \"image\" (float32 [C, H, W])") }
    guard let pixels = image.floats, (2...3).contains(image.shape.count) else {
      throw PluginError.invalidParams("input \"image\" must be float32 [C, H, W], got \(image.dtype) \(image.shape)")
    }
    let shape = image.shape.count == 2 ? [1] + image.shape : image.shape
    guard shape.allSatisfy({ $0 > 0 }) else { throw PluginError.badInput("input \"image\" is empty: shape \(shape)") }
    return ImageStack(channels: shape[0], height: shape[1], width: shape[2], pixels: pixels,
                      channelNames: context.channelNames(count: shape[0]))
  }

  static func features(_ inputs: [String: TensorView], _ context: CallContext) throws -> FeatureMatrix {
    guard let features = inputs["features"], features.shape.count == 2 else {
      throw PluginError.invalidParams("a probe needs input \"features\" [N, D]")
    }
    let (n, d) = (features.shape[0], features.shape[1])
    func strings(_ key: String) -> [String]? {
      context.context[key]?.arrayValue?.map { $0.stringValue ?? JSONWriter.string($0) }
    }
    guard let labels = strings("labels"), labels.count == n else {
      throw PluginError.invalidParams("context.labels must hold one value per row of \"features\" (\(n))")
    }
    let groups = strings("groups")
    if let groups, groups.count != n {
      throw PluginError.invalidParams("context.groups has \(groups.count) values for \(n) rows")
    }
    let names = strings("feature_names") ?? (0..<d).map { "feature_\($0)" }
    guard names.count == d else { throw PluginError.invalidParams("context.feature_names has \(names.count) names for \(d) columns") }
    return FeatureMatrix(rows: n, columns: d, values: features.toDoubles(), featureNames: names, labels: labels, groups: groups)
  }

  static func measures(_ list: [(name: String, value: Double)]) -> JSONValue {
    .object(JSONObject(list.map { (key: $0.name, value: .double($0.value)) }))
  }

  static func encode(_ result: FocusResult) -> CallOutcome {
    let channels: [JSONValue] = result.channels.map { c in
      var o = JSONObject([("channel", .string(c.channel))])
      if let s = c.score { o["score"] = .double(s) }
      if let l = c.level { o["level"] = .int(Int64(l)) }
      if let k = c.certainty { o["certainty"] = .double(k) }
      o["measures"] = measures(c.measures)
      return .object(o)
    }
    return CallOutcome(status: CF_OK, json: ["channels": .array(channels)], outputs: result.outputs)
  }

  static func encode(_ result: SegmentationResult, height: Int, width: Int) -> CallOutcome {
    var json = result.summary
    json["count"] = .int(Int64(result.count))
    json["columns"] = .array(result.objectColumns.map { .string($0) })
    json["site_features"] = measures(result.siteFeatures)
    var outputs = [
      Tensor(name: "labels", shape: [height, width], int32: result.labels),
      Tensor(name: "objects", shape: [result.count, result.objectColumns.count], doubles: result.objects),
    ]
    if let crops = result.crops { outputs.append(crops) }
    return CallOutcome(status: CF_OK, json: .object(json), outputs: outputs)
  }

  static func encode(_ result: EmbeddingResult) -> CallOutcome {
    var json = result.summary
    json["count"] = .int(Int64(result.count))
    json["dimension"] = .int(Int64(result.dimension))
    let tensor = Tensor(name: "embeddings", shape: [result.count, result.dimension], floats: result.embeddings)
    return CallOutcome(status: CF_OK, json: .object(json), outputs: [tensor])
  }
}

/// Lays results out as `cf_result` in memory this plugin owns, and releases them when the host is done.
enum ResultStore {
  private final class Storage {
    var allocations: [UnsafeMutableRawPointer] = []
    deinit { allocations.forEach { free($0) } }
    func copy(_ bytes: [UInt8]) -> UnsafeMutableRawPointer {
      let p = malloc(max(bytes.count, 1))!
      bytes.withUnsafeBytes { if $0.count > 0 { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
      allocations.append(p)
      return p
    }
    func string(_ s: String) -> UnsafePointer<CChar> {
      let p = strdup(s)!
      allocations.append(UnsafeMutableRawPointer(p))
      return UnsafePointer(p)
    }
  }

  private static let lock = NSLockLite()
  nonisolated(unsafe) private static var live: [UnsafeMutablePointer<cf_result>: Storage] = [:]

  static func make(_ outcome: CallOutcome) -> UnsafeMutablePointer<cf_result> {
    let storage = Storage()
    let tensors = UnsafeMutablePointer<cf_tensor>.allocate(capacity: max(outcome.outputs.count, 1))
    for (i, t) in outcome.outputs.enumerated() {
      var tensor = cf_tensor()
      tensor.struct_size = UInt32(MemoryLayout<cf_tensor>.size)
      tensor.dtype = t.dtype.rawValue
      tensor.ndim = UInt32(min(t.shape.count, Int(CF_MAX_DIMS)))
      withUnsafeMutableBytes(of: &tensor.shape) { raw in
        for (d, extent) in t.shape.prefix(Int(CF_MAX_DIMS)).enumerated() { raw.storeBytes(of: Int64(extent), toByteOffset: d * 8, as: Int64.self) }
      }
      tensor.name = storage.string(t.name)
      tensor.data = storage.copy(t.bytes)
      tensor.nbytes = UInt64(t.bytes.count)
      (tensors + i).initialize(to: tensor)
    }
    storage.allocations.append(UnsafeMutableRawPointer(tensors))
    let result = UnsafeMutablePointer<cf_result>.allocate(capacity: 1)
    result.initialize(
      to: cf_result(
        struct_size: UInt32(MemoryLayout<cf_result>.size), status: Int32(outcome.status.rawValue),
        json: storage.string(JSONWriter.string(outcome.json)), outputs: UnsafePointer(tensors),
        n_outputs: UInt32(outcome.outputs.count), reserved: 0))
    lock.locked { live[result] = storage }
    return result
  }

  static func release(_ result: UnsafeMutablePointer<cf_result>) {
    let storage = lock.locked { live.removeValue(forKey: result) }
    guard storage != nil else { return }
    result.deallocate()
  }
}
