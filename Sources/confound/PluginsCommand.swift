import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound plugins [--json]` and `confound plugins check FILE.so`.
struct PluginsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plugins", abstract: "List the plugins the host loads, or check a plugin .so.",
    subcommands: [List.self, Check.self], defaultSubcommand: List.self)

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List loaded plugins and load failures.")
    @OptionGroup var hostOptions: HostOptions
    @Flag(help: "Print the plugins/list response as JSON.") var json = false

    func run() throws {
      let response = try withHost(hostOptions) { try $0.request(PluginsListRequest.self, Empty()) }
      if json {
        printJSON(try JSONCodec.encode(response))
        return
      }
      for info in response.plugins {
        let m = info.manifest
        print("\(m.id)  \(m.kind.rawValue)\(info.isDefault ? " (default)" : "")  v\(m.version)  ABI \(m.abiVersion)  \(info.path)")
        for p in m.parameters { print("    --\(p.name) \(p.type.rawValue) = \(JSONWriter.string(p.defaultValue))  \(p.description)") }
      }
      for error in response.errors { print("not loaded: \(error.path): \(error.reason)") }
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check", abstract: "Load a plugin .so in the host and run its kind's conformance suite.")
    @OptionGroup var hostOptions: HostOptions
    @Argument(help: "The plugin .so file.") var file: String

    func run() throws {
      let report = try withHost(hostOptions) { try Conformance.check(plugin: file, host: $0) }
      for item in report.checks { print("\(item.passed ? "ok  " : "FAIL") \(item.name)\(item.detail.isEmpty ? "" : ": \(item.detail)")") }
      print("\(report.checks.filter(\.passed).count) passed, \(report.checks.filter { !$0.passed }.count) failed")
      if !report.passed { throw ExitCode.failure }
    }
  }
}
