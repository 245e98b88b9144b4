import Foundation
import PlateMaps

/// Renders a `ReportModel` to one self-contained HTML page: figures as PNG `data:` URIs, styles inline, one small
/// inline script (sorting tables), and a Content-Security-Policy that forbids every request but `data:` images,
/// so the page opens offline and cannot reach the network. The same model gives the same bytes, but for the one
/// line that carries the report's own time (`timestampMarker`).
public enum ReportHTML {
  /// The line holding the generation time starts with this; `removingTimestamp` drops it.
  public static let timestampMarker = "<p class=\"generated\">"

  /// The files `write` made.
  public struct Written: Sendable {
    public let html: URL
    /// The folder beside the report holding each figure's data (`<id>.csv`) and vector form (`<id>.pdf`).
    public let data: URL
    public let bytes: Int
  }

  /// Writes `model` as `file` and its figures' data into `<file stem>-data/` beside it.
  @discardableResult
  public static func write(_ model: ReportModel, to file: URL, generated: Date? = Date(), pdf: Bool = true) throws
    -> Written
  {
    let stem = file.deletingPathExtension().lastPathComponent
    let data = file.deletingLastPathComponent().appendingPathComponent("\(stem)-data")
    try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
    for section in model.sections {
      for figure in section.figures {
        try figure.csv.write(to: data.appendingPathComponent("\(figure.id).csv"), atomically: true, encoding: .utf8)
        if pdf { try figure.figure.pdf().write(to: data.appendingPathComponent("\(figure.id).pdf")) }
      }
    }
    let html = try render(model, generated: generated, dataFolder: data.lastPathComponent)
    try html.write(to: file, atomically: true, encoding: .utf8)
    return Written(html: file, data: data, bytes: html.utf8.count)
  }

  /// The page; `dataFolder` is the relative folder the figures' CSV links point to.
  public static func render(_ model: ReportModel, generated: Date? = nil, dataFolder: String? = nil) throws -> String {
    var h = HTMLBuilder()
    h.raw("""
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; \
      style-src 'unsafe-inline'; script-src 'unsafe-inline'">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(escape(model.title))</title>
      <style>\(ReportStyle.css)</style>
      </head>
      <body>
      <header>
      <h1>\(escape(model.title))</h1>

      """)
    for line in model.summary { h.raw("<p class=\"summary\">\(escape(line))</p>\n") }
    if let generated {
      let stamp = ISO8601DateFormatter().string(from: generated)
      h.raw("\(timestampMarker)Report generated \(stamp)</p>\n")
    }
    h.raw("<nav>" + Section.order.map { "<a href=\"#\($0.id)\">\(escape($0.title))</a>" }.joined(separator: " · ")
          + " · <a href=\"#provenance\">Provenance</a></nav>\n</header>\n<main>\n")
    verdicts(&h, model)
    problems(&h, model)
    for section in model.sections { try self.section(&h, section, dataFolder: dataFolder) }
    provenance(&h, model.provenance)
    h.raw("</main>\n<script>\(ReportStyle.script)</script>\n</body>\n</html>\n")
    return h.text
  }

