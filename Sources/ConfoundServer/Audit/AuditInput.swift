import ConfoundCore
import ConfoundProtocol
import Foundation
import JSONRPC

/// One site of a screen, as the audit's per-site stages walk them.
typealias ScreenSite = (plate: Plate, well: Well, site: Site)

/// The screen an audit reads, whatever the lab handed in: a LoadData CSV, a folder of images (with a template, or
/// one written by `screen/simulate`), a profiles table with no pixels, or nothing (a screen is simulated).
struct AuditInput {
  var screen: Screen
  /// `simulated`, `loaddata`, `folder`, or the profiles table's format (`pycytominer`, `cellprofiler-image-csv`...).
  var kind: String
  /// The files that describe the screen (hashed into the store with the images).
  var files: [URL]
  /// The feature table, when the input has no pixels.
  var profiles: ProfileTable?

  static func load(_ params: AuditRequest.Params, out: URL, context: RequestContext,
                   simulated: inout AuditRequest.StageSummary?) throws -> AuditInput {
    var path = params.screen.map { URL(fileURLWithPath: $0).standardizedFileURL }
    var kind = ""
    if path == nil {
      let dir = out.appendingPathComponent("screen")
      if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("load_data.csv").path) {
        context.log(.info, "simulating a screen into \(dir.path)")
        let started = Date()
        let output = try Simulator(try simulationConfig(params)).render(to: dir)
        simulated = .init(name: "simulate", computed: output.sites, resumed: 0, failed: 0, failures: [],
                          seconds: Date().timeIntervalSince(started))
      }
      path = dir
      kind = "simulated"
    }
    let source = path!
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isFolder) else {
      throw ResponseError(.badInputFile, "\(source.path) does not exist: give a LoadData CSV, a folder of images, or a profiles table",
                          data: ["field": "screen", "file": .string(source.path)])
    }
    guard params.template == nil || isFolder.boolValue else {
      throw ResponseError(.invalidParams, "template applies to a folder of images, not to the file \(source.path)",
                          data: ["field": "template"])
    }
    do {
      let template = try params.template.map(HostHandlers.template(named:))
      let loaded = try ScreenSource.load(
        source, template: template, platemap: params.platemap.map { URL(fileURLWithPath: $0) },
        barcodePlatemap: params.barcodePlatemap.map { URL(fileURLWithPath: $0) }, isCancelled: context.isCancelled)
      for problem in loaded.problems.prefix(20) { context.log(.warning, "\(problem)") }
      if loaded.problems.count > 20 { context.log(.warning, "... and \(loaded.problems.count - 20) more problems: see confound screen --check") }
      if kind.isEmpty {
        kind = loaded.profiles?.format ?? (isFolder.boolValue ? "folder" : "loaddata")
      }
      guard loaded.screen.siteCount > 0 else {
        throw ResponseError(.badInputFile, "\(source.path) holds no sites: "
                              + (isFolder.boolValue ? "give --template (or a preset) that matches its file names" : "check its FileName_/PathName_/Metadata_ columns"),
                            data: ["file": .string(source.path)])
      }
      return AuditInput(screen: loaded.screen, kind: kind, files: loaded.inputs, profiles: loaded.profiles)
    } catch let error as ResponseError {
      throw error
    } catch is ReadCancelled {
      throw ResponseError(.requestCancelled, "audit cancelled while reading \(source.path)")
    } catch let error as TemplateError {
      throw ResponseError(.invalidParams, error.description, data: ["field": "template"])
    } catch let error as CSVError {
      throw ResponseError(.badInputFile, error.description, data: ["file": .string(error.file)])
    } catch {
      throw ResponseError(.badInputFile, "\(source.path): \(error)", data: ["file": .string(source.path)])
    }
  }

  /// The sites the per-site stages do: those of `plates`, or of shard K of N (plates sorted by name, dealt in
  /// turn), or every site.
  func sitesToProcess(_ params: AuditRequest.Params) throws -> [ScreenSite] {
    let names = screen.plates.map(\.name)
    var chosen = Set(names)
    if let plates = params.plates {
      let unknown = plates.filter { !names.contains($0) }
      guard unknown.isEmpty else {
        throw ResponseError(.invalidParams, "plates: \(unknown.joined(separator: ", ")) not in the screen, whose plates are \(names.sorted().joined(separator: ", "))",
                            data: ["field": "plates"])
      }
      chosen = Set(plates)
    }
    if let shard = params.shard {
      let (k, n) = try Self.parseShard(shard)
      let sorted = names.sorted()
      chosen.formIntersection(sorted.indices.filter { $0 % n == k - 1 }.map { sorted[$0] })
    }
    return screen.sites.filter { chosen.contains($0.plate.name) }
  }

  /// "K/N" with 1 <= K <= N.
  static func parseShard(_ text: String) throws -> (Int, Int) {
    let parts = text.split(separator: "/").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count == 2, let k = parts[0], let n = parts[1], n >= 1, (1...n).contains(k) else {
      throw ResponseError(.invalidParams, "shard must be K/N with 1 <= K <= N (e.g. 2/8), got \"\(text)\"", data: ["field": "shard"])
    }
    return (k, n)
  }

  static func simulationConfig(_ params: AuditRequest.Params) throws -> SimulationConfig {
    let o = params.simulate ?? AuditRequest.SimulateOptions()
    var config = SimulationConfig()
    config.seed = UInt64(o.seed ?? 1)
    config.plates = o.plates ?? 2
    config.batches = o.batches ?? min(2, config.plates)
    config.wells = o.wells ?? 96
    config.sites = o.sites ?? 2
    config.channels = o.channels ?? 3
    config.width = o.size ?? 256
    config.height = o.size ?? 256
    config.linesPerClass = o.linesPerClass ?? config.linesPerClass
    do {
      config.plant = try SimulationConfig.parsePlantList(o.plant ?? "focus-gradient:0.7,density:0.6")
      try config.validate()
    } catch {
      throw ResponseError(.invalidParams, "\(error)", data: ["field": "simulate"])
    }
    return config
  }
}
