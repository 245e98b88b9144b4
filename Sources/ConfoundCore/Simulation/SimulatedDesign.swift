import Foundation

/// The experimental design of a simulated screen and exactly what was planted in it; written as `truth.json`.
///
/// Cell lines come from healthy and disease donors at two source labs, balanced so that disease and lab are
/// independent by design: any association a tool finds between them, or with position, batch or plate, is
/// either planted here (and listed) or noise.
public struct SimulationTruth: Codable, Sendable {
  /// One cell line and its donor's covariates.
  public struct CellLine: Codable, Sendable {
    public let name: String
    public let donor: String
    public let disease: String
    public let sourceLab: String
  }

  /// A planted confounder, its strength and the covariate it rides on.
  public struct Planted: Codable, Sendable {
    public let kind: String
    public let strength: Double
    public let covariate: String
    public let effect: String
  }

  /// What was drawn for one plate.
  public struct PlateTruth: Codable, Sendable {
    public let name: String
    public let batch: String
    /// Intensity gain from plate-shift and batch-shift together.
    public let gain: Double
    /// Camera offset in ADU (batch-shift moves it).
    public let offset: Double
    /// Relative illumination loss at the image corners (batch-shift).
    public let vignetting: Double
  }

  /// One well's design and the planted parameters its sites were rendered with.
  public struct WellTruth: Codable, Sendable {
    public let plate: String
    public let well: String
    public let cellLine: String
    public let control: Bool
    /// Gaussian blur sigma in pixels (optics plus focus-gradient).
    public let blurSigma: Double
    /// Mean cells per site after density and edge effects.
    public let meanCells: Double
    /// Intensity factor of this well (edge effect), on top of the plate gain.
    public let intensity: Double
    /// Nucleus size factor (source-lab).
    public let nucleusScale: Double
    /// Cells drawn at each site, in site order.
    public var cellCounts: [Int]
  }

  public let config: SimulationConfig
  public let cellLines: [CellLine]
  public let planted: [Planted]
  public let plates: [PlateTruth]
  public var wells: [WellTruth]
}

extension SimulationTruth {
  /// `perClass` healthy and `perClass` disease lines, half of each class from each lab (lab-A first), then the
  /// control line in control wells (last).
  static func lines(perClass n: Int) -> [CellLine] {
    (1...(2 * n)).map { i in
      let k = (i - 1) % n
      return CellLine(
        name: String(format: "CL%02d", i), donor: String(format: "D%02d", i), disease: i <= n ? "healthy" : "disease",
        sourceLab: k < (n + 1) / 2 ? "lab-A" : "lab-B")
    } + [CellLine(name: "CTRL", donor: "D00", disease: "healthy", sourceLab: "lab-A")]
  }

  static func plateName(_ index: Int) -> String { String(format: "SIM-P%02d", index + 1) }
  static func batchName(plate index: Int, config: SimulationConfig) -> String {
    "B\(index * config.batches / config.plates + 1)"
  }

  /// Control wells follow a fixed sparse pattern spread over the plate (about 1 in 11), not the edge.
  static func isControl(_ position: WellPosition) -> Bool { (position.row + 2 * position.column) % 11 == 5 }

  /// Draws the design and the planted per-plate and per-well parameters from the config's seed.
  public static func draw(_ config: SimulationConfig) -> SimulationTruth {
    let format = config.wells == 384 ? PlateFormat.wells384 : .wells96
    let s = { (c: Confounder) in config.strength(c) }
    let lines = Self.lines(perClass: config.linesPerClass)
    let sampleLines = lines.count - 1
    var plates: [PlateTruth] = []
    var wells: [WellTruth] = []
    // Plate-shift offsets spread evenly over [-1, 1] and dealt to the plates in a seeded order (a stream of their
    // own, so the other draws do not move): every seed plants plates that differ by the same amount, where a
    // normal draw per plate sometimes gave two plates the same gain and so planted nothing.
    var spread = RandomSource(seed: config.seed, stream: [9])
    var offsets = (0..<config.plates).map { config.plates > 1 ? 2 * Double($0) / Double(config.plates - 1) - 1 : 0 }
    for i in stride(from: offsets.count - 1, to: 0, by: -1) { offsets.swapAt(i, Int(spread.next() % UInt64(i + 1))) }
    for p in 0..<config.plates {
      var rng = RandomSource(seed: config.seed, stream: [1, UInt64(p)])
      let batchIndex = p * config.batches / config.plates
      // Batches spread evenly over [-1, 1], so the first and last differ the most.
      let u = config.batches > 1 ? 2 * Double(batchIndex) / Double(config.batches - 1) - 1 : 0
      _ = rng.normal()  // the draw plate gains once took, kept so that the rest of the stream stays as it was
      let plateGain = exp(0.25 * s(.plateShift) * offsets[p])
      plates.append(
        PlateTruth(
          name: plateName(p), batch: batchName(plate: p, config: config),
          gain: plateGain * (1 + 0.35 * s(.batchShift) * u), offset: 100 + 40 * s(.batchShift) * u,
          vignetting: 0.3 * s(.batchShift) * (u + 1) / 2))
      // Sample lines are dealt in a shuffled, balanced order: each line gets the same number of wells.
      var order = Array(0..<sampleLines)
      for i in stride(from: sampleLines - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
      var dealt = 0
      for position in format.positions {
        let control = isControl(position)
        let line = control ? lines[sampleLines] : lines[order[dealt % sampleLines]]
        if !control { dealt += 1 }
        let edge = format.edgeDistance(position) == 0
        let radial = format.radialDistance(position)
        var cells = config.cellsPerSite
        if line.disease == "disease" { cells *= 1 + 0.8 * s(.density) }
        if edge { cells *= 1 - 0.35 * s(.edgeEffect) }
        wells.append(
          WellTruth(
            plate: plateName(p), well: position.name, cellLine: line.name, control: control,
            blurSigma: 0.7 + 3.5 * s(.focusGradient) * radial * radial, meanCells: cells,
            intensity: edge ? 1 - 0.25 * s(.edgeEffect) : 1,
            nucleusScale: line.sourceLab == "lab-B" ? 1 + 0.3 * s(.sourceLab) : 1, cellCounts: []))
      }
    }
    return SimulationTruth(
      config: config, cellLines: lines, planted: planted(config), plates: plates, wells: wells)
  }

  static func planted(_ config: SimulationConfig) -> [Planted] {
    let effects: [Confounder: (String, String)] = [
      .focusGradient: ("well position", "blur sigma 0.7 + 3.5 s r^2 px, r = distance from plate centre (corners 1)"),
      .batchShift: ("batch", "gain x(1 + 0.35 s u), offset +40 s u ADU, vignetting 0.3 s (u+1)/2, u in [-1, 1]"),
      .density: ("disease", "cells per site x(1 + 0.8 s) for disease lines"),
      .sourceLab: ("source_lab", "nucleus size x(1 + 0.3 s) for lab-B lines"),
      .edgeEffect: ("edge distance", "outer ring: intensity x(1 - 0.25 s), cells x(1 - 0.35 s)"),
      .plateShift: ("plate", "gain x exp(0.25 s z), z spread evenly over [-1, 1] across the plates in a seeded order"),
    ]
    return Confounder.allCases.compactMap { c in
      let strength = config.strength(c)
      guard strength > 0, let (covariate, effect) = effects[c] else { return nil }
      return Planted(kind: c.rawValue, strength: strength, covariate: covariate, effect: effect)
    }
  }
}
