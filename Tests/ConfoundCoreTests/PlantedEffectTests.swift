import ConfoundImaging
import TestSupport
import XCTest

@testable import ConfoundCore

/// Planted confounders must be measurable in the rendered images, and absent from a clean screen of the same seed.
///
/// Each test measures one image statistic per site and compares two groups of sites with Welch's t. Planted:
/// |t| > 5; clean: |t| < 3 (two-sided p about 0.003 under no effect). The seed is fixed, so the outcome is too.
final class PlantedEffectTests: XCTestCase {
  /// Per-site measurements with the site's design, read back from the TIFFs through ConfoundImaging.
  struct SiteStats {
    let batch: String
    let disease: String
    let lab: String
    let edge: Int
    let meanIntensity: Double
    let gradientEnergy: Double
    let nuclei: Int
    let meanNucleusArea: Double
  }

  nonisolated(unsafe) static var cache: [Bool: [SiteStats]] = [:]

  static func stats(planted: Bool) throws -> [SiteStats] {
    if let cached = cache[planted] { return cached }
    var config = SimulationConfig()
    config.seed = 2024
    config.plates = 2
    config.sites = 1
    config.channels = 1
    config.width = 128
    config.height = 128
    config.cellsPerSite = 9
    config.nucleusRadius = 6
    config.plant = planted ? ["focus-gradient": 1, "density": 1, "batch-shift": 1, "source-lab": 1] : [:]
    // Only the statistics are cached; the images go when `dir` does.
    let dir = try TemporaryDirectory(prefix: "confound-planted")
    let output = try Simulator(config).render(to: dir.url)
    var (screen, _) = try LoadDataReader.read(output.loadData)
    _ = screen.join(try BarcodePlatemap(contentsOf: output.barcodePlatemap))
    var result: [SiteStats] = []
    let batchOf = Dictionary(uniqueKeysWithValues: screen.batches.flatMap { b in b.plates.map { ($0.name, b.name) } })
    for (plate, well, site) in screen.sites {
      let image = try readImage(URL(fileURLWithPath: site.images["DNA"]!.path))
      let pixels = image.pixels.map(Double.init)
      let (count, area) = nuclei(pixels, width: image.width, height: image.height)
      result.append(
        SiteStats(
          batch: batchOf[plate.name]!, disease: well.covariates["disease"]!, lab: well.covariates["source_lab"]!,
          edge: plate.format.edgeDistance(well.position), meanIntensity: pixels.reduce(0, +) / Double(pixels.count),
          gradientEnergy: gradientEnergy(pixels, width: image.width), nuclei: count, meanNucleusArea: area))
    }
    cache[planted] = result
    return result
  }

  /// Mean squared forward difference over the image variance: lower when blurred, independent of gain.
  static func gradientEnergy(_ p: [Double], width: Int) -> Double {
    let height = p.count / width
    var sum = 0.0
    for y in 0..<height - 1 {
      for x in 0..<width - 1 {
        let gx = p[y * width + x + 1] - p[y * width + x]
        let gy = p[(y + 1) * width + x] - p[y * width + x]
        sum += gx * gx + gy * gy
      }
    }
    let mean = p.reduce(0, +) / Double(p.count)
    let variance = p.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(p.count)
    return sum / Double((width - 1) * (height - 1)) / variance
  }

  /// Connected components (4-neighbour) above half-way from the median to the 99.5th percentile, at least 12 px.
  static func nuclei(_ p: [Double], width: Int, height: Int) -> (count: Int, meanArea: Double) {
    let sorted = p.sorted()
    let background = sorted[sorted.count / 2]
    let threshold = background + 0.5 * (sorted[sorted.count * 995 / 1000] - background)
    var seen = [Bool](repeating: false, count: p.count)
    var areas: [Int] = []
    for start in p.indices where p[start] > threshold && !seen[start] {
      var stack = [start]
      seen[start] = true
      var area = 0
      while let i = stack.popLast() {
        area += 1
        let (x, y) = (i % width, i / width)
        for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
        where nx >= 0 && ny >= 0 && nx < width && ny < height {
          let j = ny * width + nx
          if !seen[j] && p[j] > threshold {
            seen[j] = true
            stack.append(j)
          }
        }
      }
      if area >= 12 { areas.append(area) }
    }
    return (areas.count, areas.isEmpty ? .nan : Double(areas.reduce(0, +)) / Double(areas.count))
  }

  static func welchT(_ a: [Double], _ b: [Double]) -> Double {
    func moments(_ x: [Double]) -> (Double, Double) {
      let m = x.reduce(0, +) / Double(x.count)
      return (m, x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1))
    }
    let (ma, va) = moments(a)
    let (mb, vb) = moments(b)
    return (ma - mb) / (va / Double(a.count) + vb / Double(b.count)).squareRoot()
  }

  func t(planted: Bool, _ value: (SiteStats) -> Double, _ groupA: (SiteStats) -> Bool, _ groupB: (SiteStats) -> Bool)
    throws -> Double
  {
    let stats = try Self.stats(planted: planted).filter { !value($0).isNaN }
    return Self.welchT(stats.filter(groupA).map(value), stats.filter(groupB).map(value))
  }

  func testFocusGradientBlursEdgeWells() throws {
    let edge = { (s: SiteStats) in s.edge == 0 }
    let centre = { (s: SiteStats) in s.edge >= 2 }
    let planted = try t(planted: true, \.gradientEnergy, centre, edge)
    let clean = try t(planted: false, \.gradientEnergy, centre, edge)
    XCTAssertGreaterThan(planted, 5, "centre wells must be sharper than edge wells")
    XCTAssertLessThan(abs(clean), 3)
  }

  func testDensityRaisesNucleusCountsOfDiseaseLines() throws {
    let value = { (s: SiteStats) in Double(s.nuclei) }
    let planted = try t(planted: true, value, { $0.disease == "disease" }, { $0.disease == "healthy" })
    let clean = try t(planted: false, value, { $0.disease == "disease" }, { $0.disease == "healthy" })
    XCTAssertGreaterThan(planted, 5)
    XCTAssertLessThan(abs(clean), 3)
  }

  func testBatchShiftChangesMeanIntensityBetweenBatches() throws {
    let planted = try t(planted: true, \.meanIntensity, { $0.batch == "B2" }, { $0.batch == "B1" })
    let clean = try t(planted: false, \.meanIntensity, { $0.batch == "B2" }, { $0.batch == "B1" })
    XCTAssertGreaterThan(planted, 5)
    XCTAssertLessThan(abs(clean), 3)
  }

  func testSourceLabEnlargesNucleiOfLabB() throws {
    let planted = try t(planted: true, \.meanNucleusArea, { $0.lab == "lab-B" }, { $0.lab == "lab-A" })
    let clean = try t(planted: false, \.meanNucleusArea, { $0.lab == "lab-B" }, { $0.lab == "lab-A" })
    XCTAssertGreaterThan(planted, 5)
    XCTAssertLessThan(abs(clean), 3)
  }
}