  /// `html` without the generation-time line: equal for two renderings of one model.
  public static func removingTimestamp(_ html: String) -> String {
    html.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix(timestampMarker) }
      .joined(separator: "\n")
  }

  static func verdicts(_ h: inout HTMLBuilder, _ model: ReportModel) {
    h.raw("<section id=\"verdicts\">\n<h2>Verdicts</h2>\n")
    let ranked = model.rankedVerdicts
    if ranked.isEmpty {
      h.raw("<p>No finding was made: see each section for what ran.</p>\n")
    } else {
      h.raw("<ol class=\"verdicts\">\n")
      for v in ranked {
        let level = v.kind == "confound-alert" ? "alert" : v.significant ? "significant" : "quiet"
        h.raw("<li class=\"verdict \(level)\"><span class=\"kind\">\(escape(v.kind))</span> ")
        h.raw("<span class=\"text\">\(escape(v.text))</span>\n<div class=\"numbers\">")
        h.raw(numbers(v).map { "<span>\(escape($0))</span>" }.joined(separator: " "))
        h.raw(" <a href=\"#\(escape(v.section))\">→ \(escape(sectionTitle(v.section)))</a></div></li>\n")
      }
      h.raw("</ol>\n")
    }
    h.raw("</section>\n")
  }

  /// The verdict's numbers as short labelled phrases; absent numbers are left out.
  static func numbers(_ v: Verdict) -> [String] {
    var out: [String] = []
    if let m = v.metric, let value = m.value {
      var s = "\(m.name) \(formatNumber(value))"
      if let lo = m.ciLow, let hi = m.ciHigh, lo.isFinite, hi.isFinite {
        s += " [95% CI \(formatNumber(lo)), \(formatNumber(hi))]"
      }
      out.append(s)
    }
    if let b = v.baseline, let value = b.value {
      var s = "baseline \(b.name.isEmpty ? "" : b.name + " ")\(formatNumber(value))"
      if let lo = b.ciLow, let hi = b.ciHigh, lo.isFinite, hi.isFinite {
        s += " [\(formatNumber(lo)), \(formatNumber(hi))]"
      }
      out.append(s)
    }
    if let p = v.pValue, p.isFinite { out.append("p = \(formatNumber(p))" + (v.correction.map { " (\($0))" } ?? "")) }
    if let u = v.units { out.append("units: " + (u.count.map { "\($0) " } ?? "") + u.name) }
    if !v.plates.isEmpty { out.append("plates: " + v.plates.joined(separator: ", ")) }
    out += v.evidence
    return out
  }

  static func sectionTitle(_ id: String) -> String { Section.order.first { $0.id == id }?.title ?? id }

  static func problems(_ h: inout HTMLBuilder, _ model: ReportModel) {
    h.raw("<section id=\"problems\">\n<h2>Failed units and skipped stages</h2>\n")
    if model.failedUnits.isEmpty && model.skippedStages.isEmpty {
      h.raw("<p>Every unit of work finished and every stage ran.</p>\n")
    }
    if !model.skippedStages.isEmpty {
      table(&h, Table(caption: "Skipped stages", header: ["stage", "why"],
                      rows: model.skippedStages.map { [$0.stage, $0.reason] }))
    }
    if !model.failedUnits.isEmpty {
      table(&h, Table(caption: "\(model.failedUnits.count) failed units (skipped; a resumed run retries them)",
                      header: ["stage", "unit", "message"], rows: model.failedUnits.map { [$0.stage, $0.key, $0.message] }))
    }
    h.raw("</section>\n")
  }

  static func section(_ h: inout HTMLBuilder, _ s: Section, dataFolder: String?) throws {
    h.raw("<section id=\"\(escape(s.id))\">\n<h2>\(escape(s.title))</h2>\n")
    for p in s.paragraphs { h.raw("<p>\(escape(p))</p>\n") }
    if s.isEmpty { h.raw("<p class=\"note\">\(escape(s.note ?? "Nothing was computed for this section in this run."))</p>\n") }
    else if let note = s.note { h.raw("<p class=\"note\">\(escape(note))</p>\n") }
    for t in s.tables { table(&h, t) }
    for f in s.figures {
      let raster = try f.figure.raster()
      h.raw("<figure id=\"fig-\(escape(f.id))\">\n<img alt=\"\(escape(f.caption))\" width=\"\(f.figure.width)\" ")
      h.raw("height=\"\(f.figure.height)\" src=\"data:image/png;base64,\(raster.png.base64EncodedString())\">\n")
      h.raw("<figcaption>\(escape(f.caption))")
      if let dataFolder {
        h.raw(" <a class=\"data\" href=\"\(escape(dataFolder))/\(escape(f.id)).csv\">data (CSV)</a>")
        h.raw(" <a class=\"data\" href=\"\(escape(dataFolder))/\(escape(f.id)).pdf\">PDF</a>")
      }
      h.raw("</figcaption>\n</figure>\n")
    }
    h.raw("</section>\n")
  }

  static func table(_ h: inout HTMLBuilder, _ t: Table) {
    h.raw("<table\(t.sortable ? " class=\"sortable\"" : "")>\n<caption>\(escape(t.caption))</caption>\n<thead><tr>")
    h.raw(t.header.map { "<th>\(escape($0))</th>" }.joined())
    h.raw("</tr></thead>\n<tbody>\n")
    for row in t.rows { h.raw("<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n") }
    h.raw("</tbody>\n</table>\n")
  }

  static func provenance(_ h: inout HTMLBuilder, _ p: Provenance) {
    h.raw("<section id=\"provenance\">\n<h2>Provenance</h2>\n")
    if let command = p.command { h.raw("<p>Command: <code>\(escape(command))</code></p>\n") }
    if let host = p.hostVersion { h.raw("<p>Host: \(escape(host))</p>\n") }
    if let started = p.runStarted { h.raw("<p>Run started: \(escape(started))</p>\n") }
    if !p.parameters.isEmpty { table(&h, Table(caption: "Parameters", header: ["parameter", "value"],
                                               rows: p.parameters.map { [$0.0, $0.1] })) }
    if !p.seeds.isEmpty { table(&h, Table(caption: "Seeds", header: ["what", "seed"], rows: p.seeds.map { [$0.0, $0.1] })) }
    if !p.inputs.isEmpty {
      table(&h, Table(caption: "Input files", header: ["path", "SHA-256", "bytes"],
                      rows: p.inputs.map { [$0.path, $0.sha256, String($0.bytes)] }))
    }
    if !p.plugins.isEmpty {
      table(&h, Table(caption: "Plugins", header: ["id", "version", "ABI"],
                      rows: p.plugins.map { [$0.id, $0.version, String($0.abi)] }))
    }
    if !p.stages.isEmpty {
      table(&h, Table(caption: "Stages", header: ["stage", "units done", "units failed", "seconds"],
                      rows: p.stages.map { [$0.name, String($0.done), String($0.failed),
                                            $0.seconds.map { String(format: "%.1f", $0) } ?? "—"] }))
    }
    h.raw("</section>\n")
  }

  /// HTML-escapes text and attribute content.
  static func escape(_ t: String) -> String {
    t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }
}

/// Accumulates the page's text.
struct HTMLBuilder {
  var text = ""
  mutating func raw(_ s: String) { text += s }
}
