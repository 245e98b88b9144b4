import ConfoundProtocol
import Foundation
import JSONRPC

/// Plugins opened in this process and called directly, for tests and tools that want the host's behaviour without
/// worker processes: the same selection by id or kind, the same parameter checks, input loading, output files
/// and result contract as `PluginRegistry`, with the plugin's code on the caller's thread. A plugin that crashes
/// takes this process with it, which is why the host never does this (see `PluginRegistry`).
public final class InProcessPlugins: @unchecked Sendable {
  private struct Loaded {
    let library: PluginLibrary
    /// One call at a time per plugin: a plugin's code need not be reentrant.
    let lock = NSLock()
    var manifest: PluginManifest { library.manifest }
  }

  private var loaded: [Loaded] = []
  private let lock = NSLock()
  private var sequence = 0
  /// Calls of one plugin run one at a time here.
  public let maxWorkersPerPlugin = 1

  public init() {}

  /// Opens a plugin `.so` in this process (a `PluginLoadError` says what is wrong with it).
  @discardableResult
  public func load(path: String) throws -> PluginInfo {
    let library = try PluginLibrary(path: path)
    lock.lock()
    defer { lock.unlock() }
    loaded.append(Loaded(library: library))
    return plugins.last!
  }

  /// The opened plugins; the first of each kind is the kind's default.
  public var plugins: [PluginInfo] {
    var seen = Set<PluginKind>()
    return loaded.map { PluginInfo(manifest: $0.manifest, path: $0.library.path, isDefault: seen.insert($0.manifest.kind).inserted) }
  }

  /// Runs a plugin's operation in this process, as `PluginRegistry.run` does in a worker.
  public func run(
    _ params: PluginsRunRequest.Params, isCancelled: @escaping () -> Bool, progress: @escaping (Double, String?) -> Void,
    log: @escaping (Int32, String) -> Void
  ) throws -> PluginsRunRequest.Response {
    lock.lock()
    let candidates = loaded
    sequence += 1
    let number = sequence
    lock.unlock()
    let entry = try PluginRegistry.select(candidates, manifest: \.manifest, id: params.plugin, kind: params.kind)
    let call = try PluginRegistry.workerCall(params, manifest: entry.manifest)
    let (callParams, inputs) = try PluginInvocation.prepare(call)
    entry.lock.lock()
    defer { entry.lock.unlock() }
    let result = try entry.library.invoke(method: call.method, params: callParams, inputs: inputs,
                                          host: HostServices(isCancelled: isCancelled, progress: progress, log: log))
    let value = try PluginInvocation.answer(result, plugin: entry.manifest.id, outputDir: call.outputDir, sequence: number).get()
    let outputs = try JSONCodec.decode([TensorRef].self, from: value["outputs"] ?? .array([]))
    let response = PluginsRunRequest.Response(plugin: entry.manifest.id, result: value["result"] ?? .null, outputs: outputs)
    if call.method == entry.manifest.kind.operation { try ResultContract.check(response, kind: entry.manifest.kind) }
    return response
  }
}
