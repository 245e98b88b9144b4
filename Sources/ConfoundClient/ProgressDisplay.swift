import ConfoundProtocol
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Shows `$/progress` on stderr: a redrawn bar on a terminal, plain lines (one per 10%, and one whenever the
/// message's first word, an audit's stage, changes) when stderr is a file or a pipe, so logs of headless runs stay
/// readable and still name every stage.
public final class ProgressDisplay: @unchecked Sendable {
  private let lock = NSLock()
  private let isTerminal: Bool
  private var title = ""
  private var lastPlain = -1
  private var lastStage: Substring?
  private var drawn = false

  public init(isTerminal: Bool = isatty(2) != 0) { self.isTerminal = isTerminal }

  public func update(_ value: WorkDoneProgress) {
    lock.lock()
    defer { lock.unlock() }
    switch value.kind {
    case .begin:
      title = value.title ?? ""
      lastPlain = -1
      lastStage = nil
      render(value.percentage ?? 0, value.message)
    case .report:
      render(value.percentage ?? 0, value.message)
    case .end:
      if isTerminal && drawn { emit("\r\u{1B}[2K") }
      drawn = false
      if !isTerminal { emit("\(title): done\(value.message.map { " (\($0))" } ?? "")\n") }
    }
  }

  /// A line of text that does not break the bar.
  public func message(_ text: String) {
    lock.lock()
    defer { lock.unlock() }
    if isTerminal && drawn { emit("\r\u{1B}[2K") }
    emit(text + "\n")
    drawn = false
  }

  private func render(_ percentage: Int, _ message: String?) {
    if isTerminal {
      let width = 30
      let filled = width * min(max(percentage, 0), 100) / 100
      let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
      emit("\r\u{1B}[2K\(title) [\(bar)] \(percentage)%\(message.map { " \($0)" } ?? "")")
      drawn = true
    } else if percentage / 10 != lastPlain / 10 || lastPlain < 0 || WorkDoneProgress.stage(of: message) != lastStage {
      lastPlain = percentage
      lastStage = WorkDoneProgress.stage(of: message)
      emit("\(title): \(percentage)%\(message.map { " \($0)" } ?? "")\n")
    }
  }

  private func emit(_ text: String) {
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
  }
}
