import ArgumentParser
import ConfoundClient
import ConfoundProtocol
import Foundation
import JSONRPC

/// `confound segment [--json] [--masks DIR] IMAGE...`: nuclei in plain image files, one line (or JSON object)
/// per image with the count; label masks as 16- or 32-bit TIFF in DIR, written by the host.
/// `confound segment SCREEN --out DIR`: every site of a screen into DIR/run.sqlite through the audit's segment
/// stage (counts and site features, one object row per nucleus, masks and crops as files it references).
struct SegmentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "segment", abstract: "Segment nuclei in image files or a screen and count them.",
    discussion: """
      confound segment [--json] [--masks DIR] IMAGE...   one line (or JSON object) per image: the nucleus count
      confound segment SCREEN.csv --out DIR              every site of a LoadData screen into DIR/run.sqlite: \
      Count_Nuclei and site features, one object row per nucleus, label masks (TIFF) and crops in \
      DIR/run.sqlite.arrays/, the density finding in DIR/findings.json
      Each IMAGE argument is one site; a multi-channel site is its files joined by ',' (nuclei channel chosen \
      with --nuclei-channel NAME|INDEX).
      """)
  @OptionGroup var hostOptions: HostOptions
  @Flag(help: "One JSON object per image.") var json = false
  @Option(help: "Write each label mask as <image>_labels.tif into this folder.") var masks: String?
  @Option(help: "A segmenter plugin id (default: the host's default segmenter).") var plugin: String?
  @Option(help: "Channel names in file order, comma-separated (default Channel1, Channel2, ...).") var channels: String?
  @Option(help: "The nuclear-stain channel, by name or 0-based index (confound.segmenter's nuclei_channel).")
  var nucleiChannel: String?
  @Option(name: .customLong("param"), help: "A plugin parameter NAME=VALUE (repeatable), e.g. threshold=otsu.")
  var parameters: [String] = []
  @Option(help: "Segment the screen (one LoadData CSV argument) into this folder: run.sqlite, findings.json.")
  var out: String?
  @Flag(help: "With --out: continue the run in --out.") var resume = false
  @Argument(help: "Image files (TIFF or PNG; a site's channel files joined by ','), or one LoadData CSV with --out.")
  var images: [String]

  func validate() throws {
    guard out != nil else { return }
    if images.count != 1 {
      throw ValidationError("--out segments one screen: pass exactly one LoadData CSV (got \(images.count) arguments)")
    }
    if masks != nil || plugin != nil || channels != nil || nucleiChannel != nil || !parameters.isEmpty {
      throw ValidationError("--out runs the audit's segment stage with the default segmenter and the screen's "
        + "channels: drop --masks, --plugin, --channels, --nuclei-channel and --param (masks are kept in the run)")
    }
  }

  func run() throws {
    if let out {
      try screen(images[0], out: out)
      return
    }
    let sites = images.map { $0.split(separator: ",").map(String.init) }
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("confound-segment-\(getpid())")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let maskDir = masks.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    var parsed = try Self.parse(parameters)
    if let nucleiChannel {
      parsed = parsed ?? JSONObject()
      parsed?["nuclei_channel"] = .string(nucleiChannel)
    }
    let params = SegmentImagesRequest.Params(
      images: sites, plugin: plugin, parameters: parsed, channels: channels?.split(separator: ",").map(String.init),
      masks: maskDir, outputDir: scratch.path)
    let response = try withHost(hostOptions) {
      try $0.request(SegmentImagesRequest.self, params, progressTitle: "segment")
    }
    var failed = 0
    for site in response.sites {
      let path = site.files.joined(separator: ",")
      if let error = site.error {
        failed += 1
        FileHandle.standardError.write(Data("\(path): error \(error.code.rawValue): \(error.message)\n".utf8))
        continue
      }
      let result = site.result ?? .null
      if json {
        var object: JSONObject = ["path": .string(path), "count": site.count.map { .int(Int64($0)) } ?? .null]
        for (key, value) in result.objectValue ?? JSONObject() where key != "count" && key != "crop_objects" {
          object[key] = value
        }
        if let mask = site.mask { object["mask"] = .string(mask) }
        printJSON(.object(object))
        continue
      }
      var fields = [path, "\(site.count ?? 0)"]
      if let t = result["threshold"]?.doubleValue { fields.append("threshold=\(String(format: "%.6g", t))") }
      if result["foreground_present"]?.boolValue == false { fields.append("no-foreground") }
      if let mask = site.mask { fields.append("mask=\(mask)") }
      print(fields.joined(separator: "\t"))
    }
    if failed > 0 { throw ExitCode(failed == response.sites.count ? 1 : 3) }
  }

  /// The audit's segment stage alone (`stages: ["segment"]`), through the host: the same resumable per-site
  /// units and density finding as `confound audit`.
  func screen(_ csv: String, out: String) throws {
    let params = AuditRequest.Params(screen: URL(fileURLWithPath: csv).path, out: URL(fileURLWithPath: out).path,
                                     resume: resume, stages: ["segment", "density"])
    let response = try withHost(hostOptions) { try $0.request(AuditRequest.self, params, progressTitle: "segment") }
    guard response.stages.contains(where: { $0.name == "segment" }) else {
      FileHandle.standardError.write(Data(("error: the host has no segmenter plugin loaded, so nothing was segmented: "
        + "check `confound plugins` (and --plugin-dir)\n").utf8))
      throw ExitCode(1)
    }
    if json {
      printJSON(try JSONCodec.encode(response))
      return
    }
    printStagesAndSummary(response)
    print("Every site and nucleus: \(response.out)/run.sqlite; masks and crops: \(response.out)/run.sqlite.arrays/")
  }

  /// `NAME=VALUE` pairs; a value that reads as JSON (number, true/false) is passed as such, else as a string.
  static func parse(_ pairs: [String]) throws -> JSONObject? {
    guard !pairs.isEmpty else { return nil }
    var object = JSONObject()
    for pair in pairs {
      guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
        throw ValidationError("--param takes NAME=VALUE, got \"\(pair)\"")
      }
      let name = String(pair[..<equals]), text = String(pair[pair.index(after: equals)...])
      if let int = Int64(text) {
        object[name] = .int(int)
      } else if let number = Double(text) {
        object[name] = .double(number)
      } else if text == "true" || text == "false" {
        object[name] = .bool(text == "true")
      } else {
        object[name] = .string(text)
      }
    }
    return object
  }
}
