import Foundation

/// The geometry of a multi-well plate: 6, 24, 96, 384 or 1536 wells in a 2:3 grid.
///
/// Rows are lettered A, B, ... Z, AA ... AF (1536-well plates have 32 rows); columns are numbered from 1.
public struct PlateFormat: Hashable, Codable, Sendable, CustomStringConvertible {
  public let rows: Int
  public let columns: Int

  public static let wells6 = PlateFormat(rows: 2, columns: 3)
  public static let wells24 = PlateFormat(rows: 4, columns: 6)
  public static let wells96 = PlateFormat(rows: 8, columns: 12)
  public static let wells384 = PlateFormat(rows: 16, columns: 24)
  public static let wells1536 = PlateFormat(rows: 32, columns: 48)
  /// Every supported format, smallest first.
  public static let all: [PlateFormat] = [wells6, wells24, wells96, wells384, wells1536]

  public var wellCount: Int { rows * columns }
  public var description: String { "\(wellCount)-well" }

  /// The format with `wellCount` wells, or nil when it is not one of 6, 24, 96, 384, 1536.
  public init?(wellCount: Int) {
    guard let format = PlateFormat.all.first(where: { $0.wellCount == wellCount }) else { return nil }
    self = format
  }

  init(rows: Int, columns: Int) {
    self.rows = rows
    self.columns = columns
  }

  /// The smallest standard format holding every position (nil when even 1536 is too small).
  public static func smallest(fitting positions: some Sequence<WellPosition>, among formats: [PlateFormat] = all)
    -> PlateFormat?
  {
    var maxRow = 0
    var maxColumn = 0
    for position in positions {
      maxRow = max(maxRow, position.row)
      maxColumn = max(maxColumn, position.column)
    }
    return formats.first { $0.rows > maxRow && $0.columns > maxColumn }
  }

  public func contains(_ position: WellPosition) -> Bool {
    position.row >= 0 && position.row < rows && position.column >= 0 && position.column < columns
  }

  /// Row-major index from 0: A01 is 0, A02 is 1, B01 is `columns`.
  public func wellIndex(_ position: WellPosition) -> Int { position.row * columns + position.column }

  /// Distance in wells to the nearest plate edge: 0 for the outer ring, 1 for the ring inside it.
  public func edgeDistance(_ position: WellPosition) -> Int {
    min(position.row, position.column, rows - 1 - position.row, columns - 1 - position.column)
  }

  /// Euclidean distance from the plate centre, scaled so the corner wells are at 1.
  public func radialDistance(_ position: WellPosition) -> Double {
    let cy = Double(rows - 1) / 2
    let cx = Double(columns - 1) / 2
    let dy = Double(position.row) - cy
    let dx = Double(position.column) - cx
    return (dx * dx + dy * dy).squareRoot() / (cx * cx + cy * cy).squareRoot()
  }

  /// Every well, row by row.
  public var positions: [WellPosition] {
    (0..<rows).flatMap { row in (0..<columns).map { WellPosition(row: row, column: $0) } }
  }

  /// Parses a well name and checks it lies on this plate.
  public func parse(_ name: String) throws(WellNameError) -> WellPosition {
    let position = try WellPosition(parsing: name)
    guard contains(position) else { throw .outsidePlate(name: name, format: self) }
    return position
  }
}

/// A well's place on the plate, both indices from 0.
public struct WellPosition: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
  public let row: Int
  public let column: Int

  public init(row: Int, column: Int) {
    self.row = row
    self.column = column
  }

  /// Parses "A01", "a1", "A001", "AA01" (1536-well rows AA..AF), and the Operetta form "r01c01".
  public init(parsing text: String) throws(WellNameError) {
    let name = text.trimmingCharacters(in: .whitespaces)
    let chars = Array(name.uppercased().unicodeScalars)
    guard !chars.isEmpty else { throw .malformed(name: text) }
    if chars.count >= 4, chars[0] == "R", let cIndex = chars.firstIndex(of: "C"), cIndex > 1,
      let r = WellPosition.number(chars[1..<cIndex]), let c = WellPosition.number(chars[(cIndex + 1)...])
    {
      guard r >= 1, c >= 1 else { throw .malformed(name: text) }
      self.init(row: r - 1, column: c - 1)
      return
    }
    let letters = chars.prefix { $0.properties.isAlphabetic }
    guard let rowIndex = WellPosition.rowIndex(letters: String(String.UnicodeScalarView(letters))),
      let column = WellPosition.number(chars[letters.count...]), column >= 1
    else { throw .malformed(name: text) }
    self.init(row: rowIndex, column: column - 1)
  }

  /// "A01"; rows past Z are written AA, AB, ... as on 1536-well plates.
  public var name: String { WellPosition.rowLetters(row) + (column < 9 ? "0" : "") + String(column + 1) }
  public var description: String { name }

  public static func < (a: WellPosition, b: WellPosition) -> Bool { (a.row, a.column) < (b.row, b.column) }

  /// "A" is 0, "Z" is 25, "AA" is 26, "AF" is 31; nil for anything else.
  public static func rowIndex(letters: String) -> Int? {
    let scalars = Array(letters.uppercased().unicodeScalars)
    guard scalars.allSatisfy({ $0 >= "A" && $0 <= "Z" }) else { return nil }
    switch scalars.count {
    case 1: return Int(scalars[0].value) - 65
    case 2 where scalars[0] == "A": return 26 + Int(scalars[1].value) - 65
    default: return nil
    }
  }

  /// The inverse of `rowIndex(letters:)`.
  public static func rowLetters(_ row: Int) -> String {
    let letter = { (i: Int) in String(UnicodeScalar(UInt8(65 + i))) }
    return row < 26 ? letter(row) : "A" + letter(row - 26)
  }

  private static func number(_ scalars: ArraySlice<Unicode.Scalar>) -> Int? {
    guard !scalars.isEmpty, scalars.count <= 4, scalars.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
    return Int(String(String.UnicodeScalarView(scalars)))
  }
}

/// A well name that could not be read; the message names it and the accepted forms.
public enum WellNameError: Error, Equatable, CustomStringConvertible {
  case malformed(name: String)
  case outsidePlate(name: String, format: PlateFormat)

  public var description: String {
    switch self {
    case .malformed(let name):
      return "well name \"\(name)\" is not a well: use a row letter and column number (A01, a1, AA01) or r01c01"
    case .outsidePlate(let name, let format):
      return "well \"\(name)\" lies outside a \(format) plate (\(format.rows) rows x \(format.columns) columns)"
    }
  }
}
