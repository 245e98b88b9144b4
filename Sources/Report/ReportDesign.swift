import ConfoundCore
import Foundation
import PlateMaps

/// The design as the audit used it (the store's `design` record: each member, its column and whether it was declared
/// or inferred) and the figure of it on the plates: the target, the unit of replication and the controls, well by
/// well, in the report's category colours.
extension ReportSections {
  /// One member of the design: `target`, `unit`, `pair`, `control`, `batch`, `covariate`.
  struct DesignMember {
    let member: String
    let value: String
    let source: String
  }

  /// The design record of the store, empty when the run has none (a store written before designs were kept).
  func designMembers() throws -> [DesignMember] {
    guard let json = try builder.store.designJSON(), let data = json.data(using: .utf8),
      let list = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
    else { return [] }
    return list.compactMap { o in
      guard let member = o["member"] as? String, let value = o["value"] as? String else { return nil }
      return DesignMember(member: member, value: value, source: o["source"] as? String ?? "")
    }
  }

  /// The key of the control layer: not a covariate's name, so its levels never take a covariate's colours.
  static let controlLayer = "control (design)"

  /// The plate layout coloured by target, unit and controls (from the design record; without one, by a `disease`
  /// or `target` column and a `control` flag column); nil when there is nothing to colour by.
  func designFigure(_ members: [DesignMember]) throws -> ReportFigure? {
    let value = { (name: String) in members.first { $0.member == name }?.value }
    let keys = Set(builder.sites.flatMap(\.covariates.keys))
    let target = value("target") ?? ["disease", "target"].first(where: keys.contains)
    let control = try value("control").map { try ControlExpression(parsing: $0) }
      ?? (keys.contains("control") ? ControlExpression(column: "control", test: .isTrue) : nil)
    var layers: [DesignPlateMap.Layer] = []
    if let target { layers.append(.init(key: target, title: "\(target) (the target)")) }
    if let unit = value("unit") { layers.append(.init(key: unit, title: "\(unit) (the unit of replication)")) }
    if let control { layers.append(.init(key: Self.controlLayer, title: "controls (\(control))")) }
    guard !layers.isEmpty else { return nil }
    let plates = builder.plates.map { plate -> DesignPlateMap.Plate in
      var wells: [String: [String: String]] = [:]
      for site in plate.sites.sorted(by: { $0.key.site < $1.key.site }) {
        guard let (r, c) = PlateMapPanel.position(of: site.key.well) else { continue }
        let name = PlateMapPanel.wellName(row: r, column: c)
        guard wells[name] == nil else { continue }
        var levels = site.covariates
        if let control { levels[Self.controlLayer] = control.matches(site.covariates) ? "control" : "sample" }
        wells[name] = levels
      }
      let shape = Self.plateShape(wells.keys)
      return DesignPlateMap.Plate(name: plate.name, batch: builder.batch(plate.sites), rows: shape.rows,
                                  columns: shape.columns, wells: wells)
    }
    // Controls red on a grey-brown of samples: not the target's first two colours, so neither reads as a level of it.
    let palette = builder.palette.fixing(covariate: Self.controlLayer, [("control", CategoryPalette.colours[2]),
                                                                        ("sample", CategoryPalette.colours[9])])
    let figure = try DesignPlateMap(title: "The design on the plates", plates: plates, layers: layers, palette: palette)
    return ReportFigure(
      id: "design-layout",
      caption: "Each well of each plate coloured by " + layers.map(\.title).joined(separator: ", by ")
        + "; colours as in every other figure of this report; wells not on the screen hatched.", figure: figure)
  }

  /// The smallest standard plate (96, 384, 1536 wells) that holds wells of these names.
  static func plateShape(_ wells: some Sequence<String>) -> (rows: Int, columns: Int) {
    let positions = wells.compactMap(PlateMapPanel.position(of:))
    let rows = (positions.map(\.row).max() ?? 0) + 1
    let columns = (positions.map(\.column).max() ?? 0) + 1
    return rows <= 8 && columns <= 12 ? (8, 12) : rows <= 16 && columns <= 24 ? (16, 24) : (32, 48)
  }
}
