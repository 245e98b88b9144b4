import Foundation

extension Screen {
  /// Each well's covariates (its plate's, then its own; the well's win), plus `Plate` and `Well`, in plate and
  /// well order: what `ResolvedDesign.validate(wells:)` takes.
  public var wellCovariates: [[String: String]] {
    plates.flatMap { plate in
      plate.wells.map { well in
        plate.covariates.merging(well.covariates) { $1 }.merging(["Plate": plate.name, "Well": well.name]) { a, _ in a }
      }
    }
  }

  /// Column -> its value in every well (aligned with `wellCovariates`, "" where a well lacks the column): what
  /// `ResolvedDesign.resolve(_:columns:)` and `StudyDesign.initFile(columns:source:)` take.
  public var designColumns: [String: [String]] {
    let wells = wellCovariates
    let names = Set(wells.flatMap(\.keys))
    return Dictionary(uniqueKeysWithValues: names.map { name in (name, wells.map { $0[name] ?? "" }) })
  }

  /// Each well's sites' covariates, keyed "plate/well": what `ResolvedDesign.validate(sitesByWell:)` takes.
  public var siteCovariatesByWell: [String: [[String: String]]] {
    var result: [String: [[String: String]]] = [:]
    for plate in plates {
      for well in plate.wells { result["\(plate.name)/\(well.name)"] = well.sites.map(\.covariates) }
    }
    return result
  }
}
