import ConfoundImaging
import Foundation

extension RunStore {
  /// The folder beside the database holding its arrays: `run.sqlite` -> `run.sqlite.arrays/`.
  public var arraysFolder: URL { url.appendingPathExtension("arrays") }

  /// Writes a float32 matrix (row-major, `shape` multiplies to `values.count`) as `<name>.npy` beside the store
  /// and records it in `arrays` as part of the current unit, so a crash leaves at most an unrecorded file that
  /// the redone unit overwrites.
  public func saveArray(_ values: [Float], shape: [Int], name: String, in unit: UnitWriter) throws {
    guard shape.reduce(1, *) == values.count else {
      throw StoreError(path: url.path, message: "array \(name): shape \(shape) does not hold \(values.count) values")
    }
    guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
      throw StoreError(path: url.path, message: "array name \"\(name)\" must be a plain file name")
    }
    try FileManager.default.createDirectory(at: arraysFolder, withIntermediateDirectories: true)
    let file = arraysFolder.appendingPathComponent(name + ".npy")
    try NPYArray(shape: shape, values: values).write(to: file)
    try unit.recordArray(
      name: name, path: arraysFolder.lastPathComponent + "/" + file.lastPathComponent,
      shape: shape, dtype: "<f4")
  }

  /// Reads back a recorded array; nil when no array has that name.
  public func loadArray(name: String) throws -> NPYArray? {
    guard let path = try db.query("SELECT path FROM arrays WHERE name = ?", [.text(name)]).first?[0].text else {
      return nil
    }
    return try NPYArray.read(url.deletingLastPathComponent().appendingPathComponent(path))
  }
}
