import JSONRPC

/// `screen/simulate`: renders a simulated screen (16-bit TIFFs, LoadData CSV, platemaps, `truth.json`) into `out`,
/// with work-done progress. With the same params the files are byte-identical.
public enum SimulateRequest: RequestType {
  public static let method = "screen/simulate"

  /// Unset members take the simulator's defaults (4 plates, 2 batches, 96 wells, 2 sites, 3 channels, 256x256).
  public struct Params: Codable, Sendable {
    public var out: String
    public var seed: Int?
    public var plates: Int?
    public var batches: Int?
    /// 96 or 384.
    public var wells: Int?
    public var sites: Int?
    /// 1 to 5, taken in order from DNA, ER, RNA, AGP, Mito.
    public var channels: Int?
    public var width: Int?
    public var height: Int?
    /// e.g. "focus-gradient:0.7,density:0.6" or "none".
    public var plant: String?
    /// Cell lines per disease class (default 12).
    public var linesPerClass: Int?
    public init(
      out: String, seed: Int? = nil, plates: Int? = nil, batches: Int? = nil, wells: Int? = nil,
      sites: Int? = nil, channels: Int? = nil, width: Int? = nil, height: Int? = nil, plant: String? = nil,
      linesPerClass: Int? = nil
    ) {
      self.linesPerClass = linesPerClass
      self.out = out
      self.seed = seed
      self.plates = plates
      self.batches = batches
      self.wells = wells
      self.sites = sites
      self.channels = channels
      self.width = width
      self.height = height
      self.plant = plant
    }
  }

  /// The files written and a summary of `truth.json` (which holds every planted parameter per plate and well).
  public struct Response: Codable, Sendable {
    public var out: String
    public var loadData: String
    public var barcodePlatemap: String
    public var truth: String
    public var plates: [String]
    public var batches: [String]
    public var wells: Int
    public var sites: Int
    public var images: Int
    public var channels: [String]
    public var cellLines: [String]
    /// One entry per planted confounder with a strength above 0.
    public var planted: [PlantedConfounder]
    public var seconds: Double
    public init(
      out: String, loadData: String, barcodePlatemap: String, truth: String, plates: [String],
      batches: [String], wells: Int, sites: Int, images: Int, channels: [String], cellLines: [String],
      planted: [PlantedConfounder], seconds: Double
    ) {
      self.out = out
      self.loadData = loadData
      self.barcodePlatemap = barcodePlatemap
      self.truth = truth
      self.plates = plates
      self.batches = batches
      self.wells = wells
      self.sites = sites
      self.images = images
      self.channels = channels
      self.cellLines = cellLines
      self.planted = planted
      self.seconds = seconds
    }
  }

  /// A planted bias: which covariate carries it, how strong, and what it does to the images.
  public struct PlantedConfounder: Codable, Sendable, Hashable {
    public var kind: String
    public var strength: Double
    public var covariate: String
    public var effect: String
    public init(kind: String, strength: Double, covariate: String, effect: String) {
      self.kind = kind
      self.strength = strength
      self.covariate = covariate
      self.effect = effect
    }
  }
}

/// `screen/check`: reads a screen and decodes every image, reporting what was found and every problem (with file and
/// line) without stopping at the first. Problems are part of the result, not an error.
public enum ScreenCheckRequest: RequestType {
  public static let method = "screen/check"

  public struct Params: Codable, Sendable {
    /// A CellProfiler LoadData CSV, or a folder of images.
    public var spec: String
    /// For a folder: a preset name (metaxpress, operetta, imagexpress, cellprofiler-example) or a template string
    /// such as `{plate}_{well}_s{site}_w{channel}.tif`; absent: each file is matched against the presets.
    public var template: String?
    /// A Broad-style platemap (`well_position` + covariate columns) joined to every plate.
    public var platemap: String?
    /// A barcode table (`Assay_Plate_Barcode`, `Plate_Map_Name`) naming one platemap per plate.
    public var barcodePlatemap: String?
    public init(spec: String, template: String? = nil, platemap: String? = nil, barcodePlatemap: String? = nil) {
      self.spec = spec
      self.template = template
      self.platemap = platemap
      self.barcodePlatemap = barcodePlatemap
    }
  }

