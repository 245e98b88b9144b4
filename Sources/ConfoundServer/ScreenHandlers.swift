import ConfoundCore
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC

extension HostHandlers {
  /// `screen/simulate`, `screen/check` and `store/export`: thin wrappers over ConfoundCore.
  static func registerScreen(on server: HostServer) {
    server.on(SimulateRequest.self) { params, context in try simulate(params, context: context) }
    server.on(ScreenCheckRequest.self) { params, context in
      context.beginProgress("screen check")
      let check = try checkScreen(params, isCancelled: { context.token.isCancelled })
      return ScreenCheckRequest.Response(check)
    }
    server.on(ExportRequest.self) { params, _ in try export(params) }
  }

  static func simulate(_ params: SimulateRequest.Params, context: RequestContext) throws -> SimulateRequest.Response {
    var config = SimulationConfig()
    if let seed = params.seed {
      guard seed >= 0 else {
        throw ResponseError(.invalidParams, "seed must be >= 0, got \(seed)", data: ["field": "seed"])
      }
      config.seed = UInt64(seed)
    }
    config.plates = params.plates ?? config.plates
    config.batches = params.batches ?? min(config.batches, config.plates)
    config.wells = params.wells ?? config.wells
    config.sites = params.sites ?? config.sites
    config.channels = params.channels ?? config.channels
    config.width = params.width ?? config.width
    config.height = params.height ?? config.height
    config.linesPerClass = params.linesPerClass ?? config.linesPerClass
    do {
      if let plant = params.plant { config.plant = try SimulationConfig.parsePlantList(plant) }
      try config.validate()
    } catch let error as SimulationError {
      throw ResponseError(.invalidParams, "screen/simulate: \(error.description)")
    }
    let out = URL(fileURLWithPath: params.out).standardizedFileURL
    let expected = config.plates * config.wells * config.sites * config.channels
    context.beginProgress("simulate \(expected) images")
    let started = Date()
    let output: Simulator.Output
    do {
      output = try withFileCountProgress(in: out.appendingPathComponent("images"), expected: expected, context: context)
      {
        try Simulator(config).render(to: out)
      }
    } catch let error as SimulationError {
      throw ResponseError(.badInputFile, "screen/simulate: \(error.description)", data: ["file": .string(out.path)])
    }
    let truth = output.truth
    var batches: [String] = []
    for plate in truth.plates where !batches.contains(plate.batch) { batches.append(plate.batch) }
    return SimulateRequest.Response(
      out: out.path, loadData: output.loadData.path, barcodePlatemap: output.barcodePlatemap.path,
      truth: out.appendingPathComponent("truth.json").path, plates: truth.plates.map(\.name), batches: batches,
      wells: truth.wells.count, sites: output.sites, images: output.sites * config.channels,
      channels: config.channelNames, cellLines: truth.cellLines.map(\.name),
      planted: truth.planted.map {
        .init(kind: $0.kind, strength: $0.strength, covariate: $0.covariate, effect: $0.effect)
      },
      seconds: Date().timeIntervalSince(started))
  }

  /// Runs `body` while a timer reports the number of files in `folder` against `expected` as progress. The
  /// simulator writes one file per image, so the count is an honest measure of work done.
  static func withFileCountProgress<T>(
    in folder: URL, expected: Int, context: RequestContext,
    _ body: () throws -> T
  ) rethrows -> T {
    let timer = DispatchSource.makeTimerSource(queue: .global())
    timer.schedule(deadline: .now() + 0.5, repeating: 0.5)
    timer.setEventHandler {
      let count = (try? FileManager.default.contentsOfDirectory(atPath: folder.path).count) ?? 0
      context.reportProgress(Double(count) / Double(max(expected, 1)), "\(count)/\(expected) images")
    }
    timer.resume()
    defer { timer.cancel() }
    return try body()
  }

