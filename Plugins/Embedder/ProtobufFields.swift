import ConfoundKit
import Foundation
import Statistics

/// One top-level field of a protobuf message: its number, wire type, where its whole encoding and its payload lie
/// (length-delimited fields), and its value (varint fields).
struct Field {
  var number: Int
  var wire: Int
  var whole: Range<Int>
  var payload: Range<Int>
  var varint: UInt64
}

/// The fields of one protobuf message, in order; throws naming `file` and the offset when the bytes end early.
func fields(_ bytes: [UInt8], file: String) throws -> [Field] {
  var out: [Field] = []
  var at = 0
  func fail() -> PluginError {
    PluginError.invalidParams("\(file): not a readable ONNX protobuf (broken field at byte \(at)); export it again")
  }
  func varint() throws -> UInt64 {
    var value: UInt64 = 0, shift: UInt64 = 0
    while true {
      guard at < bytes.count, shift < 64 else { throw fail() }
      let byte = bytes[at]
      at += 1
      value |= UInt64(byte & 0x7f) << shift
      if byte < 0x80 { return value }
      shift += 7
    }
  }
  while at < bytes.count {
    let start = at
    let key = try varint()
    let (number, wire) = (Int(key >> 3), Int(key & 7))
    var field = Field(number: number, wire: wire, whole: start..<start, payload: at..<at, varint: 0)
    switch wire {
    case 0: field.varint = try varint()
    case 1, 5:
      let size = wire == 1 ? 8 : 4
      guard at + size <= bytes.count else { throw fail() }
      at += size
    case 2:
      let length = Int(try varint())
      guard length >= 0, at + length <= bytes.count else { throw fail() }
      field.payload = at..<(at + length)
      at += length
    default: throw fail()
    }
    field.whole = start..<at
    out.append(field)
  }
  return out
}

/// Packed repeated varints (e.g. TensorProto.dims written packed).
func packedVarints(_ bytes: [UInt8], file: String) throws -> [Int] {
  var values: [Int] = []
  var value: UInt64 = 0, shift: UInt64 = 0
  for byte in bytes {
    value |= UInt64(byte & 0x7f) << shift
    shift += 7
    if byte < 0x80 {
      values.append(Int(truncatingIfNeeded: value))
      (value, shift) = (0, 0)
    }
  }
  guard shift == 0 else { throw PluginError.invalidParams("\(file): a packed dims field ends mid-number") }
  return values
}

func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
  var v = value
  while v >= 0x80 {
    out.append(UInt8(v & 0x7f) | 0x80)
    v >>= 7
  }
  out.append(UInt8(v))
}

/// A length-delimited field.
func append(field: Int, payload: [UInt8], to out: inout [UInt8]) {
  appendVarint(UInt64(field << 3 | 2), to: &out)
  appendVarint(UInt64(payload.count), to: &out)
  out += payload
}

/// Standard normal draws (Box-Muller) from the project's seeded SplitMix64 stream: fixed by the seed.
struct NormalSampler {
  private var generator: SeededGenerator
  private var spare: Double?
  init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

  /// Uniform in (0, 1]: never 0, so the logarithm stays finite.
  mutating func uniform() -> Double { (Double(generator.next() >> 11) + 1) / 9_007_199_254_740_992 }

  mutating func nextNormal() -> Double {
    if let value = spare {
      spare = nil
      return value
    }
    let radius = (-2 * Foundation.log(uniform())).squareRoot(), angle = 2 * Double.pi * uniform()
    spare = radius * sin(angle)
    return radius * cos(angle)
  }
}
