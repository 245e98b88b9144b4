import ConfoundProtocol
import Foundation
import JSONRPC

/// Every plugin the host has loaded, each served by a pool of worker processes, and the failures met loading.
public final class PluginRegistry: @unchecked Sendable {
  /// A loaded plugin: its manifest and its workers.
  final class Entry: @unchecked Sendable {
    let path: String
    let manifest: PluginManifest
    let workerExecutable: String
    let maxWorkers: Int
    private let condition = NSCondition()
    private var idle: [PluginWorker] = []
    private var running = 0

    init(first: PluginWorker, manifest: PluginManifest, workerExecutable: String, maxWorkers: Int) {
      self.path = first.pluginPath
      self.manifest = manifest
      self.workerExecutable = workerExecutable
      self.maxWorkers = maxWorkers
      idle = [first]
    }

    /// Runs `body` with a live worker: an idle one, a new one while below `maxWorkers`, or the next to free up.
    func withWorker<R>(_ body: (PluginWorker) throws -> R) throws -> R {
      condition.lock()
      var worker: PluginWorker?
      while worker == nil {
        idle.removeAll { !$0.isAlive }
        if let w = idle.popLast() {
          worker = w
        } else if running < maxWorkers {
          break
        } else {
          condition.wait()
        }
      }
      running += 1
      condition.unlock()
      if worker == nil {
        do {
          worker = try PluginWorker(pluginPath: path, workerExecutable: workerExecutable)
        } catch let error as PluginLoadError {
          release(nil)
          throw ResponseError(.pluginLoadFailed, "plugin \(manifest.id) could not be restarted: \(error.reason)",
                              data: ["plugin": .string(manifest.id), "path": .string(path)])
        }
      }
      defer { release(worker) }
      return try body(worker!)
    }

    private func release(_ worker: PluginWorker?) {
      condition.lock()
      running -= 1
      if let worker, worker.isAlive { idle.append(worker) }
      condition.signal()
      condition.unlock()
    }

    func shutdown() {
      condition.lock()
      let workers = idle
      idle = []
      condition.unlock()
      workers.forEach { $0.close() }
    }
  }

  public let workerExecutable: String
  public let maxWorkersPerPlugin: Int
  private let lock = NSLock()
  private var entries: [Entry] = []
  private var failures: [PluginLoadError] = []
  private var changes = 0

  /// Grows whenever a plugin loads or fails to load, so listings can be cached between changes.
  public var generation: Int {
    lock.lock()
    defer { lock.unlock() }
    return changes
  }

  public init(workerExecutable: String, maxWorkersPerPlugin: Int = 2) {
    self.workerExecutable = workerExecutable
    self.maxWorkersPerPlugin = maxWorkersPerPlugin
  }

  /// The plugins loaded, in load order; the first of each kind is its default.
  public var plugins: [PluginInfo] {
    lock.lock()
    defer { lock.unlock() }
    var seenKinds = Set<PluginKind>()
    return entries.map { e in
      PluginInfo(manifest: e.manifest, path: e.path, isDefault: seenKinds.insert(e.manifest.kind).inserted)
    }
  }

  public var loadErrors: [PluginLoadError] {
    lock.lock()
    defer { lock.unlock() }
    return failures
  }

  /// Loads a plugin in a fresh worker. A failure is recorded (for `plugins/list`) and thrown.
  @discardableResult
  public func load(path: String) throws -> PluginInfo {
    let absolute = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    if let loaded = plugins.first(where: { $0.path == absolute }) { return loaded }
    do {
      let worker = try PluginWorker(pluginPath: absolute, workerExecutable: workerExecutable)
      let manifest = worker.manifest!
      lock.lock()
      if let existing = entries.first(where: { $0.manifest.id == manifest.id }) {
        lock.unlock()
        worker.close()
        throw PluginLoadError(path: absolute, reason: "a plugin with id \(manifest.id) is already loaded from \(existing.path): give this one another id or remove one of them")
      }
      entries.append(Entry(first: worker, manifest: manifest, workerExecutable: workerExecutable, maxWorkers: maxWorkersPerPlugin))
      changes += 1
      lock.unlock()
      return plugins.first { $0.manifest.id == manifest.id }!
    } catch let error as PluginLoadError {
      lock.lock()
      failures.append(error)
      changes += 1
      lock.unlock()
      throw error
    }
  }

