import ArgumentParser
import ConfoundClient
import JSONRPC

/// `confound call METHOD [--params JSON]`: any request, its result printed as JSON.
struct CallCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "call", abstract: "Send one request to the host and print its result as JSON.")
  @OptionGroup var hostOptions: HostOptions
  @Argument(help: "The method, e.g. plugins/list.") var method: String
  @Option(help: "The params as a JSON object.") var params: String?
  @Flag(help: "Ask for $/progress and show it on stderr.") var progress = false

  func run() throws {
    var value: JSONValue?
    if let params {
      do { value = try JSONParser.parse(Array(params.utf8)) } catch {
        throw ValidationError("--params is not valid JSON: \(error)")
      }
    }
    let result = try withHost(hostOptions) { try $0.request(method: method, params: value ?? .object(JSONObject()), progressTitle: progress ? method : nil) }
    printJSON(result)
  }
}
