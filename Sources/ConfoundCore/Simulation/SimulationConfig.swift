import Foundation

/// A bias the simulator can plant, each with a strength in [0, 1] (0 plants nothing).
public enum Confounder: String, Codable, Sendable, CaseIterable {
  /// Sharp centre, blurred edge: Gaussian blur sigma grows with the square of the distance from the plate centre.
  case focusGradient = "focus-gradient"
  /// Each batch has its own intensity gain, camera offset and illumination fall-off.
  case batchShift = "batch-shift"
  /// Cell count per site tied to the disease label.
  case density
  /// Nucleus size tied to the source lab of the cell line.
  case sourceLab = "source-lab"
  /// Outer-ring wells are dimmer and sparser (evaporation).
  case edgeEffect = "edge-effect"
  /// Each plate has its own intensity gain (the plates' log gains spread evenly, in a seeded order).
  case plateShift = "plate-shift"
}

/// Everything that decides a simulated screen; with the same config the output is bit-for-bit the same.
public struct SimulationConfig: Codable, Sendable, Equatable {
  public var seed: UInt64 = 1
  public var plates = 4
  public var batches = 2
  /// 96 or 384.
  public var wells = 96
  public var sites = 2
  /// 1 to 5, taken in order from DNA, ER, RNA, AGP, Mito.
  public var channels = 3
  public var width = 256
  public var height = 256
  /// Cell lines (donors) per disease class: the units of replication of the target. The paper's SMA screen had
  /// 27 lines; with 4 per class a test that permutes disease between whole lines has only 35 relabellings, too few
  /// to reach 5% after correcting for an audit's tests, so the default is 12 per class (24 lines).
  public var linesPerClass = 12
  /// Mean cells per site before any planted effect.
  public var cellsPerSite = 22.0
  /// Mean nucleus semi-axis in pixels; whole cells are about twice as large.
  public var nucleusRadius = 8.0
  /// Confounder -> strength in [0, 1].
  public var plant: [String: Double] = [:]

  public static let channelNames = ["DNA", "ER", "RNA", "AGP", "Mito"]

  public init() {}

  public var channelNames: [String] { Array(SimulationConfig.channelNames.prefix(channels)) }

  public func strength(_ confounder: Confounder) -> Double { plant[confounder.rawValue] ?? 0 }

  /// Reads a plant list such as `focus-gradient:0.8,density` (a missing strength is 1; `none` plants nothing).
  public static func parsePlantList(_ text: String) throws -> [String: Double] {
    var result: [String: Double] = [:]
    for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where item != "none" {
      let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
      guard let kind = Confounder(rawValue: parts[0]) else {
        let known = Confounder.allCases.map(\.rawValue).joined(separator: ", ")
        throw SimulationError("unknown confounder \"\(parts[0])\": use \(known) or none")
      }
      guard let strength = parts.count > 1 ? Double(parts[1]) : 1, (0...1).contains(strength) else {
        throw SimulationError("strength of \(parts[0]) must be a number in [0, 1], got \"\(parts[1])\"")
      }
      result[kind.rawValue] = strength
    }
    return result
  }

  /// Throws naming the first field out of range.
  public func validate() throws {
    guard plates >= 1, batches >= 1, batches <= plates else {
      throw SimulationError("need 1 <= batches (\(batches)) <= plates (\(plates))")
    }
    guard wells == 96 || wells == 384 else { throw SimulationError("wells must be 96 or 384, got \(wells)") }
    guard (1...5).contains(channels) else { throw SimulationError("channels must be 1 to 5, got \(channels)") }
    guard (2...50).contains(linesPerClass) else { throw SimulationError("lines per class must be 2 to 50, got \(linesPerClass)") }
    guard sites >= 1, width >= 32, height >= 32 else { throw SimulationError("need sites >= 1 and images >= 32x32") }
    for (name, strength) in plant {
      guard Confounder(rawValue: name) != nil, (0...1).contains(strength) else {
        throw SimulationError("plant \(name)=\(strength): unknown confounder or strength outside [0, 1]")
      }
    }
  }
}

/// A simulation that cannot run; says which setting to change.
public struct SimulationError: Error, CustomStringConvertible, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}
