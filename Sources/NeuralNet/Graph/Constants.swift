/// The model's constant tensors (initializers and Constant nodes), as floats and, for integer tensors, also
/// as exact integers (Reshape shapes).
struct Constants {
  var floats: [String: Tensor] = [:]
  var ints: [String: [Int]] = [:]

  /// Adds a TensorProto of type float, int32 or int64. Other types are left out: an operator that needs
  /// one then reports that its operand is not a usable constant.
  mutating func add(_ proto: TensorProto, name: String, file: String) throws {
    guard !proto.isExternal else {
      throw NeuralNetError.invalidModel(
        file: file, message: "tensor '\(name)' keeps its data in an external file; save the model with all data inside")
    }
    let shape = proto.dims.map(Int.init)
    let count = shape.reduce(1, *)
    func corrupt(_ found: Int) -> NeuralNetError {
      .corruptModel(
        file: file, offset: proto.offset,
        message: "tensor '\(name)' of shape \(describe(shape: shape)) holds \(found) values")
    }
    switch proto.dataType {
    case TensorProto.float:
      let values = proto.raw.isEmpty ? proto.floatData : Constants.decodeFloats(proto.raw)
      guard values.count == count, proto.raw.count % 4 == 0 else { throw corrupt(values.count) }
      floats[name] = Tensor(shape: shape, data: values)
    case TensorProto.int64, TensorProto.int32:
      let width = proto.dataType == TensorProto.int64 ? 8 : 4
      let listed = proto.dataType == TensorProto.int64 ? proto.int64Data : proto.int32Data
      let values = proto.raw.isEmpty ? listed.map(Int.init) : Constants.decodeInts(proto.raw, width: width)
      guard values.count == count, proto.raw.count % width == 0 else { throw corrupt(values.count) }
      ints[name] = values
      floats[name] = Tensor(shape: shape, data: values.map(Float.init))
    default:
      break
    }
  }

  /// Little-endian IEEE floats, as raw_data stores them.
  private static func decodeFloats(_ raw: ArraySlice<UInt8>) -> [Float] {
    let count = raw.count / 4
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      raw.withUnsafeBytes { bytes in
        for i in 0..<count {
          buffer[i] = Float(
            bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
        }
      }
      initialized = count
    }
  }

  private static func decodeInts(_ raw: ArraySlice<UInt8>, width: Int) -> [Int] {
    raw.withUnsafeBytes { bytes in
      (0..<(raw.count / width)).map { i in
        width == 8
          ? Int(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
          : Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
      }
    }
  }
}
