import CConfoundPlugin
import Foundation

/// The services a running plugin call gets from its host (`cf_host_api`): cancellation, progress and logs.
public final class HostServices: @unchecked Sendable {
  private let cancelled: () -> Bool
  private let onProgress: (Double, String?) -> Void
  private let onLog: (Int32, String) -> Void

  public init(
    isCancelled: @escaping () -> Bool = { false }, progress: @escaping (Double, String?) -> Void = { _, _ in },
    log: @escaping (Int32, String) -> Void = { _, _ in }
  ) {
    self.cancelled = isCancelled
    self.onProgress = progress
    self.onLog = log
  }

  func withHostAPI<R>(_ body: (UnsafePointer<cf_host_api>) throws -> R) rethrows -> R {
    var api = cf_host_api(
      struct_size: UInt32(MemoryLayout<cf_host_api>.size),
      host_context: Unmanaged.passUnretained(self).toOpaque(),
      is_cancelled: { context in
        guard let context else { return 0 }
        return Unmanaged<HostServices>.fromOpaque(context).takeUnretainedValue().cancelled() ? 1 : 0
      },
      progress: { context, fraction, message in
        guard let context else { return }
        let services = Unmanaged<HostServices>.fromOpaque(context).takeUnretainedValue()
        services.onProgress(fraction.isFinite ? min(max(fraction, 0), 1) : 0, message.map { String(cString: $0) })
      },
      log: { context, level, message in
        guard let context, let message else { return }
        Unmanaged<HostServices>.fromOpaque(context).takeUnretainedValue().onLog(level, String(cString: message))
      })
    return try withUnsafePointer(to: &api) { try body($0) }
  }
}
