// The subset of onnx.proto (IR version 3 and later) a CNN needs. Field numbers follow onnx/onnx.proto;
// unknown fields are skipped, so newer files still load.

/// ModelProto: ir_version = 1, graph = 7, opset_import = 8, metadata_props = 14.
struct ModelProto {
  var irVersion: Int64 = 0
  var opsets: [String: Int64] = [:]
  var graph = GraphProto()
  var metadata: [String: String] = [:]

  init(bytes: [UInt8]) throws {
    var reader = ProtoReader(bytes: bytes)
    var sawGraph = false
    while let (number, wire) = try reader.nextField() {
      switch number {
      case 1:
        try reader.expect(wire, .varint)
        irVersion = try reader.int64()
      case 7:
        try reader.expect(wire, .lengthDelimited)
        graph = try GraphProto(try reader.message())
        sawGraph = true
      case 8:
        try reader.expect(wire, .lengthDelimited)
        let (domain, version) = try ModelProto.opset(try reader.message())
        opsets[domain] = version
      case 14:
        try reader.expect(wire, .lengthDelimited)
        let (key, value) = try ModelProto.entry(try reader.message())
        metadata[key] = value
      default: try reader.skip(wire)
      }
    }
    guard sawGraph else { throw ProtoError(offset: reader.offset, message: "ModelProto has no graph (field 7)") }
  }

  /// OperatorSetIdProto: domain = 1, version = 2.
  private static func opset(_ message: ProtoReader) throws -> (String, Int64) {
    var reader = message
    var domain = ""
    var version: Int64 = 0
    while let (number, wire) = try reader.nextField() {
      switch number {
      case 1:
        try reader.expect(wire, .lengthDelimited)
        domain = try reader.string()
      case 2:
        try reader.expect(wire, .varint)
        version = try reader.int64()
      default: try reader.skip(wire)
      }
    }
    return (domain, version)
  }

  /// StringStringEntryProto: key = 1, value = 2.
  private static func entry(_ message: ProtoReader) throws -> (String, String) {
    var reader = message
    var key = ""
    var value = ""
    while let (number, wire) = try reader.nextField() {
      switch number {
      case 1:
        try reader.expect(wire, .lengthDelimited)
        key = try reader.string()
      case 2:
        try reader.expect(wire, .lengthDelimited)
        value = try reader.string()
      default: try reader.skip(wire)
      }
    }
    return (key, value)
  }
}

/// GraphProto: node = 1, initializer = 5, input = 11, output = 12, value_info = 13.
struct GraphProto {
  var nodes: [NodeProto] = []
  var initializers: [TensorProto] = []
  var inputs: [ValueInfoProto] = []
  var outputs: [ValueInfoProto] = []
  var valueInfo: [ValueInfoProto] = []

  init() {}

  init(_ message: ProtoReader) throws {
    var reader = message
    while let (number, wire) = try reader.nextField() {
      switch number {
      case 1:
        try reader.expect(wire, .lengthDelimited)
        nodes.append(try NodeProto(try reader.message()))
      case 5:
        try reader.expect(wire, .lengthDelimited)
        initializers.append(try TensorProto(try reader.message()))
      case 11:
        try reader.expect(wire, .lengthDelimited)
        inputs.append(try ValueInfoProto(try reader.message()))
      case 12:
        try reader.expect(wire, .lengthDelimited)
        outputs.append(try ValueInfoProto(try reader.message()))
      case 13:
        try reader.expect(wire, .lengthDelimited)
        valueInfo.append(try ValueInfoProto(try reader.message()))
      default: try reader.skip(wire)
      }
    }
  }
}

/// NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7.
struct NodeProto {
  var inputs: [String] = []
  var outputs: [String] = []
  var name = ""
  var opType = ""
  var domain = ""
  var attributes: [String: AttributeProto] = [:]

  init(_ message: ProtoReader) throws {
    var reader = message
    while let (number, wire) = try reader.nextField() {
      switch number {
      case 1:
        try reader.expect(wire, .lengthDelimited)
        inputs.append(try reader.string())
      case 2:
        try reader.expect(wire, .lengthDelimited)
        outputs.append(try reader.string())
      case 3:
        try reader.expect(wire, .lengthDelimited)
        name = try reader.string()
      case 4:
        try reader.expect(wire, .lengthDelimited)
        opType = try reader.string()
      case 5:
        try reader.expect(wire, .lengthDelimited)
        let attribute = try AttributeProto(try reader.message())
        attributes[attribute.name] = attribute
      case 7:
        try reader.expect(wire, .lengthDelimited)
        domain = try reader.string()
      default: try reader.skip(wire)
      }
    }
  }
}

/// AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, floats = 7, ints = 8, type = 20.
struct AttributeProto {
  var name = ""
  var type: Int64 = 0
  var f: Float?
  var i: Int64?
  var s: String?
  var t: TensorProto?
  var floats: [Float] = []
  var ints: [Int64] = []

