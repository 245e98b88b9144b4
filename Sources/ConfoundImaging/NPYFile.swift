import Foundation

extension NPYArray {
  private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

  /// Reads a `.npy` file; throws `ImageError` naming the file for a bad header, Fortran order, an unsupported
  /// dtype (big-endian, strings, objects) or a short data section.
  public static func read(_ url: URL) throws -> NPYArray {
    let path = url.path
    try ImageFileFormat.require(.npy, at: path)
    let bytes = [UInt8](try Data(contentsOf: url))
    guard bytes.count >= 10 else { throw ImageError(.corrupt, path: path, detail: "header cut short") }
    let major = bytes[6]
    let lengthBytes = major == 1 ? 2 : 4
    guard (1...3).contains(major), bytes.count >= 8 + lengthBytes else {
      throw ImageError(.unsupported, path: path, detail: "npy format version \(major).\(bytes[7])")
    }
    let headerLength = bytes[8..<8 + lengthBytes].reversed().reduce(0) { $0 << 8 | Int($1) }
    let start = 8 + lengthBytes + headerLength
    guard bytes.count >= start else { throw ImageError(.corrupt, path: path, detail: "header cut short") }
    let header = String(decoding: bytes[8 + lengthBytes..<start], as: UTF8.self)
    let (dtype, shape) = try parseHeader(header, path: path)
    // A shape is the file's claim: its product may overflow or dwarf the file, so check before multiplying it out.
    guard let byteCount = ImageLimits.product(shape + [dtype.size]) else {
      throw ImageError(.corrupt, path: path, detail: "shape \(shape) holds more elements than can be counted")
    }
    guard bytes.count >= start + byteCount else {
      throw ImageError(.corrupt, path: path, detail: "data has \(bytes.count - start) of \(byteCount) bytes")
    }
    return NPYArray(shape: shape, dtype: dtype, data: Array(bytes[start..<start + byteCount]))
  }

  /// Writes the array as a `.npy` file, format 1.0 (2.0 when the header needs it), header padded to 64 bytes.
  public func write(to url: URL) throws {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
    let version: UInt8 = header.utf8.count + 11 > 65535 ? 2 : 1
    let preamble = version == 1 ? 10 : 12
    let padding = (64 - (preamble + header.utf8.count + 1) % 64) % 64
    header += String(repeating: " ", count: padding) + "\n"
    let length = header.utf8.count
    var bytes = Self.magic + [version, 0]
    bytes += (0..<(version == 1 ? 2 : 4)).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
    bytes += Array(header.utf8) + data
    do { try Data(bytes).write(to: url) } catch {
      throw ImageError(.writeFailed, path: url.path, detail: error.localizedDescription)
    }
  }

  /// Parses the header dictionary, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (7, 1280), }`.
  static func parseHeader(_ header: String, path: String) throws -> (NPYDType, [Int]) {
    func value(after key: String) -> Substring? {
      guard let range = header.range(of: "'\(key)':") else { return nil }
      return header[range.upperBound...].drop { $0 == " " }
    }
    guard let descrText = value(after: "descr"), descrText.first == "'",
      let close = descrText.dropFirst().firstIndex(of: "'")
    else { throw ImageError(.corrupt, path: path, detail: "header has no 'descr': \(header)") }
    let descr = String(descrText[descrText.index(after: descrText.startIndex)..<close])
    guard let dtype = NPYDType(rawValue: descr == "<u1" ? "|u1" : descr) else {
      let known = NPYDType.allCases.map(\.rawValue).joined(separator: " ")
      throw ImageError(.unsupported, path: path, detail: "dtype \(descr); supported: \(known)")
    }
    if let order = value(after: "fortran_order"), order.hasPrefix("True") {
      throw ImageError(.unsupported, path: path, detail: "Fortran order; save with np.ascontiguousarray")
    }
    guard let shapeText = value(after: "shape"), shapeText.first == "(", let end = shapeText.firstIndex(of: ")") else {
      throw ImageError(.corrupt, path: path, detail: "header has no 'shape': \(header)")
    }
    let fields = shapeText[shapeText.index(after: shapeText.startIndex)..<end].split(separator: ",")
    let shape = fields.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard shape.count == fields.count, shape.allSatisfy({ $0 >= 0 }) else {
      throw ImageError(.corrupt, path: path, detail: "bad shape in header: \(header)")
    }
    return (dtype, shape)
  }
}
