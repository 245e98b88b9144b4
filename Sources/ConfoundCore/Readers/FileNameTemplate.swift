import Foundation

/// A file-name pattern with named fields, for screens that are a folder of images with no LoadData CSV.
///
/// Write fields as `{name}` (matches as little as possible) or `{name:regex}`; everything else is literal.
/// Known fields: `plate`, `well`, `row` + `column` (instead of `well`; letters or numbers), `site`, `channel`.
/// Any other field becomes a site covariate, except fields named with a leading `_`, which only match.
/// Without `plate`, the plate is the folder's name; without `site`, the site is 1. Channel values have spaces
/// removed ("Channel 1" and "Channel1" are the same channel).
/// The presets cover the common microscopes; `detect(_:)` picks the one matching the most files.
public struct FileNameTemplate: Sendable {
  public let name: String
  public let pattern: String
  let regex: NSRegularExpression
  let fields: [String]

  /// Compiles `pattern`; the error says which part is wrong.
  public init(_ pattern: String, name: String = "custom") throws {
    self.name = name
    self.pattern = pattern
    var expression = "^"
    var fields: [String] = []
    var rest = Substring(pattern)
    while let open = rest.firstIndex(of: "{") {
      expression += NSRegularExpression.escapedPattern(for: String(rest[..<open]))
      // Braces nest: a field's regex may hold quantifiers such as {1,2}.
      guard let close = FileNameTemplate.matchingBrace(rest, open: open) else {
        throw TemplateError(template: pattern, message: "a { has no matching }")
      }
      let inner = rest[rest.index(after: open)..<close]
      let parts = inner.split(separator: ":", maxSplits: 1)
      guard let field = parts.first.map(String.init), field.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
      else { throw TemplateError(template: pattern, message: "field {\(inner)} needs a name of letters, digits, _") }
      fields.append(field)
      expression += "(" + (parts.count > 1 ? String(parts[1]) : ".+?") + ")"
      rest = rest[rest.index(after: close)...]
    }
    expression += NSRegularExpression.escapedPattern(for: String(rest)) + "$"
    do { regex = try NSRegularExpression(pattern: expression, options: [.caseInsensitive]) } catch {
      throw TemplateError(template: pattern, message: "not a valid pattern (\(error.localizedDescription))")
    }
    guard fields.contains("well") || (fields.contains("row") && fields.contains("column")) else {
      throw TemplateError(template: pattern, message: "needs a {well} field, or {row} and {column}")
    }
    guard fields.contains("channel") else { throw TemplateError(template: pattern, message: "needs a {channel} field") }
    self.fields = fields
  }

  static func matchingBrace(_ text: Substring, open: Substring.Index) -> Substring.Index? {
    var depth = 0
    for i in text[open...].indices {
      if text[i] == "{" { depth += 1 } else if text[i] == "}" { depth -= 1 }
      if depth == 0 { return i }
    }
    return nil
  }

  /// The named fields of `fileName`, or nil when it does not match.
  public func match(_ fileName: String) -> [String: String]? {
    let range = NSRange(fileName.startIndex..., in: fileName)
    guard let m = regex.firstMatch(in: fileName, range: range) else { return nil }
    var values: [String: String] = [:]
    for (i, field) in fields.enumerated() {
      guard let r = Range(m.range(at: i + 1), in: fileName) else { continue }
      values[field] = String(fileName[r])
    }
    return values
  }

  /// An image record for `fileName` in `folder`, or nil when the name does not match.
  public func record(fileName: String, folder: URL) -> ImageRecord? {
    guard var values = match(fileName) else { return nil }
    let well: String
    if let w = values.removeValue(forKey: "well") {
      well = w
    } else {
      let row = values.removeValue(forKey: "row")!
      let column = values.removeValue(forKey: "column")!
      well = "\(Int(row).map { WellPosition.rowLetters($0 - 1) } ?? row)\(column)"
    }
    let plate = values.removeValue(forKey: "plate") ?? folder.lastPathComponent
    // A site field may carry its separator ("-00"): keep the digits; an empty optional site is site 1.
    let siteDigits = values.removeValue(forKey: "site")?.filter(\.isNumber) ?? ""
    guard let site = siteDigits.isEmpty ? 1 : Int(siteDigits) else { return nil }
    let channel = values.removeValue(forKey: "channel")!.filter { !$0.isWhitespace }
    return ImageRecord(
      plate: plate, well: well, site: site, channel: channel, path: folder.appendingPathComponent(fileName).path,
      origin: SourceLocation(file: folder.appendingPathComponent(fileName).path),
      metadata: values.filter { !$0.key.hasPrefix("_") })
  }
}

extension FileNameTemplate {
  static let imageExtension = "(?:tiff?|png)"

  /// MetaXpress / ImageXpress: `<plate>_<well>_s<site>_w<channel><anything>.tif`, also with double underscores
  /// (`BBBC006_z_aligned__a01__s1__w1_10.png`) and a UUID after the channel (`..._a01_s1_w1<uuid>.tif`).
  public static let metaXpress = try! FileNameTemplate(
    "{plate}{_s1:_+}{well:[A-Za-z]{1,2}\\d{1,3}}{_s2:_+}s{site:\\d+}{_s3:_+}{channel:w\\d}{_rest:.*}"
      + ".{_ext:\(imageExtension)}",
    name: "metaxpress")
  /// Operetta / Opera Phenix: `r01c01f01p01-ch1sk1fk1fl1.tiff` (row, column, field, plane, channel).
  public static let operetta = try! FileNameTemplate(
    "r{row:\\d{2}}c{column:\\d{2}}f{site:\\d{2}}p{plane:\\d{2}}-{channel:ch\\d+}sk{_sk:\\d+}fk{_fk:\\d+}fl{_fl:\\d+}"
      + ".{_ext:\(imageExtension)}", name: "operetta")
  /// ImageXpress without separators: `<plate>_<well>f<site>d<channel>.tif`, as in CellProfiler's ExampleHuman.
  public static let imageXpress = try! FileNameTemplate(
    "{plate}_{well:[A-Za-z]{1,2}\\d{2}}f{site:\\d{2}}{channel:d\\d}.{_ext:\(imageExtension)}", name: "imagexpress")
  /// CellProfiler's examples: `Channel1-01-A-01.tif` and `Channel 1-01-A-01-00.tif` (index, row, column, site).
  public static let cellProfilerExample = try! FileNameTemplate(
    "{channel:Channel ?\\d+}-{_index:\\d+}-{row:[A-Za-z]{1,2}}-{column:\\d{1,3}}{site:(?:-\\d+)?}"
      + ".{_ext:\(imageExtension)}", name: "cellprofiler-example")

  public static let presets: [FileNameTemplate] = [metaXpress, operetta, imageXpress, cellProfilerExample]

  /// The preset matching the most of `fileNames` (nil when none matches any).
  public static func detect(_ fileNames: [String]) -> FileNameTemplate? {
    let scored = presets.map { preset in (preset, fileNames.filter { preset.match($0) != nil }.count) }
    guard let best = scored.max(by: { $0.1 < $1.1 }), best.1 > 0 else { return nil }
    return best.0
  }
}

/// A file-name template that cannot be used; names the template and the fault.
public struct TemplateError: Error, CustomStringConvertible, Sendable {
  public let template: String
  public let message: String
  public var description: String { "file-name template \"\(template)\": \(message)" }
}
