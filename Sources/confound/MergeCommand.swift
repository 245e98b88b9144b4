import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound merge OUT DIR...`: the run stores of an audit's shards (`confound audit --shard K/N`, one folder each)
/// merged exactly into `OUT/run.sqlite` (`store/merge`). Then `confound audit SCREEN --out OUT --resume` runs the
/// whole-screen analyses once on it.
struct MergeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge", abstract: "Merge the run stores of an audit's shards into OUT/run.sqlite.")
  @OptionGroup var hostOptions: HostOptions
  @Argument(help: "The folder that receives the merged run.sqlite (it must not hold one yet).") var out: String
  @Argument(help: "The shards' run folders (or run.sqlite files).") var stores: [String]
  @Flag(help: "Print the store/merge response as JSON.") var json = false

  func validate() throws {
    guard !stores.isEmpty else { throw ValidationError("name at least one shard's run folder after OUT") }
  }

  func run() throws {
    let params = MergeRequest.Params(
      out: URL(fileURLWithPath: out).path, stores: stores.map { URL(fileURLWithPath: $0).path })
    let response = try withHost(hostOptions) { try $0.request(MergeRequest.self, params, progressTitle: "merge") }
    if json {
      printJSON(try JSONCodec.encode(response))
      return
    }
    print("merged \(response.sources) store(s) into \(response.store): \(response.sites) sites, "
      + "\(response.units) units, \(response.measurements) measurements, \(response.objects) object values, \(response.arrays) arrays "
      + "(\(String(format: "%.2f", response.seconds)) s)")
    print("next: confound audit SCREEN --out \(URL(fileURLWithPath: out).path) --resume   (the whole-screen analyses)")
  }
}
