import Foundation
import JSONRPC

#if canImport(Glibc)
  import Glibc
#endif

/// JSON-RPC messages over a pair of file descriptors with LSP framing: what the host speaks to its client and
/// to each worker. Writes are serialised by a lock; reads happen on the caller's thread (`readLoop`).
public final class FrameChannel: @unchecked Sendable {
  private let readFD: Int32
  private let writeFD: Int32
  private let writeLock = NSLock()
  private var framer: MessageFramer

  public init(readFD: Int32, writeFD: Int32, maxBodyBytes: Int = 64 << 20) {
    self.readFD = readFD
    self.writeFD = writeFD
    self.framer = MessageFramer(maxBodyBytes: maxBodyBytes)
  }

  /// Sends one message; returns false when the other side has gone.
  @discardableResult
  public func send(_ message: Message) -> Bool { sendBody(message.bytes) }

  /// Sends an already-serialised JSON body.
  @discardableResult
  public func sendBody(_ body: [UInt8]) -> Bool { sendChunks([body]) }

  /// Sends one body given as consecutive pieces (a batch response), written one after another under one header,
  /// never concatenated in memory.
  @discardableResult
  public func sendChunks(_ chunks: [[UInt8]]) -> Bool {
    let header = Array("Content-Length: \(chunks.reduce(0) { $0 + $1.count })\r\n\r\n".utf8)
    writeLock.lock()
    defer { writeLock.unlock() }
    for chunk in [header] + chunks where !writeAll(chunk) { return false }
    return true
  }

  private func writeAll(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let n = write(writeFD, raw.baseAddress! + offset, raw.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          return false
        }
        offset += n
      }
      return true
    }
  }

  /// Reads until end of input, calling `onEvent` for every framed body or framing error, then once with
  /// `finish()`'s event (a frame cut short), if any. Blocks the calling thread.
  public func readLoop(_ onEvent: (MessageFramer.Event) -> Void) {
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      for event in framer.push(buffer[0..<n]) { onEvent(event) }
    }
    if let last = framer.finish() { onEvent(last) }
  }
}
