/// Text a peer sent, shortened for quoting in an error or a log line: a message must never grow with what the
/// peer chose to send (a 32 MiB method name must not come back as a 64 MiB error).
public enum Truncated {
  /// How many characters of a peer's text an error quotes.
  public static let limit = 64

  /// `text` itself when short, else its first `limit` characters, "...", and its full size in bytes.
  public static func quote(_ text: String, limit: Int = Truncated.limit) -> String {
    guard text.utf8.count > limit else { return text }
    return "\(text.prefix(limit))... (\(text.utf8.count) bytes)"
  }

  /// The same for raw bytes, decoded leniently as UTF-8.
  public static func quote(_ bytes: some Collection<UInt8>, limit: Int = Truncated.limit) -> String {
    guard bytes.count > limit else { return String(decoding: Array(bytes), as: UTF8.self) }
    return "\(String(decoding: Array(bytes.prefix(limit)), as: UTF8.self))... (\(bytes.count) bytes)"
  }
}
