import Foundation

/// Which wells are controls, as an expression over one column: `COL=VALUE`, `COL!=VALUE`, `COL in a,b,c`, or a
/// bare `COL` whose value is true (`1`, `true` or `yes`: `ControlExpression.isTrue(_:)`, the one rule for a
/// control flag column).
///
/// Whitespace around names, operators and values is ignored; a value may be quoted (`"` or `'`) to keep spaces
/// or commas. Values compare ignoring case (`DMSO` matches `dmso`), since labs write them both ways.
public struct ControlExpression: Sendable, Equatable, CustomStringConvertible {
  /// How the column's value is tested.
  public enum Test: Sendable, Equatable {
    case equals(String)
    case notEquals(String)
    case oneOf([String])
    /// The value is true by `ControlExpression.isTrue(_:)`.
    case isTrue
  }

  public let column: String
  public let test: Test

  public init(column: String, test: Test) {
    self.column = column
    self.test = test
  }

  static let syntax =
    "Write COLUMN=VALUE, COLUMN!=VALUE, COLUMN in A,B,C, or a bare COLUMN whose value is 1/true/yes"
    + " (e.g. Metadata_control_type=negcon, compound=DMSO); quote values with spaces"

  /// Parses the expression; the error says which syntax is accepted.
  public init(parsing text: String) throws {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let fail = { (why: String) in
      DesignError(field: "--control", message: "cannot read \"\(text)\": \(why)", fix: ControlExpression.syntax)
    }
    guard !trimmed.isEmpty else { throw fail("the expression is empty") }
    if let range = trimmed.range(of: "!=") {
      let (name, value) = (trimmed[..<range.lowerBound], trimmed[range.upperBound...])
      self.init(column: try Self.name(name, fail), test: .notEquals(try Self.value(value, fail)))
    } else if let range = trimmed.range(of: "=") {
      let (name, value) = (trimmed[..<range.lowerBound], trimmed[range.upperBound...])
      let v = value.hasPrefix("=") ? value.dropFirst() : value  // `==` reads as `=`
      self.init(column: try Self.name(name, fail), test: .equals(try Self.value(v, fail)))
    } else if let range = trimmed.range(of: #"\s+in\s+"#, options: [.regularExpression, .caseInsensitive]) {
      let values = try Self.list(trimmed[range.upperBound...], fail)
      guard !values.isEmpty else { throw fail("no values after \"in\"") }
      self.init(column: try Self.name(trimmed[..<range.lowerBound], fail), test: .oneOf(values))
    } else {
      self.init(column: try Self.name(Substring(trimmed), fail), test: .isTrue)
    }
  }

  /// The one rule for a control flag column: `1`, `true` or `yes`, ignoring case and surrounding spaces.
  public static func isTrue(_ value: String) -> Bool {
    ["1", "true", "yes"].contains(value.trimmingCharacters(in: .whitespaces).lowercased())
  }

  /// Whether a well with these covariates is a control; the column is found by `StudyDesign.column(named:in:)`,
  /// and a well without it is not a control.
  public func matches(_ covariates: [String: String]) -> Bool {
    let raw =
      covariates[column] ?? StudyDesign.column(named: column, in: Array(covariates.keys)).flatMap { covariates[$0] }
    guard let raw else { return false }
    let value = raw.trimmingCharacters(in: .whitespaces).lowercased()
    switch test {
    case .equals(let v): return value == v.lowercased()
    case .notEquals(let v): return value != v.lowercased()
    case .oneOf(let vs): return vs.contains { $0.lowercased() == value }
    case .isTrue: return Self.isTrue(raw)
    }
  }

  /// The same expression with the column renamed (to the screen's actual column name).
  public func renamed(_ column: String) -> ControlExpression { ControlExpression(column: column, test: test) }

  /// Text that parses back to this expression.
  public var description: String {
    switch test {
    case .equals(let v): return "\(column)=\(Self.quoted(v))"
    case .notEquals(let v): return "\(column)!=\(Self.quoted(v))"
    case .oneOf(let vs): return "\(column) in \(vs.map(Self.quoted).joined(separator: ","))"
    case .isTrue: return column
    }
  }

  private static func quoted(_ value: String) -> String {
    value.contains { $0 == "," || $0 == " " || $0 == "=" || $0 == "!" || $0 == "\"" } || value.isEmpty
      ? "'\(value)'" : value
  }

  private static func name(_ text: Substring, _ fail: (String) -> DesignError) throws -> String {
    let written = text.trimmingCharacters(in: .whitespaces)
    let name = unquote(written)
    guard !name.isEmpty else { throw fail("no column name") }
    guard !name.contains(where: { $0 == "," || $0 == "=" || $0 == "!" }) else {
      throw fail("\"\(name)\" is not a column name")
    }
    if name == written, name.contains(where: \.isWhitespace) {
      throw fail("\"\(name)\" is not a column name (quote a name that has spaces)")
    }
    return name
  }

  private static func value(_ text: Substring, _ fail: (String) -> DesignError) throws -> String {
    let values = try list(text, fail)
    guard values.count == 1 else {
      throw fail(values.isEmpty ? "no value after the operator" : "one value expected; use `in` for several")
    }
    return values[0]
  }

  /// Comma-separated values, each optionally quoted; an empty value must be quoted ('').
  private static func list(_ text: Substring, _ fail: (String) -> DesignError) throws -> [String] {
    var values: [(text: String, quoted: Bool)] = []
    var current = ""
    var quote: Character? = nil
    var wasQuoted = false
    for c in text {
      if let q = quote {
        if c == q { quote = nil } else { current.append(c) }
      } else if c == "\"" || c == "'" {
        guard current.trimmingCharacters(in: .whitespaces).isEmpty, !wasQuoted else {
          throw fail("a quote inside a value")
        }
        current = ""
        quote = c
        wasQuoted = true
      } else if c == "," {
        values.append((wasQuoted ? current : current.trimmingCharacters(in: .whitespaces), wasQuoted))
        current = ""
        wasQuoted = false
      } else if wasQuoted {
        guard c.isWhitespace else { throw fail("text after a quoted value") }
      } else {
        current.append(c)
      }
    }
    guard quote == nil else { throw fail("a quote is not closed") }
    values.append((wasQuoted ? current : current.trimmingCharacters(in: .whitespaces), wasQuoted))
    if values.count == 1, values[0].text.isEmpty, !values[0].quoted { return [] }
    guard !values.contains(where: { $0.text.isEmpty && !$0.quoted }) else { throw fail("an empty value in the list") }
    return values.map(\.text)
  }

  private static func unquote(_ text: String) -> String {
    if text.count >= 2, let f = text.first, f == "\"" || f == "'", text.last == f {
      return String(text.dropFirst().dropLast())
    }
    return text
  }
}
