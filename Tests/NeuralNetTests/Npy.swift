import Foundation
import NeuralNet

/// A minimal reader of NumPy `.npy` files (v1/v2/v3, little-endian float32, C order), enough to load the
/// reference inputs and outputs; kept in the test target so the engine's API stays free of file formats.
enum Npy {
  struct FormatError: Error, CustomStringConvertible {
    let description: String
  }

  static func read(_ url: URL) throws -> Tensor {
    let bytes = [UInt8](try Data(contentsOf: url))
    guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
      throw FormatError(description: "\(url.path): not a .npy file")
    }
    let major = bytes[6]
    let lengthSize = major == 1 ? 2 : 4
    var headerLength = 0
    for i in 0..<lengthSize { headerLength |= Int(bytes[8 + i]) << (8 * i) }
    let start = 8 + lengthSize
    guard start + headerLength <= bytes.count else { throw FormatError(description: "\(url.path): header truncated") }
    let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
    guard header.contains("'descr': '<f4'"), header.contains("'fortran_order': False") else {
      throw FormatError(description: "\(url.path): only little-endian float32 C-order arrays are supported: \(header)")
    }
    guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
      throw FormatError(description: "\(url.path): no shape in header \(header)")
    }
    let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
      Int($0.trimmingCharacters(in: .whitespaces))
    }
    let count = shape.reduce(1, *)
    let body = start + headerLength
    guard bytes.count - body == count * 4 else {
      throw FormatError(description: "\(url.path): \(bytes.count - body) data bytes for shape \(shape)")
    }
    let values = bytes[body...].withUnsafeBytes { raw in
      (0..<count).map {
        Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
      }
    }
    return Tensor(shape: shape, data: values)
  }

  /// Writes a float32 C-order `.npy` (format 1.0) for a reference script to read.
  static func write(_ tensor: Tensor, to url: URL) throws {
    let shape = tensor.shape.map(String.init).joined(separator: ", ") + (tensor.shape.count == 1 ? "," : "")
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape)), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    bytes += [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
    for value in tensor.data { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
    try Data(bytes).write(to: url)
  }
}
