import JSONRPC
import XCTest

/// Small protocol mistakes get a precise answer, and nothing a peer sends is echoed back at full length.
final class ProtocolMistakeTests: XCTestCase {
  private func single(_ text: String) -> Result<Message, DecodeFailure> {
    guard case .single(let result) = Incoming.parse(Array(text.utf8)) else { return .failure(DecodeFailure(id: nil, error: ResponseError(.internalError, "a batch"))) }
    return result
  }

  func testAnIntegralNumberIsAnIntegerID() throws {
    XCTAssertEqual(try single(#"{"jsonrpc":"2.0","id":3.0,"method":"m"}"#).get(), .request(id: .int(3), method: "m", params: nil))
    XCTAssertEqual(try single(#"{"jsonrpc":"2.0","id":-2e3,"method":"m"}"#).get(), .request(id: .int(-2000), method: "m", params: nil))
    guard case .failure(let failure) = single(#"{"jsonrpc":"2.0","id":3.5,"method":"m"}"#) else { return XCTFail("3.5 accepted") }
    XCTAssertEqual(failure.error.code, .invalidRequest)
    XCTAssertTrue(failure.error.message.contains("3.5, which is not an integer"), failure.error.message)
    guard case .failure(let huge) = single(#"{"jsonrpc":"2.0","id":1e300,"method":"m"}"#) else { return XCTFail("1e300 accepted") }
    XCTAssertEqual(huge.error.code, .invalidRequest)
  }

  func testAContentLengthTooLargeToRepresentHasItsOwnError() {
    var framer = MessageFramer()
    let digits = String(repeating: "9", count: 40)
    let events = framer.push(Array("Content-Length: \(digits)\r\n\r\n{}".utf8) + Array("Content-Length: 2\r\n\r\n{}".utf8))
    guard case .error(let error) = events.first else { return XCTFail("\(events)") }
    XCTAssertEqual(error, .unrepresentableContentLength(digits))
    XCTAssertTrue(error.description.contains("too large to represent"), error.description)
    XCTAssertFalse(error.description.contains("not a non-negative integer"), error.description)
    XCTAssertEqual(events.last, .body(Array("{}".utf8)), "the framer resynchronises on the next frame")
    // Just representable, it is an ordinary frame over the size limit.
    var framer2 = MessageFramer(maxBodyBytes: 10)
    guard case .error(.tooLarge(let length, _))? = framer2.push(Array("Content-Length: \(Int.max)\r\n\r\n".utf8)).first else {
      return XCTFail("Int.max not read as a length")
    }
    XCTAssertEqual(length, Int.max)
  }

  func testABadContentLengthIsQuotedShort() {
    var framer = MessageFramer()
    let junk = String(repeating: "x", count: 5_000)
    guard case .error(let error)? = framer.push(Array("Content-Length: \(junk)\r\n\r\n".utf8)).first else { return XCTFail() }
    XCTAssertLessThan(error.description.utf8.count, 300, error.description)
    XCTAssertTrue(error.description.contains("(5000 bytes)"), error.description)
  }

  func testTruncatedQuotesAPrefixAndTheSize() {
    XCTAssertEqual(Truncated.quote("plugins/list"), "plugins/list")
    let long = String(repeating: "é", count: 1000)
    let quoted = Truncated.quote(long, limit: 10)
    XCTAssertEqual(quoted, String(repeating: "é", count: 10) + "... (2000 bytes)")
    XCTAssertEqual(Truncated.quote(Array(repeating: UInt8(ascii: "a"), count: 70)), String(repeating: "a", count: 64) + "... (70 bytes)")
  }
}
