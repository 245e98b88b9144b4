import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC

extension HostHandlers {
  /// `store/merge`: a thin wrapper over `RunStore.merge`. A missing store is 1004 naming the file; stores that
  /// cannot be merged (other screen, other parameters, whole-screen results) are -32602 naming the store.
  static func registerMerge(on server: HostServer) {
    server.on(MergeRequest.self) { params, context in
      guard !params.stores.isEmpty else {
        throw ResponseError(.invalidParams, "store/merge needs at least one store in stores", data: ["field": "stores"])
      }
      for (index, path) in params.stores.enumerated() {
        do { _ = try RunStore.storeFile(URL(fileURLWithPath: path)) } catch let error as StoreError {
          throw ResponseError(.badInputFile, error.description,
                              data: ["field": .string("stores[\(index)]"), "file": .string(error.path)])
        }
      }
      let out = URL(fileURLWithPath: params.out).standardizedFileURL
      context.beginProgress("merge")
      let started = Date()
      do {
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let summary = try RunStore.merge(params.stores.map { URL(fileURLWithPath: $0) }, into: out)
        context.endProgress()
        return MergeRequest.Response(
          store: summary.store.path, sources: summary.sources, sites: summary.sites, units: summary.units,
          measurements: summary.measurements, objects: summary.objects, arrays: summary.arrays,
          seconds: Date().timeIntervalSince(started))
      } catch let error as StoreError {
        throw ResponseError(.invalidParams, error.description, data: ["field": "stores", "store": .string(error.path)])
      }
    }
  }
}
