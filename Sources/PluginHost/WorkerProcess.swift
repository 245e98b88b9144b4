import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One `confound-worker` child process: started with pipes for its stdin and stdout, watched by its exit status
/// (never by end of file: a child the plugin forked may hold the pipes open long after the worker died), and ended
/// together with its process group, which the worker makes its own when it starts (`WorkerMain`), so children a
/// plugin forks go with it.
final class WorkerProcess: @unchecked Sendable {
  /// Why the host stopped a worker: kept so that an error names the real cause, not "signal 9".
  enum StopReason: Sendable, Equatable {
    case loadTimeout(Double)
    case callTimeout(Double)
    case cancelled
    /// The worker's channel broke: garbage in it, a result over its limit, or its output closed.
    case channelFault(String)
    case shutdown
  }

  private let process = Process()
  let input: FileHandle
  let output: FileHandle
  private let condition = NSCondition()
  /// The exit as `waitid` saw it: Foundation learns of an exit only when every holder of a socket it gives the
  /// child has closed it, and a plugin's forked child may hold that socket long after the worker died.
  private var exitStatus: (reason: Process.TerminationReason, status: Int32)?
  private var stopReason: StopReason?

  /// Starts `executable` with `arguments`; `onExit` runs once, on a Foundation thread, when the process has exited
  /// (its group has been ended by then).
  init(
    executable: String, arguments: [String], environment: [String: String], tracker: WorkerTracker,
    onExit: @escaping () -> Void
  ) throws {
    let toWorker = Pipe()
    let fromWorker = Pipe()
    input = toWorker.fileHandleForWriting
    output = fromWorker.fileHandleForReading
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = toWorker
    process.standardOutput = fromWorker
    process.environment = environment
    try process.run()
    tracker.insert(self)
    let pid = process.processIdentifier
    Thread { [self] in
      // WNOWAIT: learn of the exit without reaping, so the pid cannot be reused while we still signal its group,
      // and Foundation reaps it as usual.
      var info = siginfo_t()
      var rc: Int32
      repeat { rc = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) } while rc != 0 && errno == EINTR
      let seen: (Process.TerminationReason, Int32)
      if rc == 0 {
        seen = (info.si_code == CLD_EXITED ? .exit : .uncaughtSignal, info._sifields._sigchld.si_status)
      } else {
        // Already reaped by Foundation (an exit before this thread ran): its record is complete.
        process.waitUntilExit()
        seen = (process.terminationReason, process.terminationStatus)
      }
      // The worker is gone; whatever it left in its group (a plugin's forked children) goes too.
      _ = Glibc.kill(-pid, SIGKILL)
      condition.lock()
      exitStatus = seen
      condition.broadcast()
      condition.unlock()
      tracker.remove(self)
      onExit()
    }.start()
  }

  var pid: Int32 { process.processIdentifier }

  /// Why the host stopped it, if it did.
  var reason: StopReason? {
    condition.lock()
    defer { condition.unlock() }
    return stopReason
  }

  /// Ends the worker and its process group at once; the first reason given is the one kept.
  func stop(_ reason: StopReason) {
    condition.lock()
    if stopReason == nil { stopReason = reason }
    let running = exitStatus == nil
    condition.unlock()
    if running { Self.endGroup(pid) }
  }

  /// SIGKILL to the worker's process group, or to the worker alone while it has not made its group yet. Called
  /// only before the exit is reaped, so the pid is still the worker's.
  private static func endGroup(_ pid: Int32) {
    guard pid > 0 else { return }
    if Glibc.kill(-pid, SIGKILL) != 0 { _ = Glibc.kill(pid, SIGKILL) }
  }

  /// Waits at most `timeout` seconds for the exit; true when it has exited.
  @discardableResult
  func waitForExit(timeout: Double) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    condition.lock()
    defer { condition.unlock() }
    while exitStatus == nil && condition.wait(until: deadline) {}
    return exitStatus != nil
  }

  /// "signal 11, Segmentation fault" or "exit status 3", once exited (waits up to 5 s for the status to arrive).
  var terminationText: String {
    waitForExit(timeout: 5)
    condition.lock()
    defer { condition.unlock() }
    guard let (reason, status) = exitStatus else { return "still running" }
    if reason == .uncaughtSignal {
      let name = strsignal(status).map { String(cString: $0) } ?? "signal"
      return "signal \(status), \(name)"
    }
    return "exit status \(status)"
  }

  /// The exit status when the worker exited normally (not by a signal).
  var normalExitStatus: Int32? {
    condition.lock()
    defer { condition.unlock() }
    guard let (reason, status) = exitStatus, reason == .exit else { return nil }
    return status
  }
}

/// The workers of one registry that have not exited, loading ones included: what a host must end on its way out.
public final class WorkerTracker: @unchecked Sendable {
  private let lock = NSLock()
  private var items: [ObjectIdentifier: WorkerProcess] = [:]
  public init() {}

  func insert(_ w: WorkerProcess) {
    lock.lock()
    items[ObjectIdentifier(w)] = w
    lock.unlock()
  }

  func remove(_ w: WorkerProcess) {
    lock.lock()
    items[ObjectIdentifier(w)] = nil
    lock.unlock()
  }

  /// Stops every worker still running and waits up to `timeout` seconds for them to exit.
  func stopAll(timeout: Double) {
    lock.lock()
    let all = Array(items.values)
    lock.unlock()
    all.forEach { $0.stop(.shutdown) }
    let deadline = Date(timeIntervalSinceNow: timeout)
    for worker in all { worker.waitForExit(timeout: max(0, deadline.timeIntervalSinceNow)) }
  }
}

/// Exit statuses of `confound-worker` that say what happened (Protocol/README.md, "Plugin isolation").
enum WorkerExit {
  /// The plugin could not be opened; the reason went to the host as `worker/loadFailed`.
  static let loadFailed: Int32 = 3
  /// The worker's channel to the host was closed or replaced under it (by the plugin: nothing else touches it).
  static let channelLost: Int32 = 70
  /// The host died (its pid is no longer the worker's parent); the worker ended its process group.
  static let hostGone: Int32 = 71
}
