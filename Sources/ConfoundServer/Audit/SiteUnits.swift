import ConfoundCore
import Foundation
import JSONRPC

/// One site of a screen, as the audit's per-site stages walk them.
typealias ScreenSite = (plate: Plate, well: Well, site: Site)

/// The per-site units of one audit stage: which sites are still to do, and the loop that does them.
///
/// A site is to do when the stage has neither completed nor failed it in the store, so a resumed run redoes only
/// what is missing and does not retry a site that failed for a reason of its own (a corrupt image). The loop runs
/// the sites on as many lanes as the plugin has workers. A site whose work throws is recorded as a failed unit
/// with its message and the stage goes on; cancellation stops every lane at its next site.
struct SiteUnits {
  let stage: String
  let runner: AuditRunner
  let store: RunStore
  /// Keys of the units this stage completed in earlier runs.
  let done: Set<String>
  /// Messages of the units this stage failed in earlier runs, by key.
  let failedBefore: [String: String]
  /// The sites still to do, in screen order.
  let todo: [ScreenSite]

  /// - Parameter ready: a further condition a site must meet to be done now (for example: segmented).
  init(stage: String, runner: AuditRunner, store: RunStore, screen: Screen,
       ready: (String) -> Bool = { _ in true }) throws {
    self.stage = stage
    self.runner = runner
    self.store = store
    let done = try store.doneKeys(stage: stage)
    let failedBefore = try store.failures(stage: stage)
    self.done = done
    self.failedBefore = failedBefore
    todo = screen.sites.filter { item in
      let key = FocusStage.key(item.plate, item.well, item.site)
      return ready(key) && !done.contains(key) && failedBefore[key] == nil
    }
  }

  /// Runs `work` for each of `sites` (default: all of `todo`) across the plugin's workers.
  ///
  /// `work` receives the site, its unit key and `lock`, which it must hold while it writes to the store; it
  /// throws to fail the unit. Progress is reported from `progress.lowerBound` to `progress.upperBound`.
  /// - Returns: how many sites completed, and the failure messages of this run and of earlier ones.
  func run(_ sites: [ScreenSite]? = nil, lock: NSLock = NSLock(), progress: ClosedRange<Double>,
           work: (ScreenSite, String, NSLock) throws -> Void) -> (computed: Int, failures: [String]) {
    let sites = sites ?? todo
    let context = runner.context
    var computed = 0
    var failures: [String] = Array(failedBefore.values)
    let lanes = max(1, min(runner.registry.maxWorkersPerPlugin, sites.count))
    DispatchQueue.concurrentPerform(iterations: lanes) { lane in
      for index in stride(from: lane, to: sites.count, by: lanes) where !context.token.isCancelled {
        let site = sites[index]
        let key = FocusStage.key(site.plate, site.well, site.site)
        do {
          try work(site, key, lock)
          lock.lock()
          computed += 1
          lock.unlock()
        } catch let error as ResponseError where error.code == .requestCancelled {
          return
        } catch {
          let message = "\(key): \((error as? ResponseError)?.message ?? "\(error)")"
          context.log(.warning, "\(stage): \(message)")
          lock.lock()
          try? store.fail(stage: stage, key: key, message: message)
          failures.append(message)
          lock.unlock()
        }
        lock.lock()
        let fraction = Double(computed + failures.count - failedBefore.count) / Double(max(todo.count, 1))
        lock.unlock()
        let at = progress.lowerBound + (progress.upperBound - progress.lowerBound) * fraction
        context.reportProgress(at, "\(stage) \(computed)/\(todo.count) sites")
      }
    }
    return (computed, failures)
  }
}
