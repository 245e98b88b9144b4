import Foundation

/// Measurements a lab already has, with no pixels: one row per site or per well, metadata and numeric features.
///
/// Read by `ProfileTableReader` from a CellProfiler per-site `Image.csv`, pycytominer per-well profiles
/// (CSV, CSV.gz), or a CellProfiler / cytominer-database SQLite (aggregated per well).
public struct ProfileTable: Sendable {
  /// Whether a row is one site (field of view) or one whole well.
  public enum Level: String, Sendable {
    case site, well
  }

  public var level: Level
  public var source: URL
  /// `cellprofiler-image-csv`, `pycytominer`, `cytominer-sqlite`, `cellprofiler-sqlite` or `deepprofiler-npz`.
  public var format: String
  /// The metadata columns kept on every row (as named in the file; `Image_Metadata_X` becomes `Metadata_X`).
  public var metadataColumns: [String]
  public var features: [String]
  /// Aligned with `features`: each feature's role, from `FeatureRole.infer(cellProfilerName:)` (or `.embedding`).
  public var roles: [FeatureRole]
  public var rows: [ProfileRow]

  public init(
    level: Level, source: URL, format: String, metadataColumns: [String], features: [String], roles: [FeatureRole],
    rows: [ProfileRow]
  ) {
    self.level = level
    self.source = source
    self.format = format
    self.metadataColumns = metadataColumns
    self.features = features
    self.roles = roles
    self.rows = rows
  }

  /// The index of a feature by its exact name.
  public func feature(_ name: String) -> Int? { features.firstIndex(of: name) }
}

/// One site or well of a profiles table.
public struct ProfileRow: Sendable {
  public var plate: String
  public var well: String
  /// The site number at site level; nil at well level.
  public var site: Int?
  public var metadata: [String: String]
  /// Aligned with `ProfileTable.features`; NaN where the file has no value.
  public var values: [Double]

  public init(plate: String, well: String, site: Int?, metadata: [String: String], values: [Double]) {
    self.plate = plate
    self.well = well
    self.site = site
    self.metadata = metadata
    self.values = values
  }
}

/// A profiles table that cannot be read; names the file and says what to do.
public struct ProfileError: Error, CustomStringConvertible, Sendable {
  public let file: String
  public let message: String

  public init(file: String, message: String) {
    self.file = file
    self.message = message
  }

  public var description: String { "\(file): \(message)" }
}
