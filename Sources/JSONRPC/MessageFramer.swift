/// The LSP base protocol as a pure state machine: bytes in, message bodies and framing errors out.
///
/// A frame is `Content-Length: N\r\n` (other headers allowed and ignored, names case-insensitive), a blank
/// line `\r\n`, then N bytes of body. The framer never does I/O and never throws: feed it whatever a read
/// returned, in chunks of any size, and collect the events. After a bad header it resynchronises on the next
/// `Content-Length:` so one broken frame does not poison the stream; an oversized body is skipped, not
/// buffered.
public struct MessageFramer: Sendable {
  public enum Event: Equatable, Sendable {
    case body([UInt8])
    case error(FramingError)
  }

  public enum FramingError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingContentLength
    case invalidContentLength(String)
    /// A Content-Length of digits only, but too large to represent in 63 bits.
    case unrepresentableContentLength(String)
    case tooLarge(length: Int, limit: Int)
    case headerTooLong(limit: Int)
    /// The input ended inside a frame: `expected` body bytes announced, `received` arrived.
    case truncated(expected: Int, received: Int)
    /// The input ended inside a header block.
    case truncatedHeader

    public var description: String {
      switch self {
      case .missingContentLength: return "the header block has no Content-Length"
      case .invalidContentLength(let v): return "Content-Length '\(Truncated.quote(v))' is not a non-negative integer"
      case .unrepresentableContentLength(let v):
        return "Content-Length \(Truncated.quote(v)) is too large to represent (over \(Int.max)); no message is that long"
      case .tooLarge(let length, let limit):
        return "Content-Length \(length) exceeds the limit of \(limit) bytes (start the host with a larger --max-message-bytes)"
      case .headerTooLong(let limit): return "a header block longer than \(limit) bytes"
      case .truncated(let expected, let received):
        return "the input ended after \(received) of \(expected) announced body bytes"
      case .truncatedHeader: return "the input ended inside a header block"
      }
    }
  }

  private enum State: Sendable {
    case header
    case body(length: Int)
    case skipping(remaining: Int)
    case resync
  }

  public let maxBodyBytes: Int
  public let maxHeaderBytes: Int
  private var buffer: [UInt8] = []
  private var start = 0
  private var state: State = .header

  public init(maxBodyBytes: Int = 64 << 20, maxHeaderBytes: Int = 8192) {
    self.maxBodyBytes = maxBodyBytes
    self.maxHeaderBytes = maxHeaderBytes
  }

  /// Feeds bytes; returns the bodies completed and the errors met, in stream order.
  public mutating func push(_ bytes: some Collection<UInt8>) -> [Event] {
    buffer.append(contentsOf: bytes)
    var events: [Event] = []
    while let event = step() { events.append(event) }
    compact()
    return events
  }

  /// Tells the framer the input has ended; reports a frame left incomplete, if any.
  public mutating func finish() -> Event? {
    let pending = buffer.count - start
    defer {
      buffer.removeAll()
      start = 0
      state = .header
    }
    switch state {
    case .body(let length): return .error(.truncated(expected: length, received: pending))
    case .header where pending > 0 && !isWhitespace(buffer[start...]): return .error(.truncatedHeader)
    default: return nil
    }
  }

  /// Advances by one event, or returns nil when more input is needed.
  private mutating func step() -> Event? {
    while true {
      switch state {
      case .skipping(let remaining):
        let available = buffer.count - start
        if available < remaining {
          start = buffer.count
          state = .skipping(remaining: remaining - available)
          return nil
        }
        start += remaining
        state = .header
      case .resync:
        guard let found = find(contentLengthName, caseInsensitive: true) else {
          // Keep a tail that could be the beginning of the name.
          start = max(start, buffer.count - contentLengthName.count)
          return nil
        }
        start = found
        state = .header
      case .body(let length):
        guard buffer.count - start >= length else { return nil }
        let body = Array(buffer[start..<start + length])
        start += length
        state = .header
        return .body(body)
      case .header:
        // Blank lines between frames are tolerated.
        while start < buffer.count, buffer[start] == 0x0D || buffer[start] == 0x0A {
          if buffer[start] == 0x0A || start + 1 < buffer.count { start += 1 } else { return nil }
        }
        guard let end = find(headerTerminator, caseInsensitive: false) else {
          if buffer.count - start > maxHeaderBytes {
            start = buffer.count
            state = .resync
            return .error(.headerTooLong(limit: maxHeaderBytes))
          }
          return nil
        }
        let header = buffer[start..<end]
        start = end + headerTerminator.count
        switch contentLength(in: header) {
        case .failure(let error):
          state = .resync
          return .error(error)
        case .success(let length) where length > maxBodyBytes:
          state = .skipping(remaining: length)
          return .error(.tooLarge(length: length, limit: maxBodyBytes))
        case .success(let length):
          state = .body(length: length)
        }
      }
    }
  }

  /// The Content-Length of a header block, read straight from its bytes (no String per header: this runs for
  /// every message). The last Content-Length line wins; other headers are skipped.
  private func contentLength(in header: ArraySlice<UInt8>) -> Result<Int, FramingError> {
    var value: ArraySlice<UInt8>?
    var lineStart = header.startIndex
    while lineStart < header.endIndex {
      var lineEnd = lineStart
      while lineEnd < header.endIndex && header[lineEnd] != 0x0D && header[lineEnd] != 0x0A { lineEnd += 1 }
      if let colon = header[lineStart..<lineEnd].firstIndex(of: UInt8(ascii: ":")),
        Self.equalsIgnoringCase(trimmed(header[lineStart..<colon]), contentLengthName.dropLast())
      {
        value = trimmed(header[(colon + 1)..<lineEnd])
      }
      lineStart = lineEnd
      while lineStart < header.endIndex && (header[lineStart] == 0x0D || header[lineStart] == 0x0A) { lineStart += 1 }
    }
    guard let value else { return .failure(.missingContentLength) }
    var length = 0
    var overflow = false
    for byte in value {
      guard byte >= 0x30, byte <= 0x39 else {
        return .failure(.invalidContentLength(String(decoding: value, as: UTF8.self)))
      }
      // Keep scanning after an overflow: a later non-digit makes it invalid rather than too large.
      let (times10, o1) = length.multipliedReportingOverflow(by: 10)
      let (next, o2) = times10.addingReportingOverflow(Int(byte - 0x30))
      overflow = overflow || o1 || o2
      length = overflow ? 0 : next
    }
    if overflow { return .failure(.unrepresentableContentLength(String(decoding: value, as: UTF8.self))) }
    guard !value.isEmpty else { return .failure(.invalidContentLength("")) }
    return .success(length)
  }

  private func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var s = bytes
    while let first = s.first, first == 0x20 || first == 0x09 { s = s.dropFirst() }
    while let last = s.last, last == 0x20 || last == 0x09 { s = s.dropLast() }
    return s
  }

  private static func equalsIgnoringCase(_ a: ArraySlice<UInt8>, _ lowercase: ArraySlice<UInt8>) -> Bool {
    guard a.count == lowercase.count else { return false }
    return zip(a, lowercase).allSatisfy { x, y in (x >= 0x41 && x <= 0x5A ? x + 0x20 : x) == y }
  }

  private let headerTerminator: [UInt8] = Array("\r\n\r\n".utf8)
  private let contentLengthName: [UInt8] = Array("content-length:".utf8)

  private func find(_ needle: [UInt8], caseInsensitive: Bool) -> Int? {
    guard buffer.count - start >= needle.count else { return nil }
    var i = start
    let last = buffer.count - needle.count
    while i <= last {
      var matched = true
      for j in 0..<needle.count {
        var byte = buffer[i + j]
        if caseInsensitive, byte >= 0x41, byte <= 0x5A { byte += 0x20 }
        if byte != needle[j] {
          matched = false
          break
        }
      }
      if matched { return i }
      i += 1
    }
    return nil
  }

  private func isWhitespace(_ bytes: ArraySlice<UInt8>) -> Bool {
    bytes.allSatisfy { $0 == 0x20 || $0 == 0x0D || $0 == 0x0A || $0 == 0x09 }
  }

  /// Drops consumed bytes once they dominate the buffer, keeping appends amortised O(1).
  private mutating func compact() {
    if start == buffer.count {
      buffer.removeAll(keepingCapacity: true)
      start = 0
    } else if start > 65536 && start * 2 > buffer.count {
      buffer.removeFirst(start)
      start = 0
    }
  }

  /// Frames a body for sending: `Content-Length: N\r\n\r\n` + body.
  public static func frame(_ body: [UInt8]) -> [UInt8] {
    var out = Array("Content-Length: \(body.count)\r\n\r\n".utf8)
    out.append(contentsOf: body)
    return out
  }
}
