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
    let limits: WorkerLimits
    let tracker: WorkerTracker
    private let condition = NSCondition()
    private var idle: [PluginWorker] = []
    /// Every worker started and not yet known dead, busy or idle: shutdown ends them all.
    private var started: [PluginWorker] = []
    private var running = 0

    init(
      first: PluginWorker, manifest: PluginManifest, workerExecutable: String, maxWorkers: Int, limits: WorkerLimits,
      tracker: WorkerTracker
    ) {
      self.tracker = tracker
      self.path = first.pluginPath
      self.manifest = manifest
      self.workerExecutable = workerExecutable
      self.maxWorkers = maxWorkers
      self.limits = limits
      idle = [first]
      started = [first]
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
          let fresh = try PluginWorker(pluginPath: path, workerExecutable: workerExecutable, limits: limits, tracker: tracker)
          condition.lock()
          started.removeAll { !$0.isAlive }
          started.append(fresh)
          condition.unlock()
          worker = fresh
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

    /// Every worker this entry started, idle or busy; after shutdown no new one is handed out.
    func takeAll() -> [PluginWorker] {
      condition.lock()
      let workers = started
      idle = []
      started = []
      condition.unlock()
      return workers
    }
  }

  public let workerExecutable: String
  public let maxWorkersPerPlugin: Int
  /// Limits every worker starts with (load timeout, channel size, image size).
  public let limits: WorkerLimits
  /// Seconds a plugin call may take when the request sets no `timeoutSeconds`.
  public let defaultCallTimeout: Double
  private let lock = NSCondition()
  private var entries: [Entry] = []
  private var failures: [PluginLoadError] = []
  private var changes = 0
  /// Startup loads still running (`loadAll`); requests that need a plugin wait for them, boundedly.
  private var startupPending = 0
  /// Every worker started and not exited, including those still loading.
  private let tracker = WorkerTracker()

  /// Grows whenever a plugin loads or fails to load, so listings can be cached between changes.
  public var generation: Int {
    lock.lock()
    defer { lock.unlock() }
    return changes
  }

  public init(
    workerExecutable: String, maxWorkersPerPlugin: Int = 2, limits: WorkerLimits = WorkerLimits(),
    defaultCallTimeout: Double = 600
  ) {
    self.workerExecutable = workerExecutable
    self.maxWorkersPerPlugin = maxWorkersPerPlugin
    self.limits = limits
    self.defaultCallTimeout = defaultCallTimeout
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

  /// Loads a plugin in a fresh worker, at most `limits.loadTimeout` seconds, stopping early when `isCancelled`.
  /// A load failure is recorded (for `plugins/list`) and thrown; a cancel throws -32800 and records nothing.
  @discardableResult
  public func load(path: String, isCancelled: () -> Bool = { false }) throws -> PluginInfo {
    let absolute = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    if let loaded = plugins.first(where: { $0.path == absolute }) { return loaded }
    return try register(absolute, try start(absolute, isCancelled: isCancelled))
  }

  private func start(_ absolute: String, isCancelled: () -> Bool) throws -> Result<PluginWorker, PluginLoadError> {
    do {
      return .success(try PluginWorker(pluginPath: absolute, workerExecutable: workerExecutable, limits: limits, tracker: tracker,
                                       isCancelled: isCancelled))
    } catch let error as PluginLoadError {
      return .failure(error)
    }
  }

  /// Adds a started worker's plugin, or records why it did not load.
  private func register(_ absolute: String, _ started: Result<PluginWorker, PluginLoadError>) throws -> PluginInfo {
    lock.lock()
    defer {
      changes += 1
      lock.broadcast()
      lock.unlock()
    }
    do {
      let worker = try started.get()
      let manifest = worker.manifest!
      if let existing = entries.first(where: { $0.manifest.id == manifest.id }) {
        worker.close()
        throw PluginLoadError(path: absolute, reason: "a plugin with id \(manifest.id) is already loaded from \(existing.path): give this one another id or remove one of them")
      }
      if entries.contains(where: { $0.path == absolute }) { worker.close() } else {
        entries.append(Entry(first: worker, manifest: manifest, workerExecutable: workerExecutable, maxWorkers: maxWorkersPerPlugin, limits: limits, tracker: tracker))
      }
      var seenKinds = Set<PluginKind>()
      let infos = entries.map { e in PluginInfo(manifest: e.manifest, path: e.path, isDefault: seenKinds.insert(e.manifest.kind).inserted) }
      return infos.first { $0.manifest.id == manifest.id }!
    } catch let error as PluginLoadError {
      failures.append(error)
      throw error
    }
  }

  /// Loads every plugin found, all at once, each in its own worker; registers them in the order given (so the first
  /// of each kind stays its default), logging failures through `onError`, never fatal. Returns at once: the loads go
  /// on in the background, and requests that need a plugin wait for them (`waitForStartup`).
  public func loadAll(paths: [String], onError: @escaping @Sendable (PluginLoadError) -> Void) {
    let absolutes = paths.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
    lock.lock()
    startupPending += 1
    lock.unlock()
    Thread { [self] in
      let results = StartupResults(count: absolutes.count)
      // A thread per plugin, not a pool sized by the cores: a plugin that hangs must not hold up the others.
      let group = DispatchGroup()
      for i in absolutes.indices {
        group.enter()
        Thread { [self] in
          let started = (try? start(absolutes[i], isCancelled: { false })) ?? .failure(PluginLoadError(path: absolutes[i], reason: "not started"))
          results.set(i, started)
          group.leave()
        }.start()
      }
      group.wait()
      for (path, started) in zip(absolutes, results.all) {
        do { _ = try register(path, started) } catch let error as PluginLoadError { onError(error) } catch {}
      }
      lock.lock()
      startupPending -= 1
      changes += 1
      lock.broadcast()
      lock.unlock()
    }.start()
  }

  /// The outcome of each startup load, by position, filled from one thread per plugin.
  private final class StartupResults: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Result<PluginWorker, PluginLoadError>?]
    init(count: Int) { items = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: Result<PluginWorker, PluginLoadError>) {
      lock.lock()
      items[i] = value
      lock.unlock()
    }
    var all: [Result<PluginWorker, PluginLoadError>] {
      lock.lock()
      defer { lock.unlock() }
      return items.map { $0 ?? .failure(PluginLoadError(path: "", reason: "not started")) }
    }
  }

  /// Waits until the startup loads are done, at most the load timeout (plus a margin for registering) from now.
  public func waitForStartup() {
    let deadline = Date(timeIntervalSinceNow: limits.loadTimeout + 5)
    lock.lock()
    while startupPending > 0 && lock.wait(until: deadline) {}
    lock.unlock()
  }

  /// The plugin a request names by id, or its kind's default.
  func entry(id: String?, kind: PluginKind?) throws -> Entry {
    waitForStartup()
    lock.lock()
    defer { lock.unlock() }
    return try Self.select(entries, manifest: \.manifest, id: id, kind: kind)
  }

  /// The plugin a request names: by id (of the kind, when one is given too), else the first of the kind; each
  /// failure is the error a client sees.
  static func select<T>(_ items: [T], manifest: (T) -> PluginManifest, id: String?, kind: PluginKind?) throws -> T {
    if let id {
      guard let e = items.first(where: { manifest($0).id == id }) else {
        let known = items.map { manifest($0).id }.joined(separator: ", ")
        throw ResponseError(.pluginNotFound, "no plugin with id \(Truncated.quote(id)) is loaded (loaded: \(known.isEmpty ? "none" : known)); load it with plugins/load or --plugin-dir",
                            data: ["plugin": .string(Truncated.quote(id))])
      }
      if let kind, manifest(e).kind != kind {
        throw ResponseError(.invalidParams, "plugin \(id) is a \(manifest(e).kind.rawValue) plugin, not a \(kind.rawValue) plugin",
                            data: ["field": "kind", "plugin": .string(id)])
      }
      return e
    }
    guard let kind else {
      throw ResponseError(.invalidParams, "name a plugin (\"plugin\": id) or a kind (\"kind\": \"focus\", ...)", data: ["field": "plugin"])
    }
    guard let e = items.first(where: { manifest($0).kind == kind }) else {
      throw ResponseError(.pluginNotFound, "no \(kind.rawValue) plugin is loaded; add one with --plugin-dir or plugins/load",
                          data: ["kind": .string(kind.rawValue)])
    }
    return e
  }

  /// Runs a plugin's operation in one of its workers, within `timeoutSeconds` (default `defaultCallTimeout`), and
  /// checks the result of a kind's operation against the kind's contract.
  public func run(
    _ params: PluginsRunRequest.Params, isCancelled: @escaping () -> Bool, progress: @escaping (Double, String?) -> Void,
    log: @escaping (Int32, String) -> Void
  ) throws -> PluginsRunRequest.Response {
    if let t = params.timeoutSeconds, !(t > 0 && t.isFinite) {
      throw ResponseError(.invalidParams, "timeoutSeconds must be a positive number of seconds, got \(t); leave it out for the default of \(PluginWorker.seconds(defaultCallTimeout)) s",
                          data: ["field": "timeoutSeconds"])
    }
    let entry = try entry(id: params.plugin, kind: params.kind)
    let call = try Self.workerCall(params, manifest: entry.manifest)
    let timeout = params.timeoutSeconds ?? defaultCallTimeout
    let result = try entry.withWorker { worker in
      try worker.call(call, events: .init(progress: progress, log: log), isCancelled: isCancelled, timeout: timeout)
    }
    let outputs: [TensorRef]
    do {
      outputs = try JSONCodec.decode([TensorRef].self, from: result["outputs"] ?? .array([]))
    } catch {
      throw ResultContract.violation(plugin: entry.manifest.id, "its worker returned unreadable outputs")
    }
    let response = PluginsRunRequest.Response(plugin: entry.manifest.id, result: result["result"] ?? .null, outputs: outputs)
    if call.method == entry.manifest.kind.operation { try ResultContract.check(response, kind: entry.manifest.kind) }
    return response
  }

  /// The call a request makes of a plugin: its method offered by the manifest, its parameters checked against the
  /// manifest with defaults filled in, its outputs to `outputDir` (or the host's scratch folder).
  static func workerCall(_ params: PluginsRunRequest.Params, manifest: PluginManifest) throws -> WorkerCall {
    let method = params.method ?? manifest.kind.operation
    guard manifest.methods.contains(method) else {
      throw ResponseError(.invalidParams, "plugin \(manifest.id) has no method \(Truncated.quote(method)) (it offers \(manifest.methods.joined(separator: ", ")))",
                          data: ["field": "method", "plugin": .string(manifest.id)])
    }
    let parameters: JSONObject
    do {
      parameters = try ManifestValidation.resolve(params.parameters, against: manifest.parameters)
    } catch let error as ParameterError {
      throw ResponseError(.invalidParams, "plugin \(manifest.id): \(error.message)",
                          data: ["field": .string(error.field), "plugin": .string(manifest.id)])
    }
    return WorkerCall(method: method, params: ["parameters": .object(parameters), "context": params.context ?? .null],
                      inputs: params.inputs, outputDir: params.outputDir ?? scratchDirectory)
  }

  /// Where outputs go when a request names no folder: shared memory (tmpfs) when the machine has it.
  public static let scratchDirectory: String = {
    (scratchBase as NSString).appendingPathComponent("confound-\(getpid())")
  }()

  static let scratchBase = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()

  /// Removes the scratch folders of hosts that are no longer running (`confound-<pid>` with no such process), left
  /// by a host killed with SIGKILL. Returns the folders removed.
  @discardableResult
  public static func removeStaleScratchDirectories() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: scratchBase)) ?? []
    var removed: [String] = []
    for name in names where name.hasPrefix("confound-") {
      guard let pid = Int32(name.dropFirst("confound-".count)), pid > 0, pid != getpid() else { continue }
      // ESRCH: no such process. EPERM means it exists under another user: leave it.
      if kill(pid, 0) != 0 && errno == ESRCH {
        let path = (scratchBase as NSString).appendingPathComponent(name)
        if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
      }
    }
    return removed
  }

  /// Ends every worker and removes the scratch folder: closes each worker's input, gives them `grace` seconds to
  /// exit, then ends the process group of any still running; returns once all have exited (or after 5 s more).
  public func shutdown(grace: Double = 2) {
    lock.lock()
    let all = entries
    lock.unlock()
    let workers = all.flatMap { $0.takeAll() }
    workers.forEach { $0.close() }
    let deadline = Date(timeIntervalSinceNow: grace)
    for worker in workers where !worker.waitForExit(timeout: max(0, deadline.timeIntervalSinceNow)) { worker.kill() }
    for worker in workers { _ = worker.waitForExit(timeout: 5) }
    // Workers not yet registered: still loading, or started by a call that has not returned.
    tracker.stopAll(timeout: 5)
    try? FileManager.default.removeItem(atPath: Self.scratchDirectory)
  }
}
