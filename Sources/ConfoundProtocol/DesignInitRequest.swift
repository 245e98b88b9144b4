import JSONRPC

/// `design/init`: reads a screen (as `audit/run` takes it) and writes a design file for the user to edit: the
/// target, unit, pair, controls and batch inferred from the columns it finds, every column listed with a few of
/// its values, and commented alternatives. `audit/run` with `designFile` reads it back.
public enum DesignInitRequest: RequestType {
  public static let method = "design/init"

  public struct Params: Codable, Sendable {
    public var screen: String
    public var template: String?
    public var platemap: String?
    public var barcodePlatemap: String?
    /// Where to write the file; absent: only returned.
    public var out: String?
    public init(screen: String, template: String? = nil, platemap: String? = nil, barcodePlatemap: String? = nil,
                out: String? = nil) {
      self.screen = screen
      self.template = template
      self.platemap = platemap
      self.barcodePlatemap = barcodePlatemap
      self.out = out
    }
  }

  public struct Response: Codable, Sendable {
    /// The design file's text (TOML with comments).
    public var text: String
    /// The file written, if `out` was given.
    public var out: String?
    /// The columns found at well level, sorted.
    public var columns: [String]
    public init(text: String, out: String?, columns: [String]) {
      self.text = text
      self.out = out
      self.columns = columns
    }
  }
}