  public struct Response: Codable, Sendable {
    public var plates: [PlateSummary]
    public var channels: [String]
    public var wells: Int
    public var sites: Int
    public var images: Int
    public var covariates: [Covariate]
    /// Channel -> [width, height] shared by most of its images.
    public var imageSizes: [String: [Int]]
    public var problems: [Problem]
    /// The whole report as plain text, for a terminal.
    public var text: String
    public init(
      plates: [PlateSummary], channels: [String], wells: Int, sites: Int, images: Int,
      covariates: [Covariate], imageSizes: [String: [Int]], problems: [Problem], text: String
    ) {
      self.plates = plates
      self.channels = channels
      self.wells = wells
      self.sites = sites
      self.images = images
      self.covariates = covariates
      self.imageSizes = imageSizes
      self.problems = problems
      self.text = text
    }
  }

  /// One plate's counts; `format` is e.g. "96-well".
  public struct PlateSummary: Codable, Sendable, Hashable {
    public var name: String
    public var batch: String
    public var format: String
    public var wells: Int
    public var sites: Int
    public var images: Int
    public init(name: String, batch: String, format: String, wells: Int, sites: Int, images: Int) {
      self.name = name
      self.batch = batch
      self.format = format
      self.wells = wells
      self.sites = sites
      self.images = images
    }
  }

  /// A covariate column: level is plate, well or site; kind is categorical or numeric.
  public struct Covariate: Codable, Sendable, Hashable {
    public var name: String
    public var level: String
    public var kind: String
    public var values: [String]
    public init(name: String, level: String, kind: String, values: [String]) {
      self.name = name
      self.level = level
      self.kind = kind
      self.values = values
    }
  }

  /// One problem; `kind` is e.g. "missing-file", "unreadable-file", "well-without-platemap-row".
  public struct Problem: Codable, Sendable, Hashable {
    public var kind: String
    public var file: String?
    public var line: Int?
    public var plate: String?
    public var well: String?
    public var message: String
    /// The problem as one line, as the text report prints it.
    public var text: String
    public init(
      kind: String, file: String?, line: Int?, plate: String?, well: String?, message: String,
      text: String
    ) {
      self.kind = kind
      self.file = file
      self.line = line
      self.plate = plate
      self.well = well
      self.message = message
      self.text = text
    }
  }
}

/// `store/export`: writes a run store's profiles as a CellProfiler-style CSV (`Metadata_` columns, then one column
/// per measurement, readable by pycytominer) and the feature columns as a float64 `.npy` matrix beside it.
public enum ExportRequest: RequestType {
  public static let method = "store/export"

  /// One row per site or per well (the median of its sites, as pycytominer aggregates).
  public enum Level: String, Codable, Sendable {
    case site, well
  }

  public struct Params: Codable, Sendable {
    /// A run's `run.sqlite`.
    public var store: String
    /// Output folder (created when missing).
    public var out: String
    public var level: Level?
    public init(store: String, out: String, level: Level? = nil) {
      self.store = store
      self.out = out
      self.level = level
    }
  }

  public struct Response: Codable, Sendable {
    public var csv: String
    /// rows x features, float64, NaN where the CSV cell is empty; column order as in the CSV.
    public var matrix: String
    /// The CSV's `Metadata_` columns, in order.
    public var metadata: [String]
    public var features: [String]
    public var rows: Int
    public init(csv: String, matrix: String, metadata: [String], features: [String], rows: Int) {
      self.csv = csv
      self.matrix = matrix
      self.metadata = metadata
      self.features = features
      self.rows = rows
    }
  }
}
