import TestSupport
import XCTest

@testable import ConfoundCore

/// A small simulated screen rendered to a temporary folder, as `confound simulate` writes it: 2 plates of 96
/// wells with 32 x 32 images, fast enough for unit tests of the readers and the design.
func renderTinySimulation(sites: Int = 1, channels: Int = 1) throws -> (
  folder: TemporaryDirectory, output: Simulator.Output
) {
  var config = SimulationConfig()
  config.plates = 2
  config.sites = sites
  config.channels = channels
  config.width = 32
  config.height = 32
  config.cellsPerSite = 1
  config.nucleusRadius = 4
  let dir = try TemporaryDirectory()
  return (dir, try Simulator(config).render(to: dir.url, threads: 2))
}
