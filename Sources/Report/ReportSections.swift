import ConfoundCore
import Foundation
import PlateMaps

/// The sections of a report built from a run folder, each from what the store and `plots/` hold.
struct ReportSections {
  let builder: ReportBuilder
  let verdicts: [Verdict]

  func texts(_ section: String) -> [String] { verdicts.filter { $0.section == section }.map(\.text) }

  func design() throws -> Section {
    var s = Section(id: "design", title: "Design")
    let plates = builder.plates
    s.paragraphs = texts("design")
    let members = try designMembers()
    if !members.isEmpty {
      s.tables.append(Table(caption: "The design as the audit used it: each member, its column and how it was chosen",
                            header: ["member", "column", "source"],
                            rows: members.map { [$0.member, $0.value, $0.source] }))
    }
    s.tables.append(Table(caption: "Plates", header: ["plate", "batch", "wells", "sites"], rows: plates.map { p in
      [p.name, builder.batch(p.sites) ?? "—", String(Set(p.sites.map(\.key.well)).count), String(p.sites.count)]
    }))
    // One site per well stands for the well's covariates.
    var wells: [String: RunStore.SiteRecord] = [:]
    for site in builder.sites where wells["\(site.key.plate)/\(site.key.well)"] == nil {
      wells["\(site.key.plate)/\(site.key.well)"] = site
    }
    let keys = Set(wells.values.flatMap(\.covariates.keys)).sorted()
    var covariates: [[String]] = []
    var audit: [[String]] = []
    for key in keys {
      let values = wells.values.map { $0.covariates[key] ?? "" }
      let levels = Set(values).sorted(by: naturalLess)
      covariates.append([key, String(levels.count), levels.prefix(8).joined(separator: ", ")
                         + (levels.count > 8 ? ", …" : "")])
      guard levels.count >= 2, levels.count <= 12 else { continue }
      // Wells of each level on each plate: a level found on one plate only is confounded with it.
      for level in levels {
        let counts = plates.map { p in
          String(wells.values.filter { $0.key.plate == p.name && ($0.covariates[key] ?? "") == level }.count)
        }
        audit.append([key, level.isEmpty ? "(none)" : level] + counts)
      }
    }
    s.tables.append(Table(caption: "Covariates declared for the wells", header: ["covariate", "levels", "values"],
                          rows: covariates))
    if !audit.isEmpty {
      s.tables.append(Table(caption: "Design audit: wells of each covariate level on each plate",
                            header: ["covariate", "level"] + plates.map(\.name), rows: audit))
    }
    if let figure = try designFigure(members) { s.figures.append(figure) }
    return s
  }

  /// Panels of `measure` for every plate (sites in site order; a site without the value is missing).
  func panels(_ measure: String) throws -> [PlateMapPanel] {
    try builder.plates.compactMap { plate -> PlateMapPanel? in
      var values: [String: [Double?]] = [:]
      let byWell = Dictionary(grouping: plate.sites, by: \.key.well)
      var any = false
      for (well, sites) in byWell {
        values[well] = sites.sorted { $0.key.site < $1.key.site }.map { site in
          let v = builder.value(site, measure)
          if v != nil { any = true }
          return v
        }
      }
      guard any else { return nil }
      let shape = Self.plateShape(byWell.keys)
      return try PlateMapPanel(plate: plate.name, batch: builder.batch(plate.sites), rows: shape.rows,
                               columns: shape.columns, values: values)
    }
  }

  func plateMap(_ measure: String, unit: String, id: String) throws -> ReportFigure? {
    let panels = try panels(measure)
    guard !panels.isEmpty else { return nil }
    let figure = try PlateMapFigure(plates: panels, measure: measure, unit: unit)
    return ReportFigure(id: id, caption: "\(measure) per site on every plate (\(unit)); missing sites hatched.",
                        figure: figure)
  }

  func imageQuality() throws -> Section {
    var s = Section(id: "image-quality", title: "Image quality")
    s.paragraphs = texts("image-quality")
    for name in builder.measurementNames where name.hasPrefix("Focus_score_") {
      if let f = try plateMap(name, unit: "defocus score, 1 = in focus", id: "plate-\(name)") { s.figures.append(f) }
    }
    for name in builder.measurementNames where name.hasPrefix("ImageQuality_TenengradNormalized_") {
      if let f = try plateMap(name, unit: "Tenengrad / mean²", id: "plate-\(name)") { s.figures.append(f) }
    }
    return s
  }