  init(_ message: ProtoReader) throws {
    var reader = message
    while let (number, wire) = try reader.nextField() {
      switch number {
      case 1:
        try reader.expect(wire, .lengthDelimited)
        name = try reader.string()
      case 2:
        try reader.expect(wire, .fixed32)
        f = try reader.float()
      case 3:
        try reader.expect(wire, .varint)
        i = try reader.int64()
      case 4:
        try reader.expect(wire, .lengthDelimited)
        s = try reader.string()
      case 5:
        try reader.expect(wire, .lengthDelimited)
        t = try TensorProto(try reader.message())
      case 7: try reader.appendFloats(wire, to: &floats)
      case 8: try reader.appendInt64s(wire, to: &ints)
      case 20:
        try reader.expect(wire, .varint)
        type = try reader.int64()
      default: try reader.skip(wire)
      }
    }
  }
}

/// TensorProto: dims = 1, data_type = 2, float_data = 4, int32_data = 5, int64_data = 7, name = 8,
/// raw_data = 9, data_location = 14 (1 = external, which this engine does not read).
struct TensorProto {
  static let float: Int64 = 1, int32: Int64 = 6, int64: Int64 = 7

  var dims: [Int64] = []
  var dataType: Int64 = 0
  var floatData: [Float] = []
  var int32Data: [Int64] = []
  var int64Data: [Int64] = []
  var name = ""
  var raw: ArraySlice<UInt8> = []
  var isExternal = false
  /// Where the message starts in the file, for error messages.
  var offset = 0

  init(_ message: ProtoReader) throws {
    var reader = message
    offset = reader.offset
    while let (number, wire) = try reader.nextField() {
      switch number {
      case 1: try reader.appendInt64s(wire, to: &dims)
      case 2:
        try reader.expect(wire, .varint)
        dataType = try reader.int64()
      case 4: try reader.appendFloats(wire, to: &floatData)
      case 5: try reader.appendInt64s(wire, to: &int32Data)
      case 7: try reader.appendInt64s(wire, to: &int64Data)
      case 8:
        try reader.expect(wire, .lengthDelimited)
        name = try reader.string()
      case 9:
        try reader.expect(wire, .lengthDelimited)
        raw = reader.bytes[try reader.lengthDelimited()]
      case 14:
        try reader.expect(wire, .varint)
        isExternal = try reader.int64() == 1
      default: try reader.skip(wire)
      }
    }
  }
}

/// One axis of a declared shape: a fixed size, a named (dynamic) size, or nothing declared.
public enum Dimension: Sendable, Equatable, CustomStringConvertible {
  case fixed(Int)
  case named(String)
  case unknown

  public var description: String {
    switch self {
    case .fixed(let size): return String(size)
    case .named(let name): return name
    case .unknown: return "?"
    }
  }

  /// The size of a fixed dimension; nil for a named or unknown one.
  public var fixedValue: Int? {
    if case .fixed(let size) = self { return size }
    return nil
  }
}

/// ValueInfoProto: name = 1, type = 2 -> TypeProto.tensor_type = 1 -> (elem_type = 1, shape = 2)
/// -> TensorShapeProto.dim = 1 -> (dim_value = 1, dim_param = 2).
struct ValueInfoProto {
  var name = ""
  var elementType: Int64 = 0
  /// nil when the shape is not declared at all.
  var shape: [Dimension]?

  init(_ message: ProtoReader) throws {
    var reader = message
    while let (number, wire) = try reader.nextField() {
      switch number {
      case 1:
        try reader.expect(wire, .lengthDelimited)
        name = try reader.string()
      case 2:
        try reader.expect(wire, .lengthDelimited)
        try readType(try reader.message())
      default: try reader.skip(wire)
      }
    }
  }

  private mutating func readType(_ message: ProtoReader) throws {
    var type = message
    while let (number, wire) = try type.nextField() {
      guard number == 1, wire == .lengthDelimited else {
        try type.skip(wire)
        continue
      }
      var tensor = try type.message()
      while let (field, tensorWire) = try tensor.nextField() {
        switch (field, tensorWire) {
        case (1, .varint): elementType = try tensor.int64()
        case (2, .lengthDelimited): shape = try ValueInfoProto.dimensions(try tensor.message())
        default: try tensor.skip(tensorWire)
        }
      }
    }
  }

  private static func dimensions(_ message: ProtoReader) throws -> [Dimension] {
    var reader = message
    var dims: [Dimension] = []
    while let (number, wire) = try reader.nextField() {
      guard number == 1, wire == .lengthDelimited else {
        try reader.skip(wire)
        continue
      }
      var dim = try reader.message()
      var value = Dimension.unknown
      while let (field, dimWire) = try dim.nextField() {
        switch (field, dimWire) {
        case (1, .varint): value = .fixed(Int(try dim.int64()))
        case (2, .lengthDelimited): value = .named(try dim.string())
        default: try dim.skip(dimWire)
        }
      }
      dims.append(value)
    }
    return dims
  }
}
