import Foundation
import TestSupport
import XCTest

@testable import NeuralNet

/// Files the engine must refuse with a message that says what is wrong and where.
final class LoadErrorTests: XCTestCase {
  func testUnsupportedOperatorNamesOpAndNode() throws {
    let directory = try TemporaryDirectory(prefix: "nn-unknown")
    try python(
      """
      import sys, onnx
      from onnx import helper, TensorProto
      nodes = [helper.make_node('Relu', ['x'], ['r'], name='first'),
               helper.make_node('Softmax', ['r'], ['y'], name='classifier_softmax')]
      graph = helper.make_graph(nodes, 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 4])],
                                [helper.make_tensor_value_info('y', TensorProto.FLOAT, ['N', 4])])
      onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), sys.argv[1])
      """, [directory.file("softmax.onnx").path])
    XCTAssertThrowsError(try Network(contentsOf: directory.file("softmax.onnx"))) { error in
      XCTAssertEqual(
        error as? NeuralNetError,
        .unsupportedOperator(file: directory.file("softmax.onnx").path, op: "Softmax", node: "classifier_softmax"))
      XCTAssertTrue("\(error)".contains("'Softmax'") && "\(error)".contains("'classifier_softmax'"), "\(error)")
    }
  }

  func testGarbageIsACorruptModelNamingTheFile() {
    // Field 7 (graph), length-delimited, claiming 4 GB that are not there.
    let garbage: [UInt8] = [0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]
    XCTAssertThrowsError(try Network(bytes: garbage, file: "garbage.onnx")) { error in
      guard case .corruptModel(let file, let offset, let message)? = error as? NeuralNetError else {
        return XCTFail("expected corruptModel, got \(error)")
      }
      XCTAssertEqual(file, "garbage.onnx")
      XCTAssertEqual(offset, 1, "the length varint starts after the key byte")
      XCTAssertTrue(message.contains("past the end"), message)
    }
    XCTAssertThrowsError(try Network(bytes: [], file: "empty.onnx")) { error in
      XCTAssertTrue("\(error)".contains("empty.onnx") && "\(error)".contains("no graph"), "\(error)")
    }
  }

  func testMissingFileIsNamed() {
    XCTAssertThrowsError(try Network(contentsOf: URL(fileURLWithPath: "/nonexistent/model.onnx"))) { error in
      XCTAssertTrue("\(error)".contains("/nonexistent/model.onnx"), "\(error)")
    }
  }

  func testWireFormatPackedAndUnpackedRepeatedFields() throws {
    // Field 1 (varint) 300 as two bytes; field 8 packed int64s [1, -1, 150]; field 8 unpacked 7;
    // field 4 packed floats [1.5, -2]; field 4 unpacked 0.25; field 9 fixed64 skipped.
    var bytes: [UInt8] = [0x08, 0xac, 0x02]
    bytes += [0x42, 13, 0x01] + [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] + [0x96, 0x01]
    bytes += [0x40, 0x07]
    bytes += [0x22, 8] + le(Float(1.5)) + le(Float(-2))
    bytes += [0x25] + le(Float(0.25))
    bytes += [0x49, 1, 2, 3, 4, 5, 6, 7, 8]
    var reader = ProtoReader(bytes: bytes)
    var ints: [Int64] = []
    var floats: [Float] = []
    var first: UInt64 = 0
    while let (number, wire) = try reader.nextField() {
      switch number {
      case 1: first = try reader.varint()
      case 8: try reader.appendInt64s(wire, to: &ints)
      case 4: try reader.appendFloats(wire, to: &floats)
      default: try reader.skip(wire)
      }
    }
    XCTAssertEqual(first, 300)
    XCTAssertEqual(ints, [1, -1, 150, 7])
    XCTAssertEqual(floats, [1.5, -2, 0.25])
  }

  private func le(_ value: Float) -> [UInt8] {
    withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
  }
}
