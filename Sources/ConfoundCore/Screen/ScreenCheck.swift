import ConfoundImaging
import Foundation

/// What `confound screen SPEC --check` reports: the plates, wells, sites, channels and covariates found, and every
/// problem (missing or unreadable files, mismatched sizes, platemap mismatches), each with its file and line.
///
/// Checking never stops at the first problem. Every image is decoded through ConfoundImaging (so a truncated file
/// is caught here, not hours into a run); an image's size is compared with the most common size of its channel.
public struct ScreenCheck: Codable, Sendable {
  /// One plate's counts.
  public struct PlateSummary: Codable, Sendable, Equatable {
    public let name: String
    public let batch: String
    public let format: String
    public let wells: Int
    public let sites: Int
    public let images: Int
  }

  public let plates: [PlateSummary]
  public let channels: [String]
  public let wellCount: Int
  public let siteCount: Int
  public let imageCount: Int
  public let covariates: [CovariateColumn]
  /// Channel -> [width, height] shared by most of its images.
  public let imageSizes: [String: [Int]]
  public let problems: [ScreenProblem]

  public var isClean: Bool { problems.isEmpty }

  /// Checks every image of `screen`; `problems` are those already met while reading and joining it.
  public init(screen: Screen, problems earlier: [ScreenProblem] = []) {
    var problems = earlier
    var sizes: [(channel: String, size: [Int], reference: ImageReference, plate: String, well: String)] = []
    for (plate, well, site) in screen.sites {
      for channel in screen.channels {
        guard let image = site.images[channel] else { continue }
        let location = image.origin ?? SourceLocation(file: image.path)
        guard FileManager.default.fileExists(atPath: image.path) else {
          problems.append(
            .init(.missingFile, at: location, plate: plate.name, well: well.name, "\(image.path) does not exist"))
          continue
        }
        do {
          let decoded = try readImage(URL(fileURLWithPath: image.path))
          sizes.append((channel, [decoded.width, decoded.height], image, plate.name, well.name))
        } catch {
          problems.append(.init(.unreadableFile, at: location, plate: plate.name, well: well.name, "\(error)"))
        }
      }
    }
    var reference: [String: [Int]] = [:]
    for channel in screen.channels {
      let counts = Dictionary(grouping: sizes.filter { $0.channel == channel }, by: \.size).mapValues(\.count)
      // Most common size; ties go to the larger image so the choice does not depend on dictionary order.
      reference[channel] = counts.max { ($0.value, $0.key.reduce(1, *)) < ($1.value, $1.key.reduce(1, *)) }?.key
    }
    for entry in sizes where entry.size != reference[entry.channel] {
      let expected = reference[entry.channel]!
      problems.append(
        .init(
          .mismatchedSize, at: entry.reference.origin ?? SourceLocation(file: entry.reference.path),
          plate: entry.plate, well: entry.well,
          "\(entry.reference.path) is \(entry.size[0])x\(entry.size[1]); other \(entry.channel) images are "
            + "\(expected[0])x\(expected[1])"))
    }
    plates = screen.batches.flatMap { batch in
      batch.plates.map { plate in
        PlateSummary(
          name: plate.name, batch: batch.name, format: plate.format.description, wells: plate.wells.count,
          sites: plate.wells.reduce(0) { $0 + $1.sites.count },
          images: plate.wells.reduce(0) { $0 + $1.sites.reduce(0) { $0 + $1.images.count } })
      }
    }
    channels = screen.channels
    wellCount = screen.wellCount
    siteCount = screen.siteCount
    imageCount = plates.reduce(0) { $0 + $1.images }
    covariates = screen.covariates
    imageSizes = reference
    self.problems = problems
  }

  /// The report as plain text, for a terminal.
  public var text: String {
    var lines = [
      "\(plates.count) plate(s), \(wellCount) well(s), \(siteCount) site(s), \(imageCount) image(s)",
      "channels: "
        + channels.map { c in imageSizes[c].map { "\(c) (\($0[0])x\($0[1]))" } ?? c }.joined(separator: ", "),
    ]
    for plate in plates {
      let batch = plate.batch.isEmpty ? "" : " batch \(plate.batch),"
      lines.append("  plate \(plate.name):\(batch) \(plate.format), \(plate.wells) wells, \(plate.sites) sites")
    }
    lines.append("covariates:")
    for c in covariates {
      let shown = c.values.prefix(6).joined(separator: ", ") + (c.values.count > 6 ? ", ..." : "")
      lines.append("  \(c.name) (\(c.level.rawValue), \(c.kind.rawValue), \(c.values.count) values): \(shown)")
    }
    lines.append(problems.isEmpty ? "no problems found" : "\(problems.count) problem(s):")
    lines += problems.map { "  " + $0.description }
    return lines.joined(separator: "\n") + "\n"
  }
}
