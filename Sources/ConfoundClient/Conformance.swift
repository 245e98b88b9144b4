import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC

/// The conformance suite of each plugin kind, run through a real host against a plugin `.so`: what
/// `confound plugins check FILE.so` prints. Third-party authors run it on their own plugin; the tests run it on
/// every built-in and out-of-tree plugin.
public enum Conformance {
  public struct Check: Sendable {
    public var name: String
    public var passed: Bool
    public var detail: String
  }

  public struct Report: Sendable {
    public var plugin: PluginInfo?
    public var checks: [Check]
    public var passed: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
  }

  public static func check(plugin path: String, host: HostConnection) throws -> Report {
    var checks: [Check] = []
    func record(_ name: String, _ body: () throws -> String?) {
      do {
        if let failure = try body() { checks.append(Check(name: name, passed: false, detail: failure)) } else {
          checks.append(Check(name: name, passed: true, detail: ""))
        }
      } catch {
        checks.append(Check(name: name, passed: false, detail: "\(error)"))
      }
    }
    let info: PluginInfo
    do {
      info = try host.request(PluginsLoadRequest.self, .init(path: path))
      checks.append(Check(name: "loads, exports a valid manifest", passed: true, detail: "\(info.manifest.id) \(info.manifest.kind.rawValue) v\(info.manifest.version)"))
    } catch {
      return Report(plugin: nil, checks: [Check(name: "loads, exports a valid manifest", passed: false, detail: "\(error)")])
    }
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("confound-check-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    var kit = Kit(host: host, plugin: info.manifest.id, scratch: scratch)
    kit.offersProbeMethod = info.manifest.parameters.contains { $0.name == "method" && ($0.choices ?? []).contains("probe") }

    record("runs with default parameters") { try kit.run(kind: info.manifest.kind, seed: 1).failure }
    record("gives the same result twice") {
      let a = try kit.run(kind: info.manifest.kind, seed: 2)
      let b = try kit.run(kind: info.manifest.kind, seed: 2)
      return a.fingerprint == b.fingerprint ? nil : "two runs on the same input differ"
    }
    record("refuses a request without inputs with -32602 or 1004") {
      do {
        _ = try host.request(PluginsRunRequest.self, .init(plugin: info.manifest.id, inputs: []))
        return "it answered a request with no inputs"
      } catch let error as ResponseError {
        return [.invalidParams, .badInputFile].contains(error.code) ? nil : "answered with \(error.code.rawValue): \(error.message)"
      }
    }
    if info.manifest.kind == .embedder {
      record("embeds a crop the same alone as in a batch") {
        let batch = try kit.embed(count: 3, seed: 5)
        let alone = try kit.embed(count: 1, seed: 5)
        let d = alone.count
        let diff = zip(batch.prefix(d), alone).map { abs($0 - $1) }.max() ?? 0
        return diff <= 1e-4 * max(1, alone.map(abs).max() ?? 1) ? nil : "row 0 differs by \(diff) between batch 3 and batch 1"
      }
    }
    return Report(plugin: info, checks: checks)
  }

  /// Builds inputs for a kind, runs them, and checks the kind's output contract.
  struct Kit {
    let host: HostConnection
    let plugin: String
    let scratch: URL
    /// An explainer whose `method` parameter offers "probe" (the feature-table case of Protocol/README.md).
    var offersProbeMethod = false

    struct Outcome {
      var failure: String?
      var fingerprint: String
    }

    func write(_ array: NPYArray, _ name: String) throws -> String {
      let url = scratch.appendingPathComponent(name)
      try array.write(to: url)
      return url.path
    }

    /// Nuclei-like blobs on a noisy background, deterministic in `seed`.
    func image(channels: Int, height: Int, width: Int, seed: UInt64) -> [Float] {
      var rng = SplitMix(seed)
      let blobs = (0..<12).map { _ in (Double(rng.next() % UInt64(width)), Double(rng.next() % UInt64(height))) }
      var pixels = [Float](repeating: 0, count: channels * height * width)
      for c in 0..<channels {
        for y in 0..<height {
          for x in 0..<width {
            var v = 100.0 + Double(rng.next() % 20)
            for (bx, by) in blobs {
              let d2 = (Double(x) - bx) * (Double(x) - bx) + (Double(y) - by) * (Double(y) - by)
              v += 1000.0 / Double(c + 1) * exp(-d2 / 30)
            }
            pixels[(c * height + y) * width + x] = Float(v)
          }
        }
      }
      return pixels
    }

    func run(kind: PluginKind, seed: UInt64) throws -> Outcome {
      switch kind {
      case .focus, .segmenter:
        let (c, h, w) = (2, 96, 120)
        let path = try write(NPYArray(shape: [c, h, w], values: image(channels: c, height: h, width: w, seed: seed)), "image-\(seed).npy")
        let response = try host.request(PluginsRunRequest.self, .init(plugin: plugin, inputs: [InputRef(name: "image", npy: path)], outputDir: scratch.path))
        return Outcome(failure: kind == .focus ? focusContract(response, channels: c) : segmenterContract(response, height: h, width: w),
                       fingerprint: JSONWriter.string(response.result) + fingerprint(response.outputs))
      case .embedder:
        let values = try embed(count: 2, seed: seed)
        return Outcome(failure: values.allSatisfy(\.isFinite) ? nil : "embeddings contain non-finite values", fingerprint: "\(values)")
      case .probe:
        let (n, d) = (40, 3)
        var rng = SplitMix(seed)
        let labels = (0..<n).map { $0 % 2 == 0 ? "a" : "b" }
        let x = (0..<n * d).map { i in Double(rng.next() % 1000) / 1000 + (labels[i / d] == "a" && i % d == 0 ? 1 : 0) }
        let path = try write(NPYArray(shape: [n, d], values: x), "features-\(seed).npy")
        let context: JSONValue = ["labels": .array(labels.map(JSONValue.string)), "groups": .array((0..<n).map { .string("g\($0 % 8)") })]
        let response = try host.request(PluginsRunRequest.self, .init(plugin: plugin, context: context, inputs: [InputRef(name: "features", npy: path)], outputDir: scratch.path))
        return Outcome(failure: response.result["metrics"] == nil ? "a probe result must have \"metrics\"" : nil,
                       fingerprint: JSONWriter.string(response.result))
      case .explainer:
        guard offersProbeMethod else {
          let path = try write(NPYArray(shape: [10, 2], values: (0..<20).map(Double.init)), "features-\(seed).npy")
          let response = try host.request(PluginsRunRequest.self, .init(plugin: plugin, inputs: [InputRef(name: "features", npy: path)], outputDir: scratch.path))
          return Outcome(failure: response.result.objectValue == nil ? "an explainer result must be a JSON object" : nil,
                         fingerprint: JSONWriter.string(response.result))
        }
        let table = ExplainerCase(seed: seed)
        let path = try write(NPYArray(shape: [table.rows, 3], values: table.values), "features-\(seed).npy")
        let response = try host.request(PluginsRunRequest.self, .init(
          plugin: plugin, parameters: ["method": "probe", "n_repeats": 10], context: table.context,
          inputs: [InputRef(name: "features", npy: path)], outputDir: scratch.path))
        return Outcome(failure: table.contract(response.result), fingerprint: JSONWriter.string(response.result))
      }
    }

    func embed(count: Int, seed: UInt64) throws -> [Float] {
      let (c, h, w) = (3, 64, 64)
      var crops: [Float] = []
      for i in 0..<count { crops += image(channels: c, height: h, width: w, seed: seed + UInt64(i)) }
      let path = try write(NPYArray(shape: [count, c, h, w], values: crops), "crops-\(seed)-\(count).npy")
      let response = try host.request(PluginsRunRequest.self, .init(plugin: plugin, inputs: [InputRef(name: "crops", npy: path)], outputDir: scratch.path))
      guard let ref = response.outputs.first(where: { $0.name == "embeddings" }), ref.shape.count == 2, ref.shape[0] == count else {
        throw ClientError("an embedder must return \"embeddings\" [N, D] with N = \(count)")
      }
      return try NPYArray.read(URL(fileURLWithPath: ref.path)).floats()
    }

    func focusContract(_ r: PluginsRunRequest.Response, channels: Int) -> String? {
      guard let list = r.result["channels"]?.arrayValue, list.count == channels else {
        return "a focus result must list \(channels) channels"
      }
      for entry in list {
        guard let measures = entry["measures"]?.objectValue, !measures.isEmpty else { return "every channel needs measures" }
        if let bad = measures.first(where: { $0.value.doubleValue?.isFinite != true }) { return "measure \(bad.key) is not a finite number" }
        if let s = entry["score"]?.doubleValue, !(0...1).contains(s) { return "score \(s) is outside [0, 1]" }
      }
      return nil
    }

    func segmenterContract(_ r: PluginsRunRequest.Response, height: Int, width: Int) -> String? {
      guard let count = r.result["count"]?.intValue else { return "a segmenter result needs \"count\"" }
      guard let labelsRef = r.outputs.first(where: { $0.name == "labels" }), labelsRef.shape == [height, width],
        let labels = try? NPYArray.read(URL(fileURLWithPath: labelsRef.path)).values(as: Int32.self)
      else { return "a segmenter must return \"labels\" int32 [\(height), \(width)]" }
      let present = Set(labels.filter { $0 > 0 })
      guard present.count == Int(count), present.max().map(Int64.init) ?? 0 == count else {
        return "labels must be 1...count without gaps (count \(count), \(present.count) distinct labels)"
      }
      guard let objects = r.outputs.first(where: { $0.name == "objects" }), objects.shape.first == Int(count) else {
        return "\"objects\" must have one row per object"
      }
      return nil
    }

    func fingerprint(_ refs: [TensorRef]) -> String {
      refs.map { ref in
        let data = (try? NPYArray.read(URL(fileURLWithPath: ref.path)).data) ?? []
        return "\(ref.name)\(ref.shape)\(data.reduce(0) { ($0 &* 31) &+ Int($1) })"
      }.joined()
    }
  }
}

/// A tiny deterministic generator for test inputs (SplitMix64).
struct SplitMix {
  var state: UInt64
  init(_ seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
