import Foundation

/// A delimited text table (CSV or TSV) with a header row, each data row keeping its 1-based line number.
///
/// Handles RFC 4180 quoting (quoted delimiters, doubled quotes, newlines inside quotes), CRLF and CR line ends,
/// a UTF-8 byte-order mark, and blank lines (skipped). The delimiter is a comma unless the header line has more
/// tabs than commas. Gzip-compressed files (`.csv.gz`, recognised by their magic bytes) are decompressed first.
public struct CSVTable: Sendable {
  public let columns: [String]
  /// Data rows, each as long as `columns` (short rows are padded with "", see `raggedLines`).
  public let rows: [[String]]
  /// The 1-based line in the file where each row starts.
  public let lines: [Int]
  /// Lines whose field count differed from the header's.
  public let raggedLines: [Int]
  public let file: String

  /// Reads a table from a file; the error names the file. `isCancelled` is polled while parsing (every 64 Ki
  /// characters): a huge LoadData CSV must not hold off a Ctrl-C; when it turns true, `ReadCancelled` is thrown.
  public init(contentsOf url: URL, isCancelled: () -> Bool = { false }) throws {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw CSVError(file: url.path, line: nil, message: "cannot read the file (\(error.localizedDescription))")
    }
    let bytes = data.starts(with: [0x1f, 0x8b]) ? try Gunzip.decompress([UInt8](data), file: url.path) : [UInt8](data)
    if isCancelled() { throw ReadCancelled(file: url.path) }
    try self.init(text: String(decoding: bytes, as: UTF8.self), file: url.path, isCancelled: isCancelled)
  }

  /// Parses `text`; `file` is used in messages and `SourceLocation`s.
  public init(text: String, file: String = "<text>", delimiter: Character? = nil, isCancelled: () -> Bool = { false }) throws {
    self.file = file
    var scalars = Substring(text).unicodeScalars[...]
    if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
    let headerEnd = scalars.firstIndex { $0 == "\n" || $0 == "\r" } ?? scalars.endIndex
    let header = scalars[..<headerEnd]
    let sep: Unicode.Scalar =
      delimiter.flatMap(\.unicodeScalars.first)
      ?? (header.filter { $0 == "\t" }.count > header.filter { $0 == "," }.count ? "\t" : ",")
    let records = try CSVTable.records(scalars, delimiter: sep, file: file, isCancelled: isCancelled)
    guard let first = records.first else { throw CSVError(file: file, line: 1, message: "the table is empty") }
    columns = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
    var rows: [[String]] = []
    var lines: [Int] = []
    var ragged: [Int] = []
    for record in records.dropFirst() {
      var fields = record.fields
      if fields.count != columns.count { ragged.append(record.line) }
      if fields.count < columns.count { fields += Array(repeating: "", count: columns.count - fields.count) }
      rows.append(Array(fields.prefix(columns.count)))
      lines.append(record.line)
    }
    self.rows = rows
    self.lines = lines
    raggedLines = ragged
  }

  /// The index of a column, matched exactly or else ignoring case.
  public func column(_ name: String) -> Int? {
    columns.firstIndex(of: name) ?? columns.firstIndex { $0.lowercased() == name.lowercased() }
  }

  public func location(ofRow index: Int) -> SourceLocation { SourceLocation(file: file, line: lines[index]) }

  /// Splits into records; a record may span lines when a quoted field holds a newline.
  static func records(
    _ text: Substring.UnicodeScalarView, delimiter: Unicode.Scalar, file: String = "<text>", isCancelled: () -> Bool = { false }
  ) throws -> [(line: Int, fields: [String])] {
    var result: [(Int, [String])] = []
    var fields: [String] = []
    var field = String.UnicodeScalarView()
    var inQuotes = false
    var line = 1
    var recordLine = 1
    var fieldStarted = false
    var iterator = text.makeIterator()
    var pending: Unicode.Scalar? = nil
    var sinceCheck = 0
    func endRecord() {
      fields.append(String(field))
      if !(fields.count == 1 && fields[0].isEmpty && !fieldStarted) { result.append((recordLine, fields)) }
      fields = []
      field = .init()
      fieldStarted = false
    }
    while let c = pending ?? iterator.next() {
      pending = nil
      sinceCheck += 1
      if sinceCheck == 1 << 16 {
        sinceCheck = 0
        if isCancelled() { throw ReadCancelled(file: file) }
      }
      if inQuotes {
        if c == "\"" {
          if let next = iterator.next() {
            if next == "\"" {
              field.append("\"")
            } else {
              inQuotes = false
              pending = next
            }
          } else {
            inQuotes = false
          }
        } else {
          if c == "\n" { line += 1 }
          field.append(c)
        }
        continue
      }
      switch c {
      case "\"" where field.isEmpty:
        inQuotes = true
        fieldStarted = true
      case delimiter:
        fields.append(String(field))
        field = .init()
        fieldStarted = true
      case "\r", "\n":
        if c == "\r", let next = iterator.next(), next != "\n" { pending = next }
        endRecord()
        line += 1
        recordLine = line
      default: field.append(c)
      }
    }
    if !field.isEmpty || !fields.isEmpty || fieldStarted { endRecord() }
    return result
  }
}

/// Reading stopped because the caller's `isCancelled` turned true (a request cancelled, Ctrl-C).
public struct ReadCancelled: Error, CustomStringConvertible, Sendable {
  public let file: String
  public var description: String { "reading \(file) was cancelled" }
}

/// A table that could not be read; names the file and line and says what to do.
public struct CSVError: Error, CustomStringConvertible, Sendable {
  public let file: String
  public let line: Int?
  public let message: String
  public var description: String { "\(SourceLocation(file: file, line: line)): \(message)" }
}
