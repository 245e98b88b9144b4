import ArgumentParser
import ConfoundClient
import Foundation
import JSONRPC

/// Options every subcommand passes on to the host.
struct HostOptions: ParsableArguments {
  @Option(name: .customLong("plugin-dir"), help: "Also load every .so in this folder (repeatable).")
  var pluginDirs: [String] = []

  @Option(help: "The confound-host executable (default: beside confound).")
  var host: String?

  @Option(name: .customLong("max-image-pixels"),
          help: "Refuse images that decode to more samples (width x height x channels, over all pages) than this (default 268435456).")
  var maxImagePixels: Int?

  @Option(name: .customLong("plugin-timeout"),
          help: "Seconds a plugin call may run before its worker is stopped and the call fails naming the plugin (default 600).")
  var pluginTimeout: Double?

  @Option(name: .customLong("plugin-load-timeout"),
          help: "Seconds a plugin may take to load before it is reported as not loaded (default 10).")
  var pluginLoadTimeout: Double?

  @Flag(name: .customLong("verbose"), help: "Show the host's info and debug log lines.")
  var verbose = false

  func validate() throws {
    for (flag, value) in [("--plugin-timeout", pluginTimeout), ("--plugin-load-timeout", pluginLoadTimeout)] {
      if let value, !(value > 0 && value.isFinite) {
        throw ValidationError("\(flag) takes a positive number of seconds, got \(value)")
      }
    }
  }

  /// Starts and initialises a host; Ctrl-C cancels its requests.
  func connect() throws -> HostConnection {
    var arguments: [String] = []
    for dir in pluginDirs { arguments += ["--plugin-dir", dir] }
    if verbose { arguments += ["--log-level", "debug"] }
    if let maxImagePixels { arguments += ["--max-image-pixels", String(maxImagePixels)] }
    if let pluginTimeout { arguments += ["--plugin-timeout", String(pluginTimeout)] }
    if let pluginLoadTimeout { arguments += ["--plugin-load-timeout", String(pluginLoadTimeout)] }
    let connection = try HostConnection(hostPath: host, arguments: arguments)
    connection.verbose = verbose
    connection.cancelOnInterrupt()
    try connection.initialize()
    return connection
  }
}

/// Runs `body` with a connected host, closes it, and turns protocol errors into a message and exit status.
func withHost<T>(_ options: HostOptions, _ body: (HostConnection) throws -> T) throws -> T {
  let connection = try options.connect()
  defer { connection.close() }
  do {
    return try body(connection)
  } catch let error as ResponseError {
    if error.code == .requestCancelled { throw ExitCode(130) }
    var text = "error \(error.code.rawValue): \(error.message)"
    if let data = error.data { text += " \(JSONWriter.string(data))" }
    throw ValidationErrorLike(text)
  }
}

/// An error printed as it is, with exit status 1.
struct ValidationErrorLike: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

func printJSON(_ value: JSONValue) {
  print(JSONWriter.string(value))
}
