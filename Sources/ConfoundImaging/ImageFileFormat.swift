import Foundation

/// The file formats this module reads, recognised by their first bytes (never by the extension: BBBC006 ships
/// TIFFs named `.png`).
public enum ImageFileFormat: String, Sendable, Equatable {
  case tiff, png, npy

  /// Recognises `bytes`, the start of a file (8 bytes suffice); nil when none matches.
  public static func sniff(_ bytes: [UInt8]) -> ImageFileFormat? {
    let tiffMagics: [[UInt8]] = [
      [0x49, 0x49, 42, 0], [0x4D, 0x4D, 0, 42], [0x49, 0x49, 43, 0], [0x4D, 0x4D, 0, 43],
    ]
    if tiffMagics.contains(where: { bytes.starts(with: $0) }) { return .tiff }
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
    if bytes.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return .npy }
    return nil
  }

  /// The format of the file at `path`; throws `.missingFile` or `.unknownFormat`.
  public static func of(path: String) throws -> ImageFileFormat {
    // Only regular files and folders get opened: opening a FIFO blocks until a writer comes, which may be never,
    // and a device may stream without end.
    var info = stat()
    if stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG, info.st_mode & S_IFMT != S_IFDIR {
      let kind = [S_IFIFO: "a FIFO (named pipe)", S_IFSOCK: "a socket", S_IFCHR: "a character device", S_IFBLK: "a block device"]
      throw ImageError(.unknownFormat, path: path, detail: "it is \(kind[info.st_mode & S_IFMT] ?? "not a regular file"), not a file")
    }
    guard let handle = FileHandle(forReadingAtPath: path) else {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        let reason = isDirectory.boolValue ? "it is a folder" : "it cannot be opened for reading"
        throw ImageError(.unknownFormat, path: path, detail: reason)
      }
      throw ImageError(.missingFile, path: path, detail: "")
    }
    defer { try? handle.close() }
    let head = [UInt8]((try? handle.read(upToCount: 8)) ?? Data())
    guard let format = sniff(head) else {
      let hex = head.map { String($0, radix: 16) }.joined(separator: " ")
      throw ImageError(.unknownFormat, path: path, detail: head.isEmpty ? "empty file" : "starts with \(hex)")
    }
    return format
  }

  /// Throws unless the file at `path` is in `format`.
  static func require(_ format: ImageFileFormat, at path: String) throws {
    let found = try of(path: path)
    guard found == format else {
      throw ImageError(
        .unknownFormat, path: path, detail: "expected \(format.rawValue), the content is \(found.rawValue)")
    }
  }
}

/// Reads a TIFF (all pages as channels) or PNG, choosing the decoder by the file's first bytes.
public func readImage(_ url: URL) throws -> Image {
  switch try ImageFileFormat.of(path: url.path) {
  case .tiff: return try readTIFF(url)
  case .png: return try readPNG(url)
  case .npy:
    throw ImageError(.unknownFormat, path: url.path, detail: "a NumPy array, not an image; read it with NPYArray")
  }
}