  /// Reads `params.spec` (LoadData CSV or folder), joins the platemaps and checks every image.
  /// `isCancelled` is polled while a LoadData CSV is read (a cancel there is -32800).
  static func checkScreen(_ params: ScreenCheckRequest.Params, isCancelled: () -> Bool = { false }) throws -> ScreenCheck {
    let spec = URL(fileURLWithPath: params.spec).standardizedFileURL
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: spec.path, isDirectory: &isFolder) else {
      throw ResponseError(
        .badInputFile, "\(spec.path) does not exist: give a LoadData CSV or a folder of images",
        data: ["field": "spec", "file": .string(spec.path)])
    }
    do {
      var (screen, problems): (Screen, [ScreenProblem])
      if isFolder.boolValue {
        (screen, problems) = try DirectoryReader.read(spec, template: try params.template.map(template(named:)))
      } else {
        guard params.template == nil else {
          throw ResponseError(
            .invalidParams, "template applies to a folder of images, not to the LoadData CSV \(spec.path)",
            data: ["field": "template"])
        }
        (screen, problems) = try LoadDataReader.read(spec, isCancelled: isCancelled)
      }
      if let platemap = params.platemap {
        problems += screen.join(try Platemap(contentsOf: URL(fileURLWithPath: platemap)))
      }
      if let barcodes = params.barcodePlatemap {
        problems += screen.join(try BarcodePlatemap(contentsOf: URL(fileURLWithPath: barcodes)))
      }
      return ScreenCheck(screen: screen, problems: problems)
    } catch let error as ResponseError {
      throw error
    } catch let error as TemplateError {
      throw ResponseError(.invalidParams, error.description, data: ["field": "template"])
    } catch let error as CSVError {
      throw ResponseError(.badInputFile, error.description, data: ["file": .string(error.file)])
    } catch let error as ReadCancelled {
      throw ResponseError(.requestCancelled, "\(error)")
    }
  }

  /// A preset by name, or a template string when no preset has that name.
  static func template(named text: String) throws -> FileNameTemplate {
    if let preset = FileNameTemplate.presets.first(where: { $0.name == text }) { return preset }
    guard text.contains("{") else {
      let names = FileNameTemplate.presets.map(\.name).joined(separator: ", ")
      throw ResponseError(
        .invalidParams, "template \"\(text)\" is neither a preset (\(names)) nor a template with {fields}",
        data: ["field": "template"])
    }
    return try FileNameTemplate(text)
  }

  /// Writes `profiles_<level>.csv` with RunStore's exporter, then its feature columns as `profiles_<level>.npy`.
  static func export(_ params: ExportRequest.Params) throws -> ExportRequest.Response {
    var storeURL = URL(fileURLWithPath: params.store).standardizedFileURL
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: storeURL.path, isDirectory: &isFolder), isFolder.boolValue {
      storeURL.appendPathComponent("run.sqlite")
    }
    guard FileManager.default.fileExists(atPath: storeURL.path) else {
      throw ResponseError(
        .badInputFile, "\(storeURL.path) does not exist: give a run's run.sqlite (or its folder)",
        data: ["field": "store", "file": .string(storeURL.path)])
    }
    let out = URL(fileURLWithPath: params.out).standardizedFileURL
    let level = params.level ?? .site
    let csv = out.appendingPathComponent("profiles_\(level.rawValue).csv")
    let npy = out.appendingPathComponent("profiles_\(level.rawValue).npy")
    do {
      try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
      let store = try RunStore(url: storeURL)
      switch level {
      case .site: try store.exportSiteProfiles(to: csv)
      case .well: try store.exportWellProfiles(to: csv)
      }
      let table = try CSVTable(contentsOf: csv)
      let (metadata, features, matrix) = featureMatrix(table)
      try matrix.write(to: npy)
      return .init(csv: csv.path, matrix: npy.path, metadata: metadata, features: features, rows: table.rows.count)
    } catch let error as ResponseError {
      throw error
    } catch {
      throw ResponseError(
        .badInputFile, "store/export of \(storeURL.path): \(error)", data: ["file": .string(storeURL.path)])
    }
  }

  /// Splits a profile table into its `Metadata_` columns and a rows x features float64 matrix (empty or
  /// non-numeric cells become NaN, as pandas reads them).
  static func featureMatrix(_ table: CSVTable) -> (metadata: [String], features: [String], matrix: NPYArray) {
    let featureColumns = table.columns.indices.filter { !table.columns[$0].hasPrefix("Metadata_") }
    var values = [Double]()
    values.reserveCapacity(table.rows.count * featureColumns.count)
    for row in table.rows {
      for c in featureColumns { values.append(c < row.count ? Double(row[c]) ?? .nan : .nan) }
    }
    return (
      table.columns.filter { $0.hasPrefix("Metadata_") }, featureColumns.map { table.columns[$0] },
      NPYArray(shape: [table.rows.count, featureColumns.count], values: values)
    )
  }
}

extension ScreenCheckRequest.Response {
  /// The wire form of a ConfoundCore check report.
  init(_ check: ScreenCheck) {
    self.init(
      plates: check.plates.map {
        .init(name: $0.name, batch: $0.batch, format: $0.format, wells: $0.wells, sites: $0.sites, images: $0.images)
      },
      channels: check.channels, wells: check.wellCount, sites: check.siteCount, images: check.imageCount,
      covariates: check.covariates.map {
        .init(name: $0.name, level: $0.level.rawValue, kind: $0.kind.rawValue, values: $0.values)
      },
      imageSizes: check.imageSizes,
      problems: check.problems.map {
        .init(
          kind: $0.kind.rawValue, file: $0.location?.file, line: $0.location?.line, plate: $0.plate,
          well: $0.well, message: $0.message, text: $0.description)
      },
      text: check.text)
  }
}
