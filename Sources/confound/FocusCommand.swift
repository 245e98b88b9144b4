import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound focus`: focus of image files (the default), of a whole screen into a run store (`SCREEN --out DIR`),
/// or training the learned defocus model's weights (`focus train`).
struct FocusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "focus", abstract: "Score the focus of image files or a screen; train the defocus model.",
    discussion: """
      confound focus [--json] IMAGE...          one line (or JSON object) per image and channel
      confound focus SCREEN.csv --out DIR       every site of a LoadData screen into DIR/run.sqlite, the spatial \
      finding in DIR/findings.json, plate maps in DIR/plots/
      confound focus train DIR|FILE... --out W.json   weights for the learned score (--model W.json uses them)
      """,
    subcommands: [FocusScoreCommand.self, FocusTrainCommand.self], defaultSubcommand: FocusScoreCommand.self)
}

/// `confound focus [--json] IMAGE...` and `confound focus SCREEN --out DIR`.
struct FocusScoreCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "score", abstract: "Focus measures and the learned score of image files, or of a screen with --out.")
  @OptionGroup var hostOptions: HostOptions
  @Flag(help: "One JSON object per image.") var json = false
  @Option(help: "A focus plugin id (default: the host's default focus plugin).") var plugin: String?
  @Option(help: "A defocus weights file from `confound focus train` (default: the shipped model).") var model: String?
  @Option(help: "Measures to print in text mode, comma-separated.")
  var show = "ImageQuality_FocusScore,ImageQuality_TenengradNormalized,ImageQuality_PowerLogLogSlopeLowBand"
  @Option(help: "Score the screen (one LoadData CSV argument) into this folder: run.sqlite, findings.json, plots/.")
  var out: String?
  @Flag(help: "With --out: continue the run in --out.") var resume = false
  @Argument(help: "Image files (TIFF, PNG; a multi-channel site as files joined by ','), or a LoadData CSV with --out.")
  var images: [String]

  func validate() throws {
    if out != nil && images.count != 1 {
      throw ValidationError("--out scores one screen: pass exactly one LoadData CSV (got \(images.count) arguments)")
    }
  }

  func run() throws {
    let modelPath = model.map { URL(fileURLWithPath: $0).path }
    if let out {
      try screen(images[0], out: out, model: modelPath)
      return
    }
    let sites = images.map { $0.split(separator: ",").map(String.init) }
    let parameters: JSONObject? = modelPath.map { ["model": .string($0)] }
    let response = try withHost(hostOptions) {
      try $0.request(FocusScoreRequest.self, .init(images: sites, plugin: plugin, parameters: parameters),
                     progressTitle: "focus")
    }
    var failed = 0
    for site in response.sites {
      let path = site.files.joined(separator: ",")
      if let error = site.error {
        failed += 1
        FileHandle.standardError.write(Data("\(path): error \(error.code.rawValue): \(error.message)\n".utf8))
        continue
      }
      for channel in site.result?["channels"]?.arrayValue ?? [] {
        if json {
          var object = channel.objectValue ?? JSONObject()
          object["path"] = .string(path)
          printJSON(.object(object))
          continue
        }
        var fields = [path, channel["channel"]?.stringValue ?? ""]
        for key in ["score", "level", "certainty"] {
          if let v = channel[key] { fields.append("\(key)=\(JSONWriter.string(v))") }
        }
        for name in show.split(separator: ",").map(String.init) {
          if let v = channel["measures"]?[name]?.doubleValue { fields.append("\(name)=\(String(format: "%.6g", v))") }
        }
        print(fields.joined(separator: "\t"))
      }
    }
    if failed > 0 { throw ExitCode(failed == response.sites.count ? 1 : 3) }
  }

  /// The audit's focus stage alone (`stages: ["focus", "spatial"]`), through the host: the same resumable per-site units,
  /// spatial finding and plate maps as `confound audit`.
  func screen(_ csv: String, out: String, model: String?) throws {
    let params = AuditRequest.Params(screen: URL(fileURLWithPath: csv).path, out: URL(fileURLWithPath: out).path,
                                     resume: resume, stages: ["focus", "spatial"], focusModel: model)
    let response = try withHost(hostOptions) { try $0.request(AuditRequest.self, params, progressTitle: "focus") }
    if json {
      printJSON(try JSONCodec.encode(response))
      return
    }
    printStagesAndSummary(response)
    print("Every site: \(response.out)/run.sqlite; plate maps: \(response.out)/plots/")
  }
}
