import ConfoundImaging
import TestSupport
import XCTest

@testable import ConfoundCore

final class SimulatorTests: XCTestCase {
  func tiny(seed: UInt64) -> SimulationConfig {
    var config = SimulationConfig()
    config.seed = seed
    config.plates = 2
    config.batches = 2
    config.sites = 1
    config.channels = 2
    config.width = 64
    config.height = 48
    config.cellsPerSite = 2
    config.nucleusRadius = 5
    config.plant = ["focus-gradient": 0.5, "plate-shift": 1]
    return config
  }

  func files(_ dir: URL) throws -> [String: Data] {
    var result: [String: Data] = [:]
    let root = dir.standardizedFileURL.path
    for case let url as URL in FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)! {
      let path = url.standardizedFileURL.path
      guard !url.hasDirectoryPath else { continue }
      result[String(path.dropFirst(root.count))] = try Data(contentsOf: url)
    }
    return result
  }

  func testSameSeedGivesIdenticalBytesAndAnotherSeedDoesNot() throws {
    let a = try TemporaryDirectory()
    let b = try TemporaryDirectory()
    let c = try TemporaryDirectory()
    try Simulator(tiny(seed: 7)).render(to: a.url, threads: 3)
    // One thread against several: each site has its own random stream, so the bytes must not change.
    try Simulator(tiny(seed: 7)).render(to: b.url, threads: 1)
    try Simulator(tiny(seed: 8)).render(to: c.url)
    let first = try files(a.url)
    XCTAssertEqual(first.count, 2 * 96 * 2 + 5)
    XCTAssertEqual(first, try files(b.url))
    let other = try files(c.url)
    XCTAssertNotEqual(first["/images/SIM-P01_A01_s1_w1.tif"], other["/images/SIM-P01_A01_s1_w1.tif"])
  }

  func testSimulatedScreenLoadsAndJoinsWithoutProblems() throws {
    let dir = try TemporaryDirectory()
    let output = try Simulator(tiny(seed: 3)).render(to: dir.url)
    var (screen, problems) = try LoadDataReader.read(output.loadData)
    problems += screen.join(try BarcodePlatemap(contentsOf: output.barcodePlatemap))
    XCTAssertEqual(problems, [])
    XCTAssertEqual(screen.batches.map(\.name), ["B1", "B2"])
    XCTAssertEqual(screen.channels, ["DNA", "ER"])
    XCTAssertEqual(screen.siteCount, output.sites)
    let columns = Dictionary(uniqueKeysWithValues: screen.covariates.map { ($0.name, $0) })
    XCTAssertEqual(columns["disease"]?.values, ["disease", "healthy"])
    XCTAssertEqual(columns["source_lab"]?.values, ["lab-A", "lab-B"])
    XCTAssertEqual(columns["control"]?.kind, .numeric)
    // Disease and lab are crossed by design: every combination occurs among the sample wells.
    let pairs = Set(screen.plates.flatMap(\.wells).map { [$0.covariates["disease"]!, $0.covariates["source_lab"]!] })
    XCTAssertEqual(pairs.count, 4)
    let image = try readImage(URL(fileURLWithPath: screen.plates[1].wells[5].sites[0].images["ER"]!.path))
    XCTAssertEqual([image.width, image.height, image.bitsPerSample], [64, 48, 16])
    let truth = try JSONDecoder().decode(SimulationTruth.self, from: Data(contentsOf: dir.file("truth.json")))
    XCTAssertEqual(truth.planted.map(\.kind).sorted(), ["focus-gradient", "plate-shift"])
    XCTAssertEqual(truth.config, tiny(seed: 3))
  }

  func testPlantListParsing() throws {
    XCTAssertEqual(
      try SimulationConfig.parsePlantList("focus-gradient:0.8,density"), ["focus-gradient": 0.8, "density": 1])
    XCTAssertEqual(try SimulationConfig.parsePlantList("none"), [:])
    XCTAssertThrowsError(try SimulationConfig.parsePlantList("blur")) {
      XCTAssertTrue("\($0)".contains("focus-gradient"))
    }
    XCTAssertThrowsError(try SimulationConfig.parsePlantList("density:2"))
  }
}
