import Foundation
import Statistics

/// Trains a `DefocusModel` from in-focus planes: each plane is blurred to every defocus level, given camera noise
/// of a random strength, cut into patches, and the patches' features are fitted by multinomial logistic regression.
///
/// Deterministic: the same planes (in the same order) and seed give the same weights, which is how the shipped
/// weights are checked against a rebuild.
public enum DefocusTrainer {
  /// How the training patches are made; the defaults are the ones the shipped weights were trained with.
  public struct Options: Sendable, Equatable {
    /// Patches drawn (without replacement, uniformly) from each plane's selected patches (`DefocusFeatures.selected`)
    /// at each level; fewer when it has fewer.
    public var patchesPerLevel = 96
    /// Range of the photon count at the plane's 99.9th percentile, drawn log-uniformly per plane and level: the
    /// brightest pixels of widefield high-content fluorescence images hold some thousands of photo-electrons.
    public var peakPhotons: ClosedRange<Double> = 500...20000
    /// Range of the Gaussian read noise in photons, drawn uniformly per plane and level.
    public var readNoise: ClosedRange<Double> = 1...6
    /// Inverse L2 strength of the logistic regression (scikit-learn's `C`).
    public var c = 1000.0
    public var maxIterations = 1000

    public init() {}
  }

  /// How a model was trained, in words: written into weights files and the shipped weights' doc comment.
  public static func provenance(options: Options, seed: UInt64) -> [String] {
    let sigmas = DefocusSimulation.levelSigmas.map { "\($0)" }.joined(separator: "/")
    return [
      "Trained by DefocusTrainer.train (seed \(seed)): up to \(options.patchesPerLevel) random"
        + " \(DefocusFeatures.patchSize)-pixel patches (stride \(DefocusFeatures.patchStride),",
      "the brightest quarter) per image and level;",
      "features: lag-\(DefocusFeatures.lags.map(String.init).joined(separator: "/")) difference energies and"
        + " edge steepnesses (DefocusFeatures);",
      "\(DefocusSimulation.levelCount) levels of Gaussian blur, sigma \(sigmas) px;",
      "Poisson noise at a peak of \(Int(options.peakPhotons.lowerBound))-\(Int(options.peakPhotons.upperBound))"
        + " photons (log-uniform) plus Gaussian read noise of \(Int(options.readNoise.lowerBound))-"
        + "\(Int(options.readNoise.upperBound)) photons;",
      "multinomial logistic regression on the standardised features and their squares, C = \(options.c).",
    ]
  }

  /// Splits image names into training and held-out halves: sorted, even positions train, odd are held out (so a
  /// defocus ladder made from the held-out half tests images the model never saw).
  public static func split(_ names: [String]) -> (training: [String], heldOut: [String]) {
    let sorted = names.sorted()
    let indexed = sorted.enumerated()
    return (indexed.filter { $0.offset % 2 == 0 }.map(\.element), indexed.filter { $0.offset % 2 == 1 }.map(\.element))
  }

  /// Labelled raw patch features: every plane at every level of `DefocusSimulation.levelSigmas`.
  public static func samples(images: [FocusPlane], seed: UInt64, options: Options = Options())
    -> (features: [[Double]], levels: [Int])
  {
    var generator = SeededGenerator(seed: seed)
    var features: [[Double]] = []
    var levels: [Int] = []
    for image in images {
      // Patches are chosen on the sharp image, so every level of one image contributes the same places.
      let grid = DefocusFeatures.selected(width: image.width, height: image.height, image)
      for (level, sigma) in DefocusSimulation.levelSigmas.enumerated() {
        let blurred = DefocusSimulation.gaussianBlur(image, sigma: sigma)
        let lo = log(options.peakPhotons.lowerBound)
        let peak = exp(lo + (log(options.peakPhotons.upperBound) - lo) * DefocusSimulation.uniform(&generator))
        let read = options.readNoise.lowerBound
          + (options.readNoise.upperBound - options.readNoise.lowerBound) * DefocusSimulation.uniform(&generator)
        let noisy = DefocusSimulation.cameraNoise(blurred, peakPhotons: peak, readNoise: read, generator: &generator)
        var order = Array(grid.indices)
        generator.shuffle(&order)
        for index in order.prefix(options.patchesPerLevel) {
          guard let f = DefocusFeatures.patch(noisy, x0: grid[index].x, y0: grid[index].y) else { continue }
          features.append(f)
          levels.append(level)
        }
      }
    }
    return (features, levels)
  }

  /// Trains the model on in-focus `images` with `seed`. Throws when there are no usable patches (planes smaller
  /// than `DefocusFeatures.patchSize`) or the fit fails.
  public static func train(images: [FocusPlane], seed: UInt64, options: Options = Options()) throws -> DefocusModel {
    let (raw, levels) = samples(images: images, seed: seed, options: options)
    guard Set(levels).count == DefocusSimulation.levelCount else {
      throw FocusMeasuresError.invalidArgument(
        "DefocusTrainer.train: \(raw.count) patches from \(images.count) images do not cover every level; pass "
          + "in-focus images of at least \(DefocusFeatures.patchSize) x \(DefocusFeatures.patchSize) pixels")
    }
    let d = DefocusFeatures.count
    let matrix = try FeatureMatrix(rows: raw.count, columns: d, values: raw.flatMap { $0 })
    let standardizer = try Standardizer(fitting: matrix)
    let unfitted = try DefocusModel(
      means: standardizer.means, scales: standardizer.scales,
      coefficients: Array(repeating: Array(repeating: 0, count: 2 * d), count: DefocusSimulation.levelCount),
      intercepts: Array(repeating: 0, count: DefocusSimulation.levelCount))
    let x = try FeatureMatrix(rows: raw.count, columns: 2 * d, values: raw.flatMap { unfitted.expand($0) })
    let fit = try LogisticRegression.fit(
      features: x, labels: levels, c: options.c, options: LBFGSOptions(maxIterations: options.maxIterations))
    let coefficients = (0..<fit.coefficients.rows).map { k in (0..<2 * d).map { fit.coefficients[k, $0] } }
    return try DefocusModel(
      means: standardizer.means, scales: standardizer.scales, coefficients: coefficients, intercepts: fit.intercepts)
  }
}
