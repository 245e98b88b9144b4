import ConfoundImaging
import Foundation
import TestSupport
import XCTest

@testable import FocusMeasures

/// The real images the defocus model is trained and tested on, loaded once per test process.
enum DefocusImages {
  /// A named greyscale plane (channel 0 of the file).
  struct Named {
    let name: String
    let plane: FocusPlane
  }

  nonisolated(unsafe) static var fluorescenceCache: [Named]?

  /// Channel 0 of an image file as a plane.
  static func plane(_ url: URL) throws -> FocusPlane {
    let image = try readImage(url)
    return try FocusPlane(pixels: Array(image.plane(0)), width: image.width, height: image.height)
  }

  /// The DSB2018 stage-1 test images that are fluorescence: grey (all colour channels equal) on a dark
  /// background (median below a fifth of the 99.9th percentile), which excludes brightfield and H&E. Sorted by id.
  static func dsbFluorescence() throws -> [Named] {
    if let hit = fluorescenceCache { return hit }
    let root: URL
    do { root = try SharedData.require("data/dsb2018-stage1-test") } catch let s as SkipReason {
      throw XCTSkip(s.description)
    }
    let folder = root.appendingPathComponent("stage1_test")
    var out: [Named] = []
    for id in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
      let url = folder.appendingPathComponent("\(id)/images/\(id).png")
      let image = try readImage(url)
      let grey = image.plane(0)
      let colourless = image.channels < 3 || (zip(grey, image.plane(1)).allSatisfy { $0 == $1 }
        && zip(grey, image.plane(2)).allSatisfy { $0 == $1 })
      let sorted = grey.sorted()
      let median = sorted[sorted.count / 2]
      let high = sorted[Int(0.999 * Double(sorted.count - 1))]
      guard colourless, high > 0, median < high / 5 else { continue }
      out.append(Named(name: id, plane: try FocusPlane(pixels: Array(grey), width: image.width, height: image.height)))
    }
    fluorescenceCache = out
    return out
  }

  /// The split used for the shipped weights: `DefocusTrainer.split` of the fluorescence image ids.
  static func split() throws -> (training: [Named], heldOut: [Named]) {
    let all = try dsbFluorescence()
    let (training, heldOut) = DefocusTrainer.split(all.map(\.name))
    let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
    return (training.map { byName[$0]! }, heldOut.map { byName[$0]! })
  }

  /// BBBC006 near-focus (z = 10) and far (z = 0) planes.
  static func bbbc006() throws -> (near: [Named], far: [Named]) {
    let folder: URL
    do { folder = try SharedData.require("data/bbbc006-focus") } catch let s as SkipReason {
      throw XCTSkip(s.description)
    }
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    let load = { (n: String) in Named(name: n, plane: try plane(folder.appendingPathComponent(n))) }
    let far = names.filter { $0.hasPrefix("00_") && $0.hasSuffix(".tif") }
    return (try names.filter(isNearFocus).map(load), try far.map(load))
  }

  /// The DFNN light-sheet stack with each frame's defocus in micrometres ((N - 51) x 0.05).
  static func defocusStack() throws -> [(defocus: Double, plane: FocusPlane)] {
    let folder: URL
    do { folder = try SharedData.require("data/dfnn-defocus-stack") } catch let s as SkipReason {
      throw XCTSkip(s.description)
    }
    return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tif") }.sorted()
      .map { name in
        let frame = Double(name.dropLast(4).suffix(4))!
        return ((frame - 51) * 0.05, try plane(folder.appendingPathComponent(name)))
      }
  }
}
