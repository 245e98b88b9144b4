import Foundation

/// Something wrong with a screen's description or files, found without stopping at the first.
public struct ScreenProblem: Codable, Sendable, Hashable, CustomStringConvertible {
  /// What kind of problem; raw values are stable for JSON consumers.
  public enum Kind: String, Codable, Sendable {
    case missingFile = "missing-file"
    case unreadableFile = "unreadable-file"
    case mismatchedSize = "mismatched-size"
    case wellWithoutPlatemapRow = "well-without-platemap-row"
    case platemapRowWithoutImages = "platemap-row-without-images"
    case badWellName = "bad-well-name"
    case badRow = "bad-row"
    case duplicateImage = "duplicate-image"
    case missingChannel = "missing-channel"
    case unmatchedFileName = "unmatched-file-name"
  }

  public let kind: Kind
  /// The file the problem is in or about, with the line when it comes from a table.
  public let location: SourceLocation?
  public let plate: String?
  public let well: String?
  public let message: String

  public init(
    _ kind: Kind, at location: SourceLocation?, plate: String? = nil, well: String? = nil, _ message: String
  ) {
    self.kind = kind
    self.location = location
    self.plate = plate
    self.well = well
    self.message = message
  }

  public var description: String {
    let place = [location?.description, plate.map { "plate \($0)" }, well.map { "well \($0)" }]
      .compactMap { $0 }.joined(separator: ", ")
    return "\(kind.rawValue): \(place.isEmpty ? "" : place + ": ")\(message)"
  }
}

/// One image found by a reader, before the screen's hierarchy is built.
public struct ImageRecord: Sendable, Hashable {
  public var plate: String
  public var well: String
  public var site: Int
  public var channel: String
  public var path: String
  public var origin: SourceLocation?
  /// Extra fields (LoadData `Metadata_*` without the prefix, or a template's other named fields).
  public var metadata: [String: String]

  public init(
    plate: String, well: String, site: Int, channel: String, path: String, origin: SourceLocation? = nil,
    metadata: [String: String] = [:]
  ) {
    self.plate = plate
    self.well = well
    self.site = site
    self.channel = channel
    self.path = path
    self.origin = origin
    self.metadata = metadata
  }
}
