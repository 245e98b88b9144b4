import JSONRPC
import XCTest

final class JSONTests: XCTestCase {
  private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

  func testValuesAndOrder() throws {
    let value = try parse(#" {"b": [1, -2.5e3, true, null, "x"], "a": {"z": 0}, "c": 9007199254740993} "#)
    XCTAssertEqual(value.objectValue?.keys, ["b", "a", "c"])
    XCTAssertEqual(value["b"], [1, -2500.0, true, nil, "x"])
    XCTAssertEqual(value["c"], .int(9_007_199_254_740_993), "integers beyond 2^53 stay exact")
    XCTAssertEqual(JSONWriter.string(value), #"{"b":[1,-2500,true,null,"x"],"a":{"z":0},"c":9007199254740993}"#)
  }

  func testStringsAndEscapes() throws {
    XCTAssertEqual(try parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#), .string("a\"b\\c/d\n\té😀"))
    XCTAssertEqual(try parse("\"é→😀\""), .string("é→😀"))
    let round = JSONWriter.string(.string("q\"\\\n\u{01}é"))
    XCTAssertEqual(round, #""q\"\\\n\u0001é""#)
    XCTAssertEqual(try parse(round), .string("q\"\\\n\u{01}é"))
  }

  func testRejectsInvalidUTF8() {
    XCTAssertThrowsError(try JSONParser.parse([0x22, 0xC3, 0x28, 0x22])) { error in
      XCTAssertTrue("\(error)".contains("UTF-8"), "\(error)")
    }
    XCTAssertThrowsError(try JSONParser.parse([0x22, 0xFF, 0x22]))
  }

  func testRejectsMalformedJSON() {
    for bad in ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\\x\"", "\"\\ud800\"", "{} {}", "[1] x", "\"a\u{01}\""] {
      XCTAssertThrowsError(try parse(bad), "accepted \(bad.debugDescription)")
    }
    let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
    XCTAssertThrowsError(try parse(deep))
  }

  func testNumbers() throws {
    XCTAssertEqual(try parse("0"), .int(0))
    XCTAssertEqual(try parse("-0.5"), .double(-0.5))
    XCTAssertEqual(try parse("1E2"), .double(100))
    XCTAssertEqual(try parse("123456789012345678901234567890").doubleValue, 1.2345678901234568e29)
    XCTAssertEqual(JSONWriter.string(.double(0.1)), "0.1")
    XCTAssertEqual(JSONWriter.string(.double(.nan)), "null")
  }
}
