/// A built-in 3 x 5 bitmap font for the PNG text (digits, capital letters, a little punctuation; lower case is
/// drawn as upper case, anything else as `?`). Each glyph is five rows of three bits, top row first, the high bit
/// the left pixel, written as octal digits.
enum PlateMapFont {
  static let glyphs: [Character: String] = [
    "0": "75557", "1": "26227", "2": "71747", "3": "71317", "4": "55711", "5": "74717", "6": "74757", "7": "71111",
    "8": "75757", "9": "75717", "A": "25755", "B": "65656", "C": "34443", "D": "65556", "E": "74647", "F": "74644",
    "G": "34553", "H": "55755", "I": "72227", "J": "11152", "K": "55655", "L": "44447", "M": "57755", "N": "65555",
    "O": "25552", "P": "65644", "Q": "25563", "R": "65655", "S": "34216", "T": "72222", "U": "55557", "V": "55552",
    "W": "55775", "X": "55255", "Y": "55222", "Z": "71247", "-": "00700", ".": "00002", ":": "02020", "_": "00007",
    "/": "11244", "(": "12221", ")": "42224", "%": "51245", "+": "02720", " ": "00000", ",": "00024", "=": "07070",
    "?": "71202", "'": "22000", "#": "57575", "[": "32223", "]": "62226", "<": "12421", ">": "42124",
  ]

  /// The 5 rows of 3 bits of `c`.
  static func rows(_ c: Character) -> [Int] {
    let key = Character(String(c).uppercased())
    let code = glyphs[key] ?? glyphs["?"]!
    return code.map { Int(String($0), radix: 8)! }
  }

  /// Width in pixels of `text` at `scale` (4 cells per glyph: 3 and a gap).
  static func width(_ text: String, scale: Int) -> Int { text.count * 4 * scale }
}
