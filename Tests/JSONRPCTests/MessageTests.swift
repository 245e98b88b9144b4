import JSONRPC
import XCTest

final class MessageTests: XCTestCase {
  private func incoming(_ text: String) -> Incoming { Incoming.parse(Array(text.utf8)) }

  private func single(_ text: String) -> Result<Message, DecodeFailure> {
    guard case .single(let result) = incoming(text) else {
      XCTFail("expected a single message")
      return .failure(DecodeFailure(id: nil, error: ResponseError(.internalError, "")))
    }
    return result
  }

  func testRequestNotificationResponse() {
    XCTAssertEqual(try single(#"{"jsonrpc":"2.0","id":3,"method":"m","params":[1]}"#).get(),
                   .request(id: .int(3), method: "m", params: [1]))
    XCTAssertEqual(try single(#"{"jsonrpc":"2.0","method":"n"}"#).get(), .notification(method: "n", params: nil))
    XCTAssertEqual(try single(#"{"jsonrpc":"2.0","id":"a","result":{"x":1}}"#).get(),
                   .response(id: .string("a"), result: ["x": 1], error: nil))
  }

  func testInvalidJSONIsParseErrorWithNullId() {
    guard case .failure(let failure) = single("{not json") else { return XCTFail() }
    XCTAssertEqual(failure.error.code, .parseError)
    XCTAssertNil(failure.id)
  }

  func testInvalidRequestsKeepTheirId() {
    let cases: [(String, RequestID?)] = [
      (#"{"id":1,"method":"m"}"#, .int(1)),
      (#"{"jsonrpc":"1.0","id":2,"method":"m"}"#, .int(2)),
      (#"{"jsonrpc":"2.0","id":3,"method":5}"#, .int(3)),
      (#"{"jsonrpc":"2.0","id":4,"method":"m","params":"p"}"#, .int(4)),
      (#"{"jsonrpc":"2.0","id":{},"method":"m"}"#, nil),
      (#"{"jsonrpc":"2.0","id":5}"#, .int(5)),
      ("[1]", nil),
      ("3", nil),
    ]
    for (text, id) in cases {
      let result: Result<Message, DecodeFailure>
      switch incoming(text) {
      case .single(let r): result = r
      case .batch(let rs): result = rs[0]
      }
      guard case .failure(let failure) = result else { XCTFail("accepted \(text)"); continue }
      XCTAssertEqual(failure.error.code, .invalidRequest, text)
      XCTAssertEqual(failure.id, id, text)
    }
  }

  func testBatch() {
    guard case .batch(let items) = incoming(#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"},7]"#)
    else { return XCTFail() }
    XCTAssertEqual(items.count, 3)
    XCTAssertEqual(try items[0].get(), .request(id: .int(1), method: "a", params: nil))
    XCTAssertEqual(try items[1].get(), .notification(method: "b", params: nil))
    guard case .failure = items[2] else { return XCTFail() }
    guard case .single(.failure(let empty)) = incoming("[]") else { return XCTFail() }
    XCTAssertEqual(empty.error.code, .invalidRequest)
  }

  func testEncoding() {
    let message = Message.failure(.int(9), ResponseError(.pluginCrashed, "boom", data: ["plugin": "x"]))
    XCTAssertEqual(String(decoding: message.bytes, as: UTF8.self),
                   #"{"jsonrpc":"2.0","id":9,"error":{"code":1002,"message":"boom","data":{"plugin":"x"}}}"#)
    XCTAssertEqual(try Message.decode(message.json).get(), message)
  }
}
