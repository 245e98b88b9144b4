import ArgumentParser
import ConfoundImaging
import FocusMeasures
import Foundation

/// `confound focus train DIR|FILE... --out W.json`: trains the learned defocus model's weights from in-focus images
/// (`DefocusTrainer.train`) and writes them as a weights file the focus plugin reads (`--model W.json`).
/// Deterministic: the same images and seed give the same file, byte for byte. Runs in this process: it is a
/// batch job on local files with nothing to isolate, and its only output is the file.
struct FocusTrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train", abstract: "Train the defocus model's weights from in-focus images.",
    discussion: """
      Each image is blurred to the 11 defocus levels (Gaussian PSF, sigma \
      \(DefocusSimulation.levelSigmas.map { "\($0)" }.joined(separator: "/")) px), given Poisson and Gaussian \
      camera noise, cut into \(DefocusFeatures.patchSize)-pixel patches, and the patch features are fitted by \
      multinomial logistic regression. Images must be in focus and at least \(DefocusFeatures.patchSize) pixels \
      on a side; fluorescence images of the kind you will score work best. Use the file with \
      `confound focus --model W.json IMAGE...` or `confound focus SCREEN --out DIR --model W.json`.
      """)
  @Argument(help: "In-focus images (TIFF or PNG), or folders whose .tif/.tiff/.png files are all used (sorted).")
  var inputs: [String]
  @Option(help: "The weights file to write (JSON).") var out: String
  @Option(help: "The image channel to train on (0-based).") var channel = 0
  @Option(help: "Seed of the noise and patch draws.") var seed: UInt64 = 1

  func run() throws {
    let files = try Self.imageFiles(inputs)
    guard !files.isEmpty else {
      throw ValidationError("no .tif/.tiff/.png images in \(inputs.joined(separator: ", "))")
    }
    var planes: [FocusPlane] = []
    for file in files {
      do {
        let image = try readImage(file)
        guard channel < image.channels else {
          throw ValidationError("\(file.path) has \(image.channels) channel(s); --channel \(channel) is not one")
        }
        planes.append(try FocusPlane(pixels: Array(image.plane(channel)), width: image.width, height: image.height))
      } catch let error as ValidationError {
        throw error
      } catch {
        throw ValidationError("\(file.path): \(error); pass readable TIFF or PNG images")
      }
    }
    FileHandle.standardError.write(Data("training on \(planes.count) images (seed \(seed))\n".utf8))
    let options = DefocusTrainer.Options()
    let model = try DefocusTrainer.train(images: planes, seed: seed, options: options)
    let provenance = DefocusTrainer.provenance(options: options, seed: seed)
      + ["Training images (channel \(channel)): " + files.map(\.lastPathComponent).joined(separator: ", ")]
    let url = URL(fileURLWithPath: out)
    try DefocusModelFile(model, provenance: provenance).data().write(to: url)
    print("wrote \(url.path): \(planes.count) images, \(DefocusSimulation.levelCount) levels")
  }

  /// Files named directly, and the images inside named folders, in sorted order (so training is reproducible).
  static func imageFiles(_ inputs: [String]) throws -> [URL] {
    let extensions: Set<String> = ["tif", "tiff", "png"]
    var out: [URL] = []
    for input in inputs {
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) else {
        throw ValidationError("\(input): no such file or folder")
      }
      if isFolder.boolValue {
        let names = try FileManager.default.contentsOfDirectory(atPath: input).sorted()
        out += names.filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }
          .map { URL(fileURLWithPath: input).appendingPathComponent($0) }
      } else {
        out.append(URL(fileURLWithPath: input))
      }
    }
    return out
  }
}
