import ConfoundImaging
import Foundation

/// Renders a simulated screen to a folder, bit-for-bit reproducible from its config:
///
/// ```
/// DIR/images/<plate>_<well>_s<site>_w<channel>.tif   16-bit greyscale, Deflate (MetaXpress names)
/// DIR/load_data.csv                                  CellProfiler LoadData: FileName_/PathName_/Metadata_
/// DIR/barcode_platemap.csv, DIR/platemap/<plate>.csv Broad-style platemaps with the design covariates
/// DIR/truth.json                                     the design and every planted parameter
/// ```
public struct Simulator: Sendable {
  public let config: SimulationConfig

  public init(_ config: SimulationConfig) throws {
    try config.validate()
    self.config = config
  }

  /// What `render(to:)` wrote, for callers that load it next.
  public struct Output: Sendable {
    public let loadData: URL
    public let barcodePlatemap: URL
    public let truth: SimulationTruth
    public let sites: Int
  }

  /// Renders every site, `threads` wells at a time; the files do not depend on `threads` (each site draws
  /// from its own random stream).
  @discardableResult
  public func render(to dir: URL, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> Output {
    let images = dir.appendingPathComponent("images")
    try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(
      at: dir.appendingPathComponent("platemap"), withIntermediateDirectories: true)
    var truth = SimulationTruth.draw(config)
    let results = WellResults(count: truth.wells.count)
    let drawn = truth
    let chunks = max(1, threads)
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      for w in stride(from: chunk, to: drawn.wells.count, by: chunks) {
        results.set(w, Result { try renderWell(w, truth: drawn, images: images) })
      }
    }
    var loadData = [
      csvLine(
        config.channelNames.flatMap { ["FileName_\($0)", "PathName_\($0)"] }
          + ["Metadata_Plate", "Metadata_Well", "Metadata_Site", "Metadata_Batch"])
    ]
    for w in truth.wells.indices {
      let (rows, counts) = try results.get(w)
      truth.wells[w].cellCounts = counts
      loadData += rows
    }
    try write(loadData, to: dir.appendingPathComponent("load_data.csv"))
    let barcodes = try writePlatemaps(truth, to: dir)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(truth).write(to: dir.appendingPathComponent("truth.json"))
    return Output(
      loadData: dir.appendingPathComponent("load_data.csv"), barcodePlatemap: barcodes, truth: truth,
      sites: truth.wells.count * config.sites)
  }

  /// Writes one well's TIFFs; returns its LoadData lines and the cells drawn per site.
  func renderWell(_ w: Int, truth: SimulationTruth, images: URL) throws -> ([String], [Int]) {
    let wellsPerPlate = truth.wells.count / config.plates
    let well = truth.wells[w]
    let plate = truth.plates[w / wellsPerPlate]
    let renderer = SiteRenderer(config: config, plate: plate, well: well)
    var lines: [String] = []
    var counts: [Int] = []
    for site in 1...config.sites {
      let (planes, cells) = renderer.render(site: site, plateIndex: w / wellsPerPlate, wellIndex: w % wellsPerPlate)
      counts.append(cells)
      var row: [String] = []
      for (c, plane) in planes.enumerated() {
        let name = "\(plate.name)_\(well.well)_s\(site)_w\(c + 1).tif"
        let image = Image(
          channels: 1, height: config.height, width: config.width, pixels: plane, bitsPerSample: 16,
          sampleFormat: .unsignedInteger)
        try writeTIFF(image, to: images.appendingPathComponent(name), as: .uint16, compression: .deflate)
        row += [name, "images"]
      }
      lines.append(csvLine(row + [plate.name, well.well, String(site), plate.batch]))
    }
    return (lines, counts)
  }

  /// One platemap per plate (its layout differs plate to plate) and the barcode table naming them.
  func writePlatemaps(_ truth: SimulationTruth, to dir: URL) throws -> URL {
    let lines = Dictionary(uniqueKeysWithValues: truth.cellLines.map { ($0.name, $0) })
    var barcode = [csvLine(["Assay_Plate_Barcode", "Plate_Map_Name", "Batch_Number"])]
    for plate in truth.plates {
      barcode.append(csvLine([plate.name, plate.name, plate.batch]))
      var map = [
        csvLine(["plate_map_name", "well_position", "cell_line", "donor", "disease", "source_lab", "control"])
      ]
      for well in truth.wells where well.plate == plate.name {
        let line = lines[well.cellLine]!
        map.append(
          csvLine([
            plate.name, well.well, line.name, line.donor, line.disease, line.sourceLab, well.control ? "1" : "0",
          ]))
      }
      try write(map, to: dir.appendingPathComponent("platemap/\(plate.name).csv"))
    }
    let url = dir.appendingPathComponent("barcode_platemap.csv")
    try write(barcode, to: url)
    return url
  }

  private func write(_ lines: [String], to url: URL) throws {
    do { try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url) } catch {
      throw SimulationError("cannot write \(url.path): \(error.localizedDescription)")
    }
  }
}

/// Per-well results filled in by concurrent renderers; each slot is written once, under the lock.
private final class WellResults: @unchecked Sendable {
  private var slots: [Result<([String], [Int]), Error>?]
  private let lock = NSLock()

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  func set(_ index: Int, _ result: Result<([String], [Int]), Error>) {
    lock.lock()
    slots[index] = result
    lock.unlock()
  }

  func get(_ index: Int) throws -> ([String], [Int]) {
    lock.lock()
    defer { lock.unlock() }
    return try slots[index]!.get()
  }
}
