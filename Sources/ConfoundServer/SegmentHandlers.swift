import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC
import PluginHost

extension HostHandlers {
  /// `segment/images`: one plugins/run per site, as many at once as the plugin has workers; label masks
  /// written as TIFF by the host when asked, so clients need no image codec.
  static func registerSegment(on server: HostServer, registry: PluginRegistry) {
    server.on(SegmentImagesRequest.self) { params, context in
      context.beginProgress("segment")
      let sites = params.images
      let maskNames = params.masks.map { _ in SegmentMasks.fileNames(for: sites) }
      if let dir = params.masks {
        do {
          try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
          throw ResponseError(.invalidParams, "masks folder \(dir) cannot be created: \(error.localizedDescription)",
                              data: ["field": "masks"])
        }
      }
      var results = [SegmentImagesRequest.SiteSegmentation?](repeating: nil, count: sites.count)
      let lock = NSLock()
      var done = 0
      var pluginID = params.plugin ?? ""
      let lanes = max(1, min(registry.maxWorkersPerPlugin, sites.count))
      DispatchQueue.concurrentPerform(iterations: lanes) { lane in
        for i in stride(from: lane, to: sites.count, by: lanes) where !context.token.isCancelled {
          let run = PluginsRunRequest.Params(
            plugin: params.plugin, kind: .segmenter, parameters: params.parameters,
            context: params.channels.map { ["channels": .array($0.map(JSONValue.string))] },
            inputs: [InputRef(name: "image", files: sites[i])], outputDir: params.outputDir)
          var site = SegmentImagesRequest.SiteSegmentation(files: sites[i])
          do {
            let response = try registry.run(run, isCancelled: { context.token.isCancelled }, progress: { _, _ in },
                                            log: { _, _ in })
            site.count = response.result["count"]?.intValue.map(Int.init)
            site.result = response.result
            site.outputs = response.outputs
            if let dir = params.masks, let names = maskNames {
              let url = URL(fileURLWithPath: dir).appendingPathComponent(names[i])
              try SegmentMasks.write(labels: response.outputs, to: url)
              site.mask = url.path
            }
            lock.lock()
            pluginID = response.plugin
            lock.unlock()
          } catch let error as ResponseError {
            site.error = error
          } catch {
            site.error = ResponseError(.internalError, "\(sites[i].joined(separator: ",")): \(error)")
          }
          lock.lock()
          results[i] = site
          done += 1
          let fraction = Double(done) / Double(sites.count)
          lock.unlock()
          context.reportProgress(fraction, "\(done)/\(sites.count) sites")
        }
      }
      try context.checkCancellation()
      // A request that cannot work for any site (bad parameters, no segmenter loaded) is one error, not n.
      if let first = results.compactMap({ $0?.error }).first, results.allSatisfy({ $0?.error != nil }),
        [ErrorCode.invalidParams, .pluginNotFound].contains(first.code)
      {
        throw first
      }
      return SegmentImagesRequest.Response(plugin: pluginID, sites: results.map { $0! })
    }
  }
}

/// Label masks as TIFF files: 16-bit when every label fits, else 32-bit (exact up to 2^24 labels).
enum SegmentMasks {
  /// `<first file's name without extension>_labels.tif`, prefixed by the site's index when two sites would
  /// otherwise share a name.
  static func fileNames(for sites: [[String]]) -> [String] {
    let bases = sites.map { files in
      ((((files.first ?? "site") as NSString).lastPathComponent as NSString).deletingPathExtension) + "_labels.tif"
    }
    var seen: [String: Int] = [:]
    bases.forEach { seen[$0, default: 0] += 1 }
    return bases.enumerated().map { index, name in seen[name]! > 1 ? "\(index)_\(name)" : name }
  }

  /// Reads the `labels` output (int32 [H, W]) and writes it to `url` (Deflate-compressed); returns its shape and
  /// the TIFF's sample type ("uint16" or "uint32").
  @discardableResult
  static func write(labels outputs: [TensorRef], to url: URL) throws -> (shape: [Int], sampleType: String) {
    guard let ref = outputs.first(where: { $0.name == "labels" }), ref.shape.count == 2 else {
      throw ResponseError(.pluginError, "the segmenter returned no \"labels\" [H, W] output to write as a mask")
    }
    guard let labels = try NPYArray.read(URL(fileURLWithPath: ref.path)).values(as: Int32.self) else {
      throw ResponseError(.pluginError, "the segmenter's labels \(ref.path) are \(ref.dtype), not int32")
    }
    let largest = labels.max() ?? 0
    let image = Image(channels: 1, height: ref.shape[0], width: ref.shape[1], pixels: labels.map { Float($0) })
    let narrow = largest <= Int32(UInt16.max)
    do {
      try writeTIFF(image, to: url, as: narrow ? .uint16 : .uint32)
    } catch {
      throw ResponseError(.badInputFile, "cannot write mask \(url.path): \(error)", data: ["file": .string(url.path)])
    }
    return (ref.shape, narrow ? "uint16" : "uint32")
  }
}
