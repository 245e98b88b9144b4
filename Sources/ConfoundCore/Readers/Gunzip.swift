import Foundation

/// Decompresses gzip files (RFC 1952) holding DEFLATE data (RFC 1951), in pure Swift: Foundation on Linux has no
/// inflate and the project links no zlib module. Built for tables (`.csv.gz`), not for speed: the Huffman
/// decoder walks canonical code lengths one bit at a time, as zlib's reference decoder `puff` does.
public enum Gunzip {
  /// The concatenated content of every gzip member in `data`; the error says what is wrong and where.
  public static func decompress(_ data: [UInt8], file: String = "<data>") throws -> [UInt8] {
    var output: [UInt8] = []
    var start = 0
    while start < data.count {
      guard data.count - start >= 18, data[start] == 0x1f, data[start + 1] == 0x8b, data[start + 2] == 8 else {
        throw CSVError(file: file, line: nil, message: "not a gzip stream at byte \(start)")
      }
      let flags = data[start + 3]
      var position = start + 10
      if flags & 4 != 0 { position += 2 + Int(data[position]) | Int(data[position + 1]) << 8 }
      for bit in [UInt8(8), 16] where flags & bit != 0 {  // file name, comment: zero-terminated
        while position < data.count && data[position] != 0 { position += 1 }
        position += 1
      }
      if flags & 2 != 0 { position += 2 }
      var inflater = Inflater(data, from: position, file: file)
      let before = output.count
      try inflater.inflate(into: &output)
      let trailer = inflater.bytePosition
      guard trailer + 8 <= data.count else { throw CSVError(file: file, line: nil, message: "gzip trailer cut short") }
      let size = (0..<4).reduce(0) { $0 | Int(data[trailer + 4 + $1]) << (8 * $1) }
      guard size == (output.count - before) & 0xFFFF_FFFF else {
        throw CSVError(file: file, line: nil, message: "gzip size check failed: the file is corrupt")
      }
      start = trailer + 8
    }
    return output
  }
}

/// One DEFLATE stream's decoder state.
struct Inflater {
  let input: [UInt8]
  let file: String
  var index: Int
  var bitBuffer = 0
  var bitCount = 0

  init(_ input: [UInt8], from index: Int, file: String) {
    self.input = input
    self.index = index
    self.file = file
  }

  /// The first byte after the stream (after discarding the bits left in the last byte).
  var bytePosition: Int { index }

  /// Canonical Huffman code: how many codes of each length, and the symbols in code order.
  struct Huffman {
    var counts = [Int](repeating: 0, count: 16)
    var symbols: [Int]

    init(lengths: ArraySlice<Int>) {
      symbols = []
      for length in lengths { counts[length] += 1 }
      counts[0] = 0
      var offsets = [Int](repeating: 0, count: 16)
      for length in 1..<16 { offsets[length] = offsets[length - 1] + counts[length - 1] }
      symbols = [Int](repeating: 0, count: lengths.count)
      for (symbol, length) in lengths.enumerated() where length != 0 {
        symbols[offsets[length]] = symbol
        offsets[length] += 1
      }
    }
  }

  func error(_ message: String) -> CSVError { CSVError(file: file, line: nil, message: "gzip data: \(message)") }

  mutating func bits(_ n: Int) throws -> Int {
    while bitCount < n {
      guard index < input.count else { throw error("stream cut short") }
      bitBuffer |= Int(input[index]) << bitCount
      index += 1
      bitCount += 8
    }
    let value = bitBuffer & ((1 << n) - 1)
    bitBuffer >>= n
    bitCount -= n
    return value
  }

  mutating func decode(_ h: Huffman) throws -> Int {
    var code = 0
    var first = 0
    var offset = 0
    for length in 1..<16 {
      code |= try bits(1)
      let count = h.counts[length]
      if code - count < first { return h.symbols[offset + code - first] }
      offset += count
      first = (first + count) << 1
      code <<= 1
    }
    throw error("invalid Huffman code")
  }

  static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
                           131, 163, 195, 227, 258]
  static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
  static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
                             1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
  static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
                              13, 13]
  static let fixed: (Huffman, Huffman) = {
    let literal = Array(repeating: 8, count: 144) + Array(repeating: 9, count: 112) + Array(repeating: 7, count: 24)
      + Array(repeating: 8, count: 8)
    return (Huffman(lengths: literal[...]), Huffman(lengths: Array(repeating: 5, count: 30)[...]))
  }()

  mutating func inflate(into out: inout [UInt8]) throws {
    var last = 0
    while last == 0 {
      last = try bits(1)
      switch try bits(2) {
      case 0: try stored(into: &out)
      case 1: try codes(Inflater.fixed.0, Inflater.fixed.1, into: &out)
      case 2:
        let (literal, distance) = try dynamicTables()
        try codes(literal, distance, into: &out)
      default: throw error("invalid block type")
      }
    }
    bitBuffer = 0
    bitCount = 0
  }

  mutating func stored(into out: inout [UInt8]) throws {
    bitBuffer = 0
    bitCount = 0
    guard index + 4 <= input.count else { throw error("stored block cut short") }
    let length = Int(input[index]) | Int(input[index + 1]) << 8
    let check = Int(input[index + 2]) | Int(input[index + 3]) << 8
    guard length == ~check & 0xFFFF, index + 4 + length <= input.count else { throw error("bad stored block") }
    out += input[index + 4..<index + 4 + length]
    index += 4 + length
  }

  mutating func dynamicTables() throws -> (Huffman, Huffman) {
    let literalCount = try bits(5) + 257
    let distanceCount = try bits(5) + 1
    let codeCount = try bits(4) + 4
    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    var codeLengths = [Int](repeating: 0, count: 19)
    for i in 0..<codeCount { codeLengths[order[i]] = try bits(3) }
    let lengthCode = Huffman(lengths: codeLengths[...])
    var lengths: [Int] = []
    while lengths.count < literalCount + distanceCount {
      let symbol = try decode(lengthCode)
      switch symbol {
      case 0..<16: lengths.append(symbol)
      case 16:
        guard let previous = lengths.last else { throw error("repeat with no previous length") }
        lengths += Array(repeating: previous, count: 3 + (try bits(2)))
      case 17: lengths += Array(repeating: 0, count: 3 + (try bits(3)))
      default: lengths += Array(repeating: 0, count: 11 + (try bits(7)))
      }
    }
    guard lengths.count == literalCount + distanceCount else { throw error("code lengths overrun") }
    return (Huffman(lengths: lengths[..<literalCount]), Huffman(lengths: lengths[literalCount...]))
  }

  mutating func codes(_ literal: Huffman, _ distance: Huffman, into out: inout [UInt8]) throws {
    while true {
      let symbol = try decode(literal)
      if symbol < 256 {
        out.append(UInt8(symbol))
      } else if symbol == 256 {
        return
      } else {
        let l = symbol - 257
        guard l < 29 else { throw error("invalid length code") }
        let length = Inflater.lengthBase[l] + (try bits(Inflater.lengthExtra[l]))
        let d = try decode(distance)
        guard d < 30 else { throw error("invalid distance code") }
        let back = Inflater.distanceBase[d] + (try bits(Inflater.distanceExtra[d]))
        guard back <= out.count else { throw error("distance reaches before the start") }
        let from = out.count - back
        for i in 0..<length { out.append(out[from + i]) }
      }
    }
  }
}
