import Foundation

extension StudyDesign {
  /// Reads a design file: JSON (`.json`) or a TOML subset (any other extension, normally `.toml`).
  ///
  /// The TOML accepted is what a design needs: `# comments`, `key = "string"` (or `'literal'`),
  /// `key = ["a", "b"]` (over several lines too), bare numbers and booleans (read as text), and either top-level
  /// keys or one `[design]` table. Any other TOML, or an unknown key, is an error naming the file and line.
  public static func load(_ url: URL) throws -> StudyDesign {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw DesignError(
        field: "--design \(url.path)", message: "cannot read the file (\(error.localizedDescription))",
        fix: "Check the path; `confound design init SCREEN` writes a design file to start from")
    }
    if url.pathExtension.lowercased() == "json" {
      let known = Set(CodingKeys.allCases.map(\.rawValue))
      if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let unknown = object.keys.sorted().first(where: { !known.contains($0) })
      {
        throw DesignError(
          field: "--design \(url.path)", message: "unknown key \"\(unknown)\"",
          fix: "The keys are \(CodingKeys.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      do { return try JSONDecoder().decode(StudyDesign.self, from: data) } catch {
        throw DesignError(
          field: "--design \(url.path)", message: "not a design in JSON (\(error))",
          fix: "Write an object with the string keys target, unit, pair, batch, plate, well, control and a"
            + " covariates array of strings")
      }
    }
    return try parseTOML(String(decoding: data, as: UTF8.self), file: url.path)
  }

  /// Parses a design from the TOML subset `load(_:)` accepts; `file` names the source in errors.
  public static func parseTOML(_ text: String, file: String = "<design>") throws -> StudyDesign {
    var design = StudyDesign()
    var seen: Set<String> = []
    let lines = text.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    var i = 0
    var table = ""
    while i < lines.count {
      let lineNumber = i + 1
      let fail = { (message: String) in
        DesignError(
          field: "\(file):\(lineNumber)", message: message,
          fix:
            "A design file holds `key = \"value\"` lines (keys: "
            + CodingKeys.allCases.map(\.rawValue).joined(separator: ", ") + "),"
            + " `covariates = [\"a\", \"b\"]`, # comments, and optionally a [design] table")
      }
      var line = try TOMLLine.stripComment(lines[i], fail)
      i += 1
      if line.isEmpty { continue }
      if line.hasPrefix("[") {
        guard line == "[design]" || line == "[ design ]" else {
          throw fail("table \(line) is not part of a design (only [design] is)")
        }
        guard table.isEmpty, seen.isEmpty else { throw fail("[design] must come first and once") }
        table = "design"
        continue
      }
      guard let eq = line.firstIndex(of: "=") else { throw fail("expected key = value") }
      let key = TOMLLine.unquoteKey(line[..<eq].trimmingCharacters(in: .whitespaces))
      guard let field = CodingKeys(rawValue: key) else { throw fail("unknown key \"\(key)\"") }
      guard !seen.contains(key) else { throw fail("key \"\(key)\" given twice") }
      seen.insert(key)
      var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
      // An array may continue over the next lines until its closing bracket.
      while value.hasPrefix("["), !TOMLLine.closesArray(value), i < lines.count {
        line = try TOMLLine.stripComment(lines[i], fail)
        i += 1
        value += " " + line
      }
      let parsed = try TOMLLine.value(value, fail)
      switch (field, parsed) {
      case (.covariates, .array(let items)): design.covariates = items
      case (.covariates, .string(let item)): design.covariates = [item]
      case (.covariates, _): throw fail("covariates must be an array of strings")
      case (_, .array): throw fail("\(key) takes one column, not an array")
      case (_, .string(let s)), (_, .bare(let s)):
        switch field {
        case .target: design.target = s
        case .unit: design.unit = s
        case .pair: design.pair = s
        case .batch: design.batch = s
        case .plate: design.plate = s
        case .well: design.well = s
        case .control: design.control = s
        case .covariates: break
        }
      }
    }
    return design
  }
}

/// The pieces of one line of the TOML subset.
enum TOMLLine {
  enum Value {
    case string(String)
    case array([String])
    /// A bare number or boolean, kept as written.
    case bare(String)
  }

  /// The line without its comment and surrounding spaces; a `#` inside a string is kept.
  static func stripComment(_ line: String, _ fail: (String) -> DesignError) throws -> String {
    var quote: Character? = nil
    var escaped = false
    for (offset, c) in line.enumerated() {
      if let q = quote {
        if escaped { escaped = false } else if c == "\\" && q == "\"" { escaped = true } else if c == q { quote = nil }
      } else if c == "\"" || c == "'" {
        quote = c
      } else if c == "#" {
        return String(line.prefix(offset)).trimmingCharacters(in: .whitespaces)
      }
    }
    guard quote == nil else { throw fail("a string is not closed on this line") }
    return line.trimmingCharacters(in: .whitespaces)
  }

  static func unquoteKey(_ key: String) -> String {
    if key.count >= 2, let f = key.first, f == "\"" || f == "'", key.last == f {
      return String(key.dropFirst().dropLast())
    }
    return key
  }

  static func closesArray(_ text: String) -> Bool {
    var quote: Character? = nil
    for c in text {
      if let q = quote {
        if c == q { quote = nil }
      } else if c == "\"" || c == "'" {
        quote = c
      } else if c == "]" {
        return true
      }
    }
    return false
  }

  static func value(_ text: String, _ fail: (String) -> DesignError) throws -> Value {
    var rest = Substring(text)
    let value: Value
    if rest.hasPrefix("[") {
      rest = rest.dropFirst()
      var items: [String] = []
      while true {
        rest = rest.drop { $0.isWhitespace }
        if rest.hasPrefix("]") { rest = rest.dropFirst(); break }
        guard let item = try string(&rest, fail) else { throw fail("array items must be quoted strings") }
        items.append(item)
        rest = rest.drop { $0.isWhitespace }
        if rest.hasPrefix(",") {
          rest = rest.dropFirst()
        } else if !rest.hasPrefix("]") {
          throw fail("expected , or ] in the array")
        }
      }
      value = .array(items)
    } else if let s = try string(&rest, fail) {
      value = .string(s)
    } else {
      let bare = String(rest)
      guard bare == "true" || bare == "false" || Double(bare.replacingOccurrences(of: "_", with: "")) != nil else {
        throw fail("value \(bare.isEmpty ? "(nothing)" : bare) is not a quoted string, number or boolean")
      }
      value = .bare(bare)
      rest = ""
    }
    guard rest.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw fail("unexpected text after the value: \(rest)")
    }
    return value
  }

  /// A basic ("...", with \" \\ \n \t escapes) or literal ('...') string at the start of `text`, consumed.
  static func string(_ text: inout Substring, _ fail: (String) -> DesignError) throws -> String? {
    guard let quote = text.first, quote == "\"" || quote == "'" else { return nil }
    var result = ""
    var i = text.index(after: text.startIndex)
    while i < text.endIndex {
      let c = text[i]
      if c == quote {
        text = text[text.index(after: i)...]
        return result
      }
      if c == "\\" && quote == "\"" {
        i = text.index(after: i)
        guard i < text.endIndex else { break }
        switch text[i] {
        case "\"": result.append("\"")
        case "\\": result.append("\\")
        case "n": result.append("\n")
        case "t": result.append("\t")
        default: throw fail("unknown escape \\\(text[i]) in a string")
        }
      } else {
        result.append(c)
      }
      i = text.index(after: i)
    }
    throw fail("a string is not closed")
  }
}
