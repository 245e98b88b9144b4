/// Why an image or array file could not be read or written. Every case names the file; `description` also says
/// what to do about it.
public struct ImageError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What went wrong, independent of the file.
  public enum Kind: Sendable, Equatable {
    /// No file at the path.
    case missingFile
    /// The first bytes are not those of a supported format.
    case unknownFormat
    /// The file starts right but its contents are cut short or damaged.
    case corrupt
    /// A valid file using a feature this reader does not handle (bit depth, photometric, dtype).
    case unsupported
    /// Valid, but it decodes to more samples than `ImageLimits.maxDecodedSamples` allows.
    case tooLarge
    /// Writing failed (permissions, disk full) or the values cannot be stored as asked.
    case writeFailed
  }

  /// What went wrong.
  public let kind: Kind
  /// The file concerned.
  public let path: String
  /// Details from the decoder (libtiff's or libpng's message) or from our checks.
  public let detail: String

  public init(_ kind: Kind, path: String, detail: String) {
    self.kind = kind
    self.path = path
    self.detail = detail
  }

  public var description: String {
    switch kind {
    case .missingFile:
      return "\(path): no such file; check the path and that the screen's folder is mounted"
    case .unknownFormat:
      return "\(path): not a TIFF, PNG or NPY file (\(detail)); convert it to TIFF or PNG, or remove it from the input"
    case .corrupt:
      return "\(path): truncated or corrupt (\(detail)); copy the file again from the acquisition system"
    case .unsupported:
      return "\(path): unsupported (\(detail)); re-save it as 8/16-bit integer or 32-bit float TIFF"
    case .tooLarge:
      return "\(path): too large (\(detail)); raise the limit with --max-image-pixels if the machine has the memory (4 bytes per sample, twice over while decoding)"
    case .writeFailed:
      return "\(path): cannot write (\(detail)); check the folder exists, is writable and has space"
    }
  }
}
