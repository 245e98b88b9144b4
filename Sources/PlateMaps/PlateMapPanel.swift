/// One plate's values for a plate map: per well (named like `A01`, row letter(s) then 1-based column), one value
/// per site in site order; `nil` marks a missing site, an absent well a missing well.
public struct PlateMapPanel: Sendable, Equatable {
  /// Plate identifier shown in the panel title.
  public let plate: String
  /// Batch shown in the panel title, when known.
  public let batch: String?
  /// Rows and columns of the plate: 8 x 12 for 96 wells, 16 x 24 for 384.
  public let rows: Int
  public let columns: Int
  /// Values by canonical well name (`A01` ... `P24`; `a1` is stored as `A01`); one entry per site.
  public let values: [String: [Double?]]

  /// A panel for a plate of `wells` wells (96 or 384; other sizes with `rows:columns:`). Throws when a well name is
  /// not on that plate.
  public init(plate: String, batch: String? = nil, wells: Int = 96, values: [String: [Double?]]) throws {
    let shape: (Int, Int)
    switch wells {
    case 96: shape = (8, 12)
    case 384: shape = (16, 24)
    case 24: shape = (4, 6)
    case 1536: shape = (32, 48)
    default:
      throw PlateMapError("PlateMapPanel: plate '\(plate)' has \(wells) wells; pass 24, 96, 384 or 1536")
    }
    try self.init(plate: plate, batch: batch, rows: shape.0, columns: shape.1, values: values)
  }

  /// A panel with an explicit `rows x columns` layout.
  public init(plate: String, batch: String?, rows: Int, columns: Int, values: [String: [Double?]]) throws {
    guard rows >= 1, columns >= 1, rows <= 52 else {
      throw PlateMapError("PlateMapPanel: plate '\(plate)' has \(rows) x \(columns) wells; need 1-52 rows, >= 1 column")
    }
    var canonical: [String: [Double?]] = [:]
    for (name, sites) in values {
      guard let (r, c) = PlateMapPanel.position(of: name), r < rows, c < columns else {
        throw PlateMapError(
          "PlateMapPanel: well '\(name)' of plate '\(plate)' is not on a \(rows) x \(columns) plate; name wells "
            + "like A01 (row letter, 1-based column)")
      }
      canonical[PlateMapPanel.wellName(row: r, column: c), default: []] += sites
    }
    self.plate = plate
    self.batch = batch
    self.rows = rows
    self.columns = columns
    self.values = canonical
  }

  /// Row letters: A-Z, then AA-AF for 1536-well plates (rows 27 and up).
  public static func rowName(_ row: Int) -> String {
    let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return row < 26 ? String(letters[row]) : "A" + String(letters[row - 26])
  }

  /// The well name of a 0-based row and column, e.g. (0, 0) -> `A01`.
  public static func wellName(row: Int, column: Int) -> String {
    rowName(row) + (column + 1 < 10 ? "0" : "") + String(column + 1)
  }

  /// 0-based (row, column) of a well name such as `A01`, `a1` or `AF48`; nil when it is not one.
  public static func position(of name: String) -> (row: Int, column: Int)? {
    let upper = name.uppercased()
    let letters = upper.prefix { $0.isLetter }
    guard let column = Int(upper.dropFirst(letters.count)), column >= 1 else { return nil }
    let codes = letters.unicodeScalars.map { Int($0.value) - 65 }
    switch codes.count {
    case 1: return (codes[0], column - 1)
    case 2 where codes[0] == 0: return (26 + codes[1], column - 1)
    default: return nil
    }
  }

  /// The largest number of sites in any well (at least 1).
  var sitesPerWell: Int { max(1, values.values.map(\.count).max() ?? 1) }
}

/// A plate map input that cannot be drawn, with what to pass instead.
public struct PlateMapError: Error, CustomStringConvertible, Equatable {
  public let description: String
  init(_ description: String) { self.description = description }
}
