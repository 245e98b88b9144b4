import Foundation

/// A place in an input file: the file and, for tables, the 1-based line.
public struct SourceLocation: Codable, Sendable, Hashable, CustomStringConvertible {
  public let file: String
  public let line: Int?

  public init(file: String, line: Int? = nil) {
    self.file = file
    self.line = line
  }

  public var description: String { line.map { "\(file):\($0)" } ?? file }
}

/// One channel's image of a site: a file path (absolute or relative to the working directory) and where the
/// screen description named it.
public struct ImageReference: Codable, Sendable, Hashable {
  public let path: String
  /// The LoadData row or directory listing that named this image.
  public let origin: SourceLocation?

  public init(path: String, origin: SourceLocation? = nil) {
    self.path = path
    self.origin = origin
  }
}

/// One field of view in a well, with one image per channel.
public struct Site: Codable, Sendable, Hashable {
  /// The site number as the instrument wrote it (some count from 0, some from 1).
  public let number: Int
  /// Channel name -> image.
  public var images: [String: ImageReference]
  public var covariates: [String: String]

  public init(number: Int, images: [String: ImageReference] = [:], covariates: [String: String] = [:]) {
    self.number = number
    self.images = images
    self.covariates = covariates
  }
}

/// One well of a plate: its position, its covariates (from the platemap or metadata), and its sites.
public struct Well: Codable, Sendable, Hashable {
  public let position: WellPosition
  public var covariates: [String: String]
  public var sites: [Site]

  public var name: String { position.name }

  public init(position: WellPosition, covariates: [String: String] = [:], sites: [Site] = []) {
    self.position = position
    self.covariates = covariates
    self.sites = sites
  }
}

/// One plate: its name (barcode), format, plate-level covariates and the wells that have images.
public struct Plate: Codable, Sendable, Hashable {
  public let name: String
  public var format: PlateFormat
  public var covariates: [String: String]
  public var wells: [Well]

  public init(name: String, format: PlateFormat, covariates: [String: String] = [:], wells: [Well] = []) {
    self.name = name
    self.format = format
    self.covariates = covariates
    self.wells = wells
  }

  public func well(_ position: WellPosition) -> Well? { wells.first { $0.position == position } }
}

/// Plates imaged together (same day, same staining): the unit a batch effect attaches to.
public struct Batch: Codable, Sendable, Hashable {
  public let name: String
  public var plates: [Plate]

  public init(name: String, plates: [Plate]) {
    self.name = name
    self.plates = plates
  }
}

/// A high-content screen: batches -> plates -> wells -> sites -> channels, with open-ended covariates at each
/// level. Built by the readers (`LoadDataReader`, `FileNameTemplate`) and joined to platemaps (`Platemap`).
public struct Screen: Codable, Sendable {
  public var batches: [Batch]
  /// Channel names, in first-seen order.
  public var channels: [String]

  public init(batches: [Batch], channels: [String]) {
    self.batches = batches
    self.channels = channels
  }

  public var plates: [Plate] { batches.flatMap(\.plates) }
  public var siteCount: Int { plates.reduce(0) { $0 + $1.wells.reduce(0) { $0 + $1.sites.count } } }
  public var wellCount: Int { plates.reduce(0) { $0 + $1.wells.count } }

  /// The covariate columns at each level, with kinds inferred from all their values in the screen.
  public var covariates: [CovariateColumn] {
    var values: [CovariateLevel: [String: [String]]] = [:]
    for plate in plates {
      for (k, v) in plate.covariates { values[.plate, default: [:]][k, default: []].append(v) }
      for well in plate.wells {
        for (k, v) in well.covariates { values[.well, default: [:]][k, default: []].append(v) }
        for site in well.sites {
          for (k, v) in site.covariates { values[.site, default: [:]][k, default: []].append(v) }
        }
      }
    }
    return CovariateLevel.allCases.flatMap { level in
      (values[level] ?? [:]).keys.sorted().map { CovariateColumn(name: $0, level: level, values: values[level]![$0]!) }
    }
  }

  /// Every site with its plate and well, in plate, well, site order.
  public var sites: [(plate: Plate, well: Well, site: Site)] {
    plates.flatMap { plate in plate.wells.flatMap { well in well.sites.map { (plate, well, $0) } } }
  }

  /// All covariates that apply to a site: plate's, then well's, then the site's own (later levels win).
  public static func covariates(plate: Plate, well: Well, site: Site) -> [String: String] {
    plate.covariates.merging(well.covariates) { $1 }.merging(site.covariates) { $1 }
  }
}
