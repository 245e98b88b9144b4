import CProcessControl

#if canImport(Glibc)
  import Glibc
#endif

/// Ends a worker, and the children its plugin forked, when the host is gone, however it went: a host killed by
/// SIGKILL cannot end its workers' process groups itself. The kernel signals the worker when its parent exits
/// (PR_SET_PDEATHSIG); it also does so when the host *thread* that started the worker exits, so the signal counts
/// only when the parent is no longer the host, and the host's pid is compared, not trusted from `getppid()` at
/// start: the host may have died before the watch was set.
enum ParentWatch {
  /// The signal the kernel sends; the worker's own, no plugin has a use for it.
  static let signal = SIGUSR2

  /// Watches `host` (the pid the host passed with `--host-pid`). Ends the worker's group at once when the host is
  /// already gone.
  static func start(host: pid_t) {
    watchedHost = host
    _ = Glibc.signal(signal, parentDeathHandler)
    // The host's spawning thread may block signals (dispatch threads do), and its mask is inherited.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, signal)
    sigprocmask(SIG_UNBLOCK, &set, nil)
    _ = cf_set_parent_death_signal(signal)
    if getppid() != host { endWorkerGroup() }
  }
}

/// The host's pid; written once before the handler is installed.
nonisolated(unsafe) private var watchedHost: pid_t = 0

/// Async-signal-safe: reads the parent pid and, when the host is gone, kills the group.
private func parentDeathHandler(_: Int32) {
  if getppid() != watchedHost { endWorkerGroup() }
}

/// SIGKILL to the worker's whole group (itself included) when it leads one; a worker without its own group (setpgid
/// failed) leaves alone rather than signal a group it shares with others.
private func endWorkerGroup() {
  if getpgrp() == getpid() { _ = kill(0, SIGKILL) }
  _exit(71)  // WorkerExit.hostGone, as a literal: a lazily initialised static is not async-signal-safe
}
