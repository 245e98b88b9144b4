import ConfoundProtocol
import JSONRPC
import XCTest

/// Each validation rule, shown by mutating a valid manifest: the host refuses it and the message says how to fix it.
final class ManifestValidationTests: XCTestCase {
  private let valid: JSONValue = [
    "id": "lab.focus-cnn", "name": "Focus CNN", "kind": "focus", "version": "1.2.3", "abi_version": 1,
    "parameters": [["name": "scale", "type": "integer", "default": 20, "minimum": 1, "maximum": 100, "description": "px"]],
  ]

  private func mutated(_ change: (inout JSONObject) -> Void) -> String {
    var object = valid.objectValue!
    change(&object)
    return JSONWriter.string(.object(object))
  }

  private func assertRefused(
    _ change: (inout JSONObject) -> Void, mentions expected: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try ManifestValidation.validate(json: mutated(change), hostABI: 1), file: file, line: line) { error in
      XCTAssertTrue("\(error)".contains(expected), "\(error) does not mention \(expected)", file: file, line: line)
    }
  }

  func testValidManifestIsAcceptedWithDefaults() throws {
    let manifest = try ManifestValidation.validate(json: JSONWriter.string(valid), hostABI: 1)
    XCTAssertEqual(manifest.id, "lab.focus-cnn")
    XCTAssertEqual(manifest.kind, .focus)
    XCTAssertEqual(manifest.methods, ["focus.score"], "methods default to the kind's operation")
    XCTAssertEqual(manifest.parameters.first?.defaultValue, 20)
  }

  func testEveryRuleNamesTheFix() {
    assertRefused({ $0["id"] = nil }, mentions: "no \"id\": add it")
    assertRefused({ $0["kind"] = "telepathy" }, mentions: "use one of focus, segmenter, embedder, probe, explainer")
    assertRefused({ $0["version"] = "1.2" }, mentions: "must be MAJOR.MINOR.PATCH")
    assertRefused({ $0["id"] = "Lab Focus" }, mentions: "lowercase letters")
    assertRefused({ $0["abi_version"] = 2 }, mentions: "rebuild the plugin against this host's confound_plugin.h")
    assertRefused({ $0["methods"] = ["segmenter.segment"] }, mentions: "must include the kind's operation \"focus.score\"")
    assertRefused({ $0["parameters"] = [["name": "scale", "type": "integer", "default": "big", "description": ""]] },
                  mentions: "scale must be of type integer")
    assertRefused({ $0["parameters"] = [["name": "scale", "type": "integer", "default": 500, "maximum": 100, "description": ""]] },
                  mentions: "above its maximum 100")
    assertRefused({ $0["parameters"] = [["name": "s", "type": "number", "default": 1, "minimum": 5, "maximum": 2, "description": ""]] },
                  mentions: "swap them")
    assertRefused({ $0["parameters"] = [["name": "a", "type": "boolean", "default": true, "description": ""],
                                         ["name": "a", "type": "boolean", "default": false, "description": ""]] },
                  mentions: "declared twice")
    XCTAssertThrowsError(try ManifestValidation.validate(json: "[1]", hostABI: 1)) { XCTAssertTrue("\($0)".contains("JSON object")) }
    XCTAssertThrowsError(try ManifestValidation.validate(json: "{", hostABI: 1)) { XCTAssertTrue("\($0)".contains("not valid JSON")) }
  }

  func testRequestParametersAreResolvedAgainstTheManifest() throws {
    let specs = try ManifestValidation.validate(json: JSONWriter.string(valid), hostABI: 1).parameters
    XCTAssertEqual(try ManifestValidation.resolve(nil, against: specs)["scale"], 20)
    XCTAssertEqual(try ManifestValidation.resolve(["scale": 7], against: specs)["scale"], 7)
    XCTAssertEqual(try ManifestValidation.resolve(["scale": 7.0], against: specs)["scale"], 7.0, "7.0 is an integer value")
    let cases: [(JSONObject, String)] = [
      (["scale": 0], "below its minimum 1"), (["scale": 2.5], "of type integer"),
      (["zoom": 1], "unknown parameter zoom; this plugin takes: scale"),
    ]
    for (given, expected) in cases {
      XCTAssertThrowsError(try ManifestValidation.resolve(given, against: specs)) { error in
        XCTAssertTrue("\(error)".contains(expected), "\(error)")
        XCTAssertTrue((error as? ParameterError)?.field.hasPrefix("parameters.") == true)
      }
    }
  }
}
