import Foundation

/// Reads the numeric arrays of a NumPy `.npz` (a ZIP of `.npy` files, stored or DEFLATE-compressed) in pure
/// Swift, using the inflater of `Gunzip`. Object arrays (pickles) are not read: `array(named:)` says so.
struct NumpyArchive {
  /// A 2-D (or 1-D, as one row) float array in row-major order.
  struct Array2D {
    var rows: Int
    var columns: Int
    var values: [Double]
  }

  let file: String
  private let bytes: [UInt8]
  /// Member name -> (compression method, offset of its local header, compressed size).
  private var members: [String: (method: Int, offset: Int, size: Int)] = [:]

  init(contentsOf url: URL) throws {
    file = url.path
    do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
      throw ProfileError(file: url.path, message: "cannot read the file (\(error.localizedDescription))")
    }
    // The end-of-central-directory record is in the last 64 KiB + 22 bytes.
    guard bytes.count >= 22,
      let end = stride(from: bytes.count - 22, through: max(0, bytes.count - 65_557), by: -1).first(where: {
        u32($0) == 0x0605_4b50
      })
    else { throw error("not a ZIP archive (no end of central directory)") }
    var at = Int(u32(end + 16))
    for _ in 0..<Int(u16(end + 10)) {
      guard at + 46 <= bytes.count, u32(at) == 0x0201_4b50 else { throw error("central directory is damaged") }
      let nameLength = Int(u16(at + 28))
      let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
      let size = u32(at + 20)
      guard size != 0xFFFF_FFFF else { throw error("ZIP64 members are not supported (\(name))") }
      members[name] = (Int(u16(at + 10)), Int(u32(at + 42)), Int(size))
      at += 46 + nameLength + Int(u16(at + 30)) + Int(u16(at + 32))
    }
  }

  var names: [String] { members.keys.sorted() }

  func array(named name: String) throws -> Array2D {
    guard let member = members[name] ?? members[name + ".npy"] else {
      throw error("no array \(name) (it holds \(names.joined(separator: ", ")))")
    }
    let local = member.offset
    guard u32(local) == 0x0403_4b50 else { throw error("local header of \(name) is damaged") }
    let start = local + 30 + Int(u16(local + 26)) + Int(u16(local + 28))
    var data: [UInt8]
    switch member.method {
    case 0: data = Array(bytes[start..<(start + member.size)])
    case 8:
      data = []
      var inflater = Inflater(bytes, from: start, file: file)
      try inflater.inflate(into: &data)
    default: throw error("\(name) uses ZIP compression method \(member.method); only stored and DEFLATE are read")
    }
    return try Self.npy(data, name: name, file: file)
  }

  /// Parses one `.npy`: little-endian float32 or float64, C or Fortran order, 1-D or 2-D.
  static func npy(_ data: [UInt8], name: String, file: String) throws -> Array2D {
    let fail = { (why: String) in ProfileError(file: file, message: "\(name): \(why)") }
    guard data.count > 10, data[0] == 0x93, String(decoding: data[1..<6], as: UTF8.self) == "NUMPY" else {
      throw fail("not a .npy array")
    }
    let major = data[6]
    let headerLength =
      major == 1 ? Int(data[8]) | Int(data[9]) << 8 : (0..<4).reduce(0) { $0 | Int(data[8 + $1]) << (8 * $1) }
    let headerStart = major == 1 ? 10 : 12
    guard headerStart + headerLength <= data.count else { throw fail("header cut short") }
    let header = String(decoding: data[headerStart..<(headerStart + headerLength)], as: UTF8.self)
    let descr = field(header, "descr")
    guard descr == "'<f4'" || descr == "'<f8'" else {
      throw fail("element type \(descr ?? "?") is not float32 or float64 (object arrays are pickles: not read)")
    }
    let width = descr == "'<f4'" ? 4 : 8
    let fortran = field(header, "fortran_order") == "True"
    let shapeText = header.range(of: #"\(([0-9, ]*)\)"#, options: .regularExpression).map { String(header[$0]) } ?? ""
    let shape = shapeText.dropFirst().dropLast().split(separator: ",").compactMap {
      Int($0.trimmingCharacters(in: .whitespaces))
    }
    guard shape.count == 1 || shape.count == 2 else { throw fail("shape \(shapeText) is not 1-D or 2-D") }
    let (rows, columns) = shape.count == 1 ? (1, shape[0]) : (shape[0], shape[1])
    let body = headerStart + headerLength
    guard data.count - body >= rows * columns * width else { throw fail("data cut short") }
    var values = [Double](repeating: 0, count: rows * columns)
    for i in 0..<(rows * columns) {
      let at = body + i * width
      let bits = (0..<width).reduce(UInt64(0)) { $0 | UInt64(data[at + $1]) << (8 * UInt64($1)) }
      let value = width == 4 ? Double(Float(bitPattern: UInt32(bits))) : Double(bitPattern: bits)
      // Fortran order stores column by column.
      let (r, c) = fortran ? (i % rows, i / rows) : (i / columns, i % columns)
      values[r * columns + c] = value
    }
    return Array2D(rows: rows, columns: columns, values: values)
  }

  private static func field(_ header: String, _ key: String) -> String? {
    guard let range = header.range(of: "'\(key)':") else { return nil }
    let rest = header[range.upperBound...].drop { $0 == " " }
    return rest.prefix { $0 != "," && $0 != "}" }.trimmingCharacters(in: .whitespaces)
  }

  private func u16(_ at: Int) -> UInt32 { UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 }
  private func u32(_ at: Int) -> UInt32 { u16(at) | u16(at + 2) << 16 }
  private func error(_ message: String) -> ProfileError { ProfileError(file: file, message: message) }
}
