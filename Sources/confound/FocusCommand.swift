import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound focus [--json] IMAGE...`: focus measures of plain image files, one line (or JSON object) per image.
struct FocusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "focus", abstract: "Score the focus of image files.")
  @OptionGroup var hostOptions: HostOptions
  @Flag(help: "One JSON object per image.") var json = false
  @Option(help: "A focus plugin id (default: the host's default focus plugin).") var plugin: String?
  @Option(help: "Measures to print in text mode, comma-separated.")
  var show = "ImageQuality_FocusScore,ImageQuality_TenengradNormalized,ImageQuality_PowerLogLogSlopeLowBand"
  @Argument(help: "Image files (TIFF or PNG); a multi-channel site as files joined by ','.") var images: [String]

  func run() throws {
    let sites = images.map { $0.split(separator: ",").map(String.init) }
    let response = try withHost(hostOptions) {
      try $0.request(FocusScoreRequest.self, .init(images: sites, plugin: plugin), progressTitle: "focus")
    }
    var failed = 0
    for site in response.sites {
      let path = site.files.joined(separator: ",")
      if let error = site.error {
        failed += 1
        FileHandle.standardError.write(Data("\(path): error \(error.code.rawValue): \(error.message)\n".utf8))
        continue
      }
      let channels = site.result?["channels"]?.arrayValue ?? []
      if json {
        for channel in channels {
          var object = channel.objectValue ?? JSONObject()
          object["path"] = .string(path)
          printJSON(.object(object))
        }
        continue
      }
      for channel in channels {
        var fields = [path, channel["channel"]?.stringValue ?? ""]
        for key in ["score", "level", "certainty"] { if let v = channel[key] { fields.append("\(key)=\(JSONWriter.string(v))") } }
        for name in show.split(separator: ",").map(String.init) {
          if let v = channel["measures"]?[name]?.doubleValue { fields.append("\(name)=\(String(format: "%.6g", v))") }
        }
        print(fields.joined(separator: "\t"))
      }
    }
    if failed > 0 { throw ExitCode(failed == response.sites.count ? 1 : 3) }
  }
}