  func density() throws -> Section {
    var s = Section(id: "density", title: "Cell density")
    s.paragraphs = texts("density")
    guard let map = try plateMap("Count_Nuclei", unit: "nuclei per site", id: "plate-Count_Nuclei") else {
      s.note = "No nucleus counts in this run: the segment stage did not run."
      return s
    }
    s.figures.append(map)
    // The density-target relation: each well's mean count, by the target's level, coloured by plate.
    let target = ["disease", "target"].first { key in builder.sites.contains { $0.covariates[key] != nil } }
    if let target {
      var wells: [String: (level: String, plate: String, values: [Double])] = [:]
      for site in builder.sites {
        guard let level = site.covariates[target], let v = builder.value(site, "Count_Nuclei") else { continue }
        wells["\(site.key.plate)/\(site.key.well)", default: (level, site.key.plate, [])].values.append(v)
      }
      let ordered = wells.keys.sorted(by: naturalLess).map { wells[$0]! }
      let rows = Set(ordered.map(\.level)).sorted(by: naturalLess).map { level -> DotPlot.Row in
        let group = ordered.filter { $0.level == level }
        let means = group.map { $0.values.reduce(0, +) / Double($0.values.count) }
        let mean = means.reduce(0, +) / Double(means.count)
        let sd = (means.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(1, means.count - 1))).squareRoot()
        let half = 1.96 * sd / Double(means.count).squareRoot()
        return DotPlot.Row(label: "\(target) = \(level) (\(means.count) wells)", estimate: mean, low: mean - half,
                           high: mean + half, points: means, pointCategories: group.map(\.plate))
      }
      if rows.count >= 2 {
        s.figures.append(ReportFigure(
          id: "density-by-\(target)",
          caption: "Mean nuclei per site of each well by \(target), with the mean's 95% interval; wells coloured by plate.",
          figure: DotPlot(title: "Cell density by \(target)", rows: rows, axisLabel: "nuclei per site (well mean)",
                          categoryName: "plate", palette: builder.palette)))
      }
    }
    return s
  }

  /// Rows of a dot plot from verdicts: their metric with its interval, their baseline's band, their folds.
  func rows(_ list: [Verdict], label: (Verdict) -> String) -> [DotPlot.Row] {
    list.compactMap { v in
      guard let value = v.metric?.value else { return nil }
      return DotPlot.Row(label: label(v), estimate: value, low: v.metric?.ciLow, high: v.metric?.ciHigh,
                         baseline: v.baseline?.value, baselineLow: v.baseline?.ciLow, baselineHigh: v.baseline?.ciHigh,
                         points: v.folds.map(\.value), pointCategories: v.folds.map(\.composition))
    }
  }

  func nuisance() -> Section {
    var s = Section(id: "nuisance", title: "Nuisance probes")
    let list = verdicts.filter { $0.section == "nuisance" }
    s.paragraphs = list.map(\.text)
    let rows = rows(list) { "\($0.covariate ?? "?") from \($0.measure ?? "?")" }
    if !rows.isEmpty {
      let names = Set(list.compactMap(\.metric?.name))
      s.figures.append(ReportFigure(
        id: "nuisance-probes",
        caption: "Each nuisance covariate predicted from the features: score with its 95% interval against the "
          + "permuted baseline (grey band, where the run recorded it).",
        figure: DotPlot(title: "Nuisance probes against their permuted baselines", rows: rows,
                        axisLabel: names.count == 1 ? names.first! : "score", palette: builder.palette)))
    } else {
      s.note = "No nuisance probe ran (no probe plugin, or fewer than two plates of control wells)."
    }
    return s
  }

  func targetProbe() -> Section {
    var s = Section(id: "target-probe", title: "Target probe")
    let list = verdicts.filter { $0.kind == "target-probe" }
    s.paragraphs = verdicts.filter { $0.section == "target-probe" }.map(\.text)
    let rows = rows(list) { $0.measure ?? "?" }
    if !rows.isEmpty {
      s.figures.append(ReportFigure(
        id: "target-probe-auc",
        caption: "ROC AUC of the target from each feature set (folds hold out healthy/disease cell-line pairs), with "
          + "its interval; one dot per fold, coloured by what the fold held out, where the run recorded folds.",
        figure: DotPlot(title: "Target probe: ROC AUC per feature set", rows: rows, axisLabel: "ROC AUC",
                        reference: 0.5, categoryName: "held out", palette: builder.palette,
                        domain: 0...1)))
    } else {
      s.note = "No target probe ran in this run."
    }
    return s
  }
}
