import ConfoundCore
import Foundation
import JSONRPC

/// The per-site units of one audit stage: which sites are still to do, and the loop that does them.
///
/// A site is to do when the stage has neither completed nor failed it in the store, so a resumed run redoes only
/// what is missing and does not retry a site that failed for a reason of its own (a corrupt image). A unit the
/// store calls done whose results are gone (a table emptied by hand, a damaged copy) is not trusted: `holds`
/// tells, and such units are redone, with a warning naming the store. The loop runs the sites on as many lanes as
/// the plugin has workers. A site whose work throws is recorded as a failed unit with its message and the stage
/// goes on; cancellation stops every lane at its next site.
struct SiteUnits {
  let stage: String
  let audit: Audit
  /// Keys of the units this stage completed in earlier runs (and still holds the results of).
  let done: Set<String>
  /// Messages of the units this stage failed in earlier runs, by key.
  let failedBefore: [String: String]
  /// The sites still to do, in screen order.
  let todo: [ScreenSite]

  /// - Parameters:
  ///   - ready: a further condition a site must meet to be done now (for example: segmented).
  ///   - holds: whether the store still holds the results of a unit it calls done (nil: trust it).
  init(stage: String, audit: Audit, ready: (String) -> Bool = { _ in true }, holds: ((SiteKey) -> Bool)? = nil) throws {
    self.stage = stage
    self.audit = audit
    var done = try audit.store.doneKeys(stage: stage)
    if let holds {
      let lost = audit.sites.filter { done.contains(Self.key($0)) && !holds(Self.siteKey($0)) }.map { Self.key($0) }
      if !lost.isEmpty {
        audit.context.log(.warning, "\(stage): \(lost.count) units marked done in \(audit.store.url.path) have no stored results "
                            + "(e.g. \(lost[0])): redoing them")
        try audit.store.forget(stage: stage, keys: lost)
        done.subtract(lost)
      }
    }
    let failedBefore = try audit.store.failures(stage: stage)
    self.done = done
    self.failedBefore = failedBefore
    todo = audit.sites.filter { item in
      let key = Self.key(item)
      return ready(key) && !done.contains(key) && failedBefore[key] == nil
    }
  }

  /// `plate/well/site`: a site's unit key in every per-site stage.
  static func key(_ site: ScreenSite) -> String { "\(site.plate.name)/\(site.well.name)/\(site.site.number)" }

  static func siteKey(_ site: ScreenSite) -> SiteKey {
    SiteKey(plate: site.plate.name, well: site.well.name, site: site.site.number)
  }

  /// Runs `work` for each of `sites` (default: all of `todo`) across the plugin's workers.
  ///
  /// `work` receives the site, its unit key and `lock`, which it must hold while it writes to the store; it
  /// throws to fail the unit. Progress is reported as "<stage> done/total sites".
  /// - Returns: the stage's counts (this run's and earlier failures).
  func run(_ sites: [ScreenSite]? = nil, lock: NSLock = NSLock(),
           work: (ScreenSite, String, NSLock) throws -> Void) -> StageCounts {
    let sites = sites ?? todo
    let context = audit.context
    var computed = 0
    var failures: [String] = Array(failedBefore.values)
    let lanes = max(1, min(audit.plugins.maxWorkersPerPlugin, sites.count))
    DispatchQueue.concurrentPerform(iterations: lanes) { lane in
      for index in stride(from: lane, to: sites.count, by: lanes) where !context.token.isCancelled {
        let site = sites[index]
        let key = Self.key(site)
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
          try? audit.store.fail(stage: stage, key: key, message: message)
          failures.append(message)
          lock.unlock()
        }
        lock.lock()
        let finished = computed + failures.count - failedBefore.count
        lock.unlock()
        audit.reportStageProgress(Double(finished) / Double(max(todo.count, 1)), "\(stage) \(finished)/\(todo.count) sites")
      }
    }
    return StageCounts(computed: computed, resumed: done.count, failed: failures.count, failures: failures)
  }
}
