import CTIFF
import Foundation

/// Collects libtiff's messages for one open file, so they end up in the thrown `ImageError` instead of stderr.
///
/// libtiff's default handlers are process-global and print; each `TIFFSession` installs its own handlers through
/// `TIFFOpenOptions`, with this object as user data, so concurrent files never see each other's messages.
final class TIFFMessages {
  var errors: [String] = []
  var warnings: [String] = []
}

/// Formats a libtiff message (printf format plus va_list) into a Swift string.
private func formatMessage(_ module: UnsafePointer<CChar>?, _ format: UnsafePointer<CChar>?, _ args: CVaListPointer?)
  -> String
{
  var buffer = [CChar](repeating: 0, count: 512)
  if let format, let args { _ = vsnprintf(&buffer, buffer.count, format, args) }
  let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  guard let module else { return text }
  return "\(String(cString: module)): \(text)"
}

/// Returning 1 tells libtiff the message was handled, so the global (printing) handlers are not called.
private let collectError: TIFFErrorHandlerExtR = { _, userData, module, format, args in
  guard let userData else { return 1 }
  let sink = Unmanaged<TIFFMessages>.fromOpaque(userData).takeUnretainedValue()
  sink.errors.append(formatMessage(module, format, args))
  return 1
}

private let collectWarning: TIFFErrorHandlerExtR = { _, userData, module, format, args in
  guard let userData else { return 1 }
  let sink = Unmanaged<TIFFMessages>.fromOpaque(userData).takeUnretainedValue()
  sink.warnings.append(formatMessage(module, format, args))
  return 1
}

/// One open TIFF file (`TIFF *`) with its own message handlers. Not shareable across threads; open one per task.
final class TIFFSession {
  let handle: OpaquePointer
  let path: String
  private let messages: TIFFMessages

  /// Opens `path` with `mode` ("r" or "w"); throws `ImageError` naming the file when libtiff refuses.
  init(path: String, mode: String) throws {
    let messages = TIFFMessages()
    guard let options = TIFFOpenOptionsAlloc() else {
      throw ImageError(.corrupt, path: path, detail: "libtiff could not allocate open options")
    }
    defer { TIFFOpenOptionsFree(options) }
    let user = Unmanaged.passUnretained(messages).toOpaque()
    TIFFOpenOptionsSetErrorHandlerExtR(options, collectError, user)
    TIFFOpenOptionsSetWarningHandlerExtR(options, collectWarning, user)
    guard let handle = TIFFOpenExt(path, mode, options) else {
      let detail = messages.errors.last ?? "libtiff could not open it"
      if mode == "r" { throw ImageError(.corrupt, path: path, detail: detail) }
      throw ImageError(.writeFailed, path: path, detail: detail)
    }
    self.handle = handle
    self.path = path
    self.messages = messages
  }

  deinit {
    // Closing flushes on write; its messages still go to `messages`, which outlives the handle.
    withExtendedLifetime(messages) { TIFFClose(handle) }
  }

  /// The most recent libtiff error, or `fallback` when libtiff said nothing.
  func lastError(or fallback: String) -> String { messages.errors.last ?? fallback }

  /// An `ImageError` of `kind` carrying libtiff's latest message.
  func failure(_ kind: ImageError.Kind, _ fallback: String) -> ImageError {
    ImageError(kind, path: path, detail: lastError(or: fallback))
  }

  /// Reads a 16-bit tag, with libtiff's default when the tag is absent; nil when it has no default.
  func uint16Field(_ tag: Int32) -> UInt16? {
    var value: UInt16 = 0
    let found = withUnsafeMutablePointer(to: &value) { pointer in
      withVaList([pointer]) { TIFFVGetFieldDefaulted(handle, UInt32(tag), $0) }
    }
    return found == 1 ? value : nil
  }

  /// Reads a 32-bit tag, with libtiff's default when the tag is absent; nil when it has no default.
  func uint32Field(_ tag: Int32) -> UInt32? {
    var value: UInt32 = 0
    let found = withUnsafeMutablePointer(to: &value) { pointer in
      withVaList([pointer]) { TIFFVGetFieldDefaulted(handle, UInt32(tag), $0) }
    }
    return found == 1 ? value : nil
  }

  /// The colormap (red, green, blue arrays of 2^bitsPerSample entries each), or nil when the tag is absent.
  func colormap(bitsPerSample: Int) -> [[UInt16]]? {
    var red: UnsafePointer<UInt16>?
    var green: UnsafePointer<UInt16>?
    var blue: UnsafePointer<UInt16>?
    let found = withUnsafeMutablePointer(to: &red) { r in
      withUnsafeMutablePointer(to: &green) { g in
        withUnsafeMutablePointer(to: &blue) { b in
          withVaList([r, g, b]) { TIFFVGetField(handle, UInt32(TIFFTAG_COLORMAP), $0) }
        }
      }
    }
    guard found == 1, let red, let green, let blue else { return nil }
    let count = 1 << bitsPerSample
    return [red, green, blue].map { Array(UnsafeBufferPointer(start: $0, count: count)) }
  }

  /// Sets a tag whose C type is uint16 or uint32 (both travel as int through C varargs).
  func setField(_ tag: Int32, _ value: Int) throws {
    let ok = withVaList([Int32(truncatingIfNeeded: value)]) { TIFFVSetField(handle, UInt32(tag), $0) }
    if ok != 1 { throw failure(.writeFailed, "libtiff refused tag \(tag) = \(value)") }
  }
}