  /// Loads every plugin found; failures are logged through `onError` and kept, never fatal.
  public func loadAll(paths: [String], onError: (PluginLoadError) -> Void) {
    for path in paths {
      do { try load(path: path) } catch let error as PluginLoadError { onError(error) } catch {}
    }
  }

  /// The plugin a request names by id, or its kind's default.
  func entry(id: String?, kind: PluginKind?) throws -> Entry {
    lock.lock()
    defer { lock.unlock() }
    if let id {
      guard let e = entries.first(where: { $0.manifest.id == id }) else {
        let known = entries.map(\.manifest.id).joined(separator: ", ")
        throw ResponseError(.pluginNotFound, "no plugin with id \(id) is loaded (loaded: \(known.isEmpty ? "none" : known)); load it with plugins/load or --plugin-dir",
                            data: ["plugin": .string(id)])
      }
      if let kind, e.manifest.kind != kind {
        throw ResponseError(.invalidParams, "plugin \(id) is a \(e.manifest.kind.rawValue) plugin, not a \(kind.rawValue) plugin",
                            data: ["field": "kind", "plugin": .string(id)])
      }
      return e
    }
    guard let kind else {
      throw ResponseError(.invalidParams, "name a plugin (\"plugin\": id) or a kind (\"kind\": \"focus\", ...)", data: ["field": "plugin"])
    }
    guard let e = entries.first(where: { $0.manifest.kind == kind }) else {
      throw ResponseError(.pluginNotFound, "no \(kind.rawValue) plugin is loaded; add one with --plugin-dir or plugins/load",
                          data: ["kind": .string(kind.rawValue)])
    }
    return e
  }

  /// Runs a plugin's operation in one of its workers.
  public func run(
    _ params: PluginsRunRequest.Params, isCancelled: @escaping () -> Bool, progress: @escaping (Double, String?) -> Void,
    log: @escaping (Int32, String) -> Void
  ) throws -> PluginsRunRequest.Response {
    let entry = try entry(id: params.plugin, kind: params.kind)
    let method = params.method ?? entry.manifest.kind.operation
    guard entry.manifest.methods.contains(method) else {
      throw ResponseError(.invalidParams, "plugin \(entry.manifest.id) has no method \(method) (it offers \(entry.manifest.methods.joined(separator: ", ")))",
                          data: ["field": "method", "plugin": .string(entry.manifest.id)])
    }
    let parameters: JSONObject
    do {
      parameters = try ManifestValidation.resolve(params.parameters, against: entry.manifest.parameters)
    } catch let error as ParameterError {
      throw ResponseError(.invalidParams, "plugin \(entry.manifest.id): \(error.message)",
                          data: ["field": .string(error.field), "plugin": .string(entry.manifest.id)])
    }
    let outputDir = params.outputDir ?? Self.scratchDirectory
    let call = WorkerCall(method: method, params: ["parameters": .object(parameters), "context": params.context ?? .null],
                          inputs: params.inputs, outputDir: outputDir)
    let result = try entry.withWorker { worker in
      try worker.call(call, events: .init(progress: progress, log: log), isCancelled: isCancelled, timeout: params.timeoutSeconds)
    }
    let outputs = try JSONCodec.decode([TensorRef].self, from: result["outputs"] ?? .array([]))
    return PluginsRunRequest.Response(plugin: entry.manifest.id, result: result["result"] ?? .null, outputs: outputs)
  }

  /// Where outputs go when a request names no folder: shared memory (tmpfs) when the machine has it.
  static let scratchDirectory: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return (base as NSString).appendingPathComponent("confound-\(getpid())")
  }()

  /// Ends every worker and removes the scratch folder.
  public func shutdown() {
    lock.lock()
    let all = entries
    lock.unlock()
    all.forEach { $0.shutdown() }
    try? FileManager.default.removeItem(atPath: Self.scratchDirectory)
  }
}
