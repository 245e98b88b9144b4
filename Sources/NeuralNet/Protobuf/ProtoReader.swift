/// A failure to decode protobuf wire format at a byte offset of the whole file.
struct ProtoError: Error {
  let offset: Int
  let message: String
}

/// Protobuf wire types (the low three bits of a field key).
enum WireType: Int {
  case varint = 0
  case fixed64 = 1
  case lengthDelimited = 2
  case fixed32 = 5
}

/// A cursor over one protobuf message inside a shared byte buffer.
///
/// Invariant: `start <= offset <= end <= bytes.count`; every read checks `end`, so a truncated or corrupt
/// message throws `ProtoError` with the absolute offset instead of reading past the message.
struct ProtoReader {
  let bytes: [UInt8]
  private(set) var offset: Int
  let end: Int

  init(bytes: [UInt8]) { self.init(bytes: bytes, range: 0..<bytes.count) }

  init(bytes: [UInt8], range: Range<Int>) {
    self.bytes = bytes
    self.offset = range.lowerBound
    self.end = range.upperBound
  }

  var isAtEnd: Bool { offset >= end }

  /// The next field key, or nil at the end of the message.
  mutating func nextField() throws -> (number: Int, wire: WireType)? {
    guard !isAtEnd else { return nil }
    let keyOffset = offset
    let key = try varint()
    guard let wire = WireType(rawValue: Int(key & 7)) else {
      throw ProtoError(offset: keyOffset, message: "unsupported wire type \(key & 7) (groups or garbage)")
    }
    let number = Int(key >> 3)
    guard number > 0 else { throw ProtoError(offset: keyOffset, message: "field number 0") }
    return (number, wire)
  }

  mutating func varint() throws -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    let begin = offset
    while true {
      guard offset < end else { throw ProtoError(offset: begin, message: "varint runs past the end of the message") }
      let byte = bytes[offset]
      offset += 1
      guard shift < 64 else { throw ProtoError(offset: begin, message: "varint longer than 10 bytes") }
      result |= UInt64(byte & 0x7f) << shift
      if byte & 0x80 == 0 { return result }
      shift += 7
    }
  }

  mutating func int64() throws -> Int64 { Int64(bitPattern: try varint()) }

  mutating func fixed32() throws -> UInt32 {
    guard end - offset >= 4 else { throw ProtoError(offset: offset, message: "fixed32 runs past the end") }
    var value: UInt32 = 0
    for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
    offset += 4
    return value
  }

  mutating func fixed64() throws -> UInt64 {
    guard end - offset >= 8 else { throw ProtoError(offset: offset, message: "fixed64 runs past the end") }
    var value: UInt64 = 0
    for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
    offset += 8
    return value
  }

  mutating func float() throws -> Float { Float(bitPattern: try fixed32()) }

  /// The byte range of a length-delimited field's payload; the cursor moves past it.
  mutating func lengthDelimited() throws -> Range<Int> {
    let begin = offset
    let length = try varint()
    guard length <= UInt64(end - offset) else {
      throw ProtoError(
        offset: begin, message: "length \(length) runs past the end of the message (\(end - offset) bytes left)")
    }
    let range = offset..<(offset + Int(length))
    offset = range.upperBound
    return range
  }

  mutating func string() throws -> String { String(decoding: bytes[try lengthDelimited()], as: UTF8.self) }

  /// A reader over an embedded message.
  mutating func message() throws -> ProtoReader { ProtoReader(bytes: bytes, range: try lengthDelimited()) }

  mutating func skip(_ wire: WireType) throws {
    switch wire {
    case .varint: _ = try varint()
    case .fixed64: _ = try fixed64()
    case .fixed32: _ = try fixed32()
    case .lengthDelimited: _ = try lengthDelimited()
    }
  }

  /// Appends one element, or a packed run of them, of a repeated varint field.
  mutating func appendInt64s(_ wire: WireType, to values: inout [Int64]) throws {
    guard wire == .lengthDelimited else {
      try expect(wire, .varint)
      values.append(try int64())
      return
    }
    var packed = ProtoReader(bytes: bytes, range: try lengthDelimited())
    while !packed.isAtEnd { values.append(try packed.int64()) }
  }

  /// Appends one element, or a packed run of them, of a repeated float field.
  mutating func appendFloats(_ wire: WireType, to values: inout [Float]) throws {
    guard wire == .lengthDelimited else {
      try expect(wire, .fixed32)
      values.append(try float())
      return
    }
    let range = try lengthDelimited()
    guard range.count % 4 == 0 else {
      throw ProtoError(offset: range.lowerBound, message: "packed floats of \(range.count) bytes, not a multiple of 4")
    }
    values.reserveCapacity(values.count + range.count / 4)
    var packed = ProtoReader(bytes: bytes, range: range)
    while !packed.isAtEnd { values.append(try packed.float()) }
  }

  /// Throws unless a field has the wire type its schema declares.
  func expect(_ wire: WireType, _ wanted: WireType) throws {
    guard wire == wanted else {
      throw ProtoError(offset: offset, message: "wire type \(wire.rawValue) where \(wanted.rawValue) was expected")
    }
  }
}
