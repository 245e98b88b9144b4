import JSONRPC
import XCTest

final class MessageFramerTests: XCTestCase {
  private func frame(_ body: String, extraHeaders: String = "") -> [UInt8] {
    Array("Content-Length: \(body.utf8.count)\r\n\(extraHeaders)\r\n\(body)".utf8)
  }

  private func bodies(_ events: [MessageFramer.Event]) -> [String] {
    events.compactMap { if case .body(let b) = $0 { return String(decoding: b, as: UTF8.self) } else { return nil } }
  }

  private let messages = [
    #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
    #"{"jsonrpc":"2.0","method":"initialized"}"#,
    #"{"jsonrpc":"2.0","id":"x","method":"plugins/list","params":{"name":"é→😀"}}"#,
    "",
  ]

  private var stream: [UInt8] {
    messages.enumerated().flatMap { i, m in frame(m, extraHeaders: i == 1 ? "Content-Type: application/json\r\n" : "") }
  }

  func testWholeStreamAtOnce() {
    var framer = MessageFramer()
    XCTAssertEqual(bodies(framer.push(stream)), messages)
    XCTAssertNil(framer.finish())
  }

  func testByteByByte() {
    var framer = MessageFramer()
    var events: [MessageFramer.Event] = []
    for byte in stream { events += framer.push([byte]) }
    XCTAssertEqual(bodies(events), messages)
    XCTAssertEqual(events.count, messages.count)
  }

  func testRandomChunksSplitHeadersAnywhere() {
    var rng = SystemRandomNumberGenerator()
    let bytes = stream
    for _ in 0..<500 {
      var framer = MessageFramer()
      var events: [MessageFramer.Event] = []
      var i = 0
      while i < bytes.count {
        let n = Int.random(in: 1...12, using: &rng)
        events += framer.push(bytes[i..<min(bytes.count, i + n)])
        i += n
      }
      XCTAssertEqual(bodies(events), messages)
    }
  }

  func testEverySplitPointOfOneFrame() {
    let bytes = frame(messages[0])
    for split in 1..<bytes.count {
      var framer = MessageFramer()
      let events = framer.push(bytes[..<split]) + framer.push(bytes[split...])
      XCTAssertEqual(bodies(events), [messages[0]], "split at \(split)")
    }
  }

  func testHeaderNamesAreCaseInsensitiveAndOtherHeadersIgnored() {
    var framer = MessageFramer()
    let bytes = Array("content-type: x\r\nCONTENT-LENGTH:  2\r\nX-Other: 99\r\n\r\n{}".utf8)
    XCTAssertEqual(bodies(framer.push(bytes)), ["{}"])
  }

  func testMissingContentLengthResynchronisesOnNextFrame() {
    var framer = MessageFramer()
    let events = framer.push(Array("Content-Type: text\r\n\r\n{\"a\":1}".utf8) + frame(messages[1]))
    XCTAssertEqual(events.first, .error(.missingContentLength))
    XCTAssertEqual(bodies(events), [messages[1]])
  }

  func testNonNumericContentLength() {
    var framer = MessageFramer()
    let events = framer.push(Array("Content-Length: 12a\r\n\r\n".utf8) + frame("{}"))
    XCTAssertEqual(events, [.error(.invalidContentLength("12a")), .body(Array("{}".utf8))])
    var negative = MessageFramer()
    XCTAssertEqual(negative.push(Array("Content-Length: -5\r\n\r\n".utf8)), [.error(.invalidContentLength("-5"))])
  }

  func testOversizedBodyIsSkippedNotBuffered() {
    var framer = MessageFramer(maxBodyBytes: 10)
    let big = String(repeating: "x", count: 50)
    var events = framer.push(Array("Content-Length: 50\r\n\r\n".utf8))
    XCTAssertEqual(events, [.error(.tooLarge(length: 50, limit: 10))])
    events = framer.push(Array(big.utf8.prefix(20)))
    XCTAssertEqual(events, [])
    events = framer.push(Array(big.utf8.dropFirst(20)) + frame("{}"))
    XCTAssertEqual(events, [.body(Array("{}".utf8))])
  }

  func testTruncatedBodyAtEndOfInput() {
    var framer = MessageFramer()
    XCTAssertEqual(framer.push(Array("Content-Length: 10\r\n\r\n{\"a\"".utf8)), [])
    XCTAssertEqual(framer.finish(), .error(.truncated(expected: 10, received: 4)))
  }

  func testTruncatedHeaderAtEndOfInput() {
    var framer = MessageFramer()
    XCTAssertEqual(framer.push(Array("Content-Len".utf8)), [])
    XCTAssertEqual(framer.finish(), .error(.truncatedHeader))
  }

  func testEndlessHeaderIsCut() {
    var framer = MessageFramer(maxHeaderBytes: 64)
    let events = framer.push(Array(String(repeating: "X-Pad: 1\r\n", count: 20).utf8))
    XCTAssertEqual(events, [.error(.headerTooLong(limit: 64))])
    XCTAssertEqual(bodies(framer.push(frame("[]"))), ["[]"])
  }

  func testFrameProducesWhatTheFramerReads() {
    let body = Array(#"{"jsonrpc":"2.0","id":7,"result":null}"#.utf8)
    var framer = MessageFramer()
    XCTAssertEqual(framer.push(MessageFramer.frame(body)), [.body(body)])
  }
}
