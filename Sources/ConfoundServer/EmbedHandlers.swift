import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

extension HostHandlers {
  /// `embed/images`: image sites one plugins/run each (as many at once as the plugin has workers), or one run on
  /// a raw batch; the vectors are stacked in input order into the requested .npy file.
  static func registerEmbed(on server: HostServer, registry: PluginRegistry) {
    server.on(EmbedImagesRequest.self) { params, context in
      context.beginProgress("embed")
      let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("confound-embed-\(UUID().uuidString)")
      try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(at: scratch) }
      let calls = try EmbedCalls.plan(params, scratch: scratch)
      var results = [Result<PluginsRunRequest.Response, Error>?](repeating: nil, count: calls.count)
      let lock = NSLock()
      var done = 0
      let lanes = max(1, min(registry.maxWorkersPerPlugin, calls.count))
      DispatchQueue.concurrentPerform(iterations: lanes) { lane in
        for i in stride(from: lane, to: calls.count, by: lanes) where !context.token.isCancelled {
          let result = Result {
            try registry.run(calls[i](), isCancelled: { context.token.isCancelled }, progress: { _, _ in },
                             log: { _, _ in })
          }
          lock.lock()
          results[i] = result
          done += 1
          let fraction = Double(done) / Double(calls.count)
          lock.unlock()
          context.reportProgress(fraction, "\(done)/\(calls.count)")
        }
      }
      try context.checkCancellation()
      var rows: [Float] = []
      var (count, dimension) = (0, 0)
      for result in results {
        let response = try result!.get()
        guard let ref = response.outputs.first(where: { $0.name == "embeddings" }), ref.shape.count == 2 else {
          throw ResponseError(.pluginError, "the embedder returned no \"embeddings\" [N, D] output")
        }
        guard dimension == 0 || ref.shape[1] == dimension else {
          throw ResponseError(.pluginError, "the embedder returned \(ref.shape[1]) values per image after \(dimension)")
        }
        rows += try NPYArray.read(URL(fileURLWithPath: ref.path)).floats()
        (count, dimension) = (count + ref.shape[0], ref.shape[1])
      }
      do {
        try NPYArray(shape: [count, dimension], values: rows).write(to: URL(fileURLWithPath: params.out))
      } catch {
        throw ResponseError(.invalidParams, "cannot write \(params.out): \(error)", data: ["field": "out"])
      }
      let first = try results.first??.get()
      return EmbedImagesRequest.Response(plugin: first?.plugin ?? params.plugin ?? "", count: count,
                                         dimension: dimension, out: params.out, result: first?.result ?? .null)
    }
  }
}

/// The plugins/run calls of one embed/images request, each built lazily (reading and writing its image) on the
/// lane that runs it.
enum EmbedCalls {
  static func plan(_ params: EmbedImagesRequest.Params, scratch: URL) throws
    -> [() throws -> PluginsRunRequest.Params]
  {
    let sites = params.images ?? []
    if let raw = params.rawInput {
      guard sites.isEmpty else {
        throw ResponseError(.invalidParams, "give either images or rawInput, not both", data: ["field": "rawInput"])
      }
      var parameters = params.parameters ?? JSONObject()
      parameters["raw"] = .bool(true)
      return [{ PluginsRunRequest.Params(plugin: params.plugin, kind: .embedder, parameters: parameters,
                                        inputs: [InputRef(name: "crops", npy: raw)], outputDir: scratch.path) }]
    }
    guard !sites.isEmpty else {
      throw ResponseError(.invalidParams, "embed/images needs images or rawInput", data: ["field": "images"])
    }
    return sites.enumerated().map { index, files in
      { try call(files, index: index, params: params, scratch: scratch) }
    }
  }

  /// Reads one site's channel files into a float32 [1, C, H, W] .npy and the call that embeds it.
  static func call(_ files: [String], index: Int, params: EmbedImagesRequest.Params, scratch: URL) throws
    -> PluginsRunRequest.Params
  {
    var pixels: [Float] = []
    var channels = 0, size: (h: Int, w: Int)?, maximum: Float = 0
    for file in files {
      let image: Image
      do { image = try readImage(URL(fileURLWithPath: file)) } catch let error as ImageError {
        throw ResponseError(.badInputFile, error.description, data: ["file": .string(error.path)])
      }
      if let size, size != (image.height, image.width) {
        throw ResponseError(.badInputFile, "\(file) is \(image.width)x\(image.height) but \(files[0]) is "
          + "\(size.w)x\(size.h): the channels of one site must have one size", data: ["file": .string(file)])
      }
      size = (image.height, image.width)
      channels += image.channels
      pixels += image.pixels
      maximum = max(maximum, image.sampleFormat == .floatingPoint ? 255 : image.nominalRange.upperBound)
    }
    let url = scratch.appendingPathComponent("site-\(index).npy")
    try NPYArray(shape: [1, channels, size!.h, size!.w], values: pixels).write(to: url)
    var parameters = params.parameters ?? JSONObject()
    if parameters["channel_mode"] == nil { parameters["channel_mode"] = .string(channels == 3 ? "triple" : "each") }
    if parameters["intensity"] == nil { parameters["intensity"] = .string("scale") }
    return PluginsRunRequest.Params(plugin: params.plugin, kind: .embedder, parameters: parameters,
                                    context: ["image_scale": .double(Double(maximum))],
                                    inputs: [InputRef(name: "crops", npy: url.path)], outputDir: scratch.path)
  }
}
