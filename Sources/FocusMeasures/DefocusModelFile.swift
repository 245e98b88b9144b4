import Foundation

/// The defocus model as a JSON weights file: what `confound focus train` writes and the focus plugin's `model`
/// parameter reads. The shipped model (`DefocusModel.shipped`) is the same numbers compiled in.
///
/// Format (version 1): `{"format": "confound-defocus-model", "version": 1, "lags": [...], "patch_size": 64,
/// "level_sigmas": [...], "means": [...], "scales": [...], "coefficients": [[...]], "intercepts": [...],
/// "provenance": ["what it was trained on", ...]}`. `lags`, `patch_size` and `level_sigmas` record the feature
/// definition the weights belong to; a file made for another definition is refused rather than misread.
public struct DefocusModelFile: Codable, Sendable, Equatable {
  public static let formatName = "confound-defocus-model"
  public static let currentVersion = 1

  public var format: String
  public var version: Int
  public var lags: [Int]
  public var patchSize: Int
  public var levelSigmas: [Double]
  public var means: [Double]
  public var scales: [Double]
  public var coefficients: [[Double]]
  public var intercepts: [Double]
  /// Free text: the training images, seed and options.
  public var provenance: [String]

  enum CodingKeys: String, CodingKey {
    case format, version, lags, means, scales, coefficients, intercepts, provenance
    case patchSize = "patch_size"
    case levelSigmas = "level_sigmas"
  }

  /// The file for `model`, recording the current feature definition.
  public init(_ model: DefocusModel, provenance: [String]) {
    format = Self.formatName
    version = Self.currentVersion
    lags = DefocusFeatures.lags
    patchSize = DefocusFeatures.patchSize
    levelSigmas = DefocusSimulation.levelSigmas
    means = model.means
    scales = model.scales
    coefficients = model.coefficients
    intercepts = model.intercepts
    self.provenance = provenance
  }

  /// Pretty-printed JSON, keys sorted (so the same model always gives the same bytes).
  public func data() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self)
  }

  /// Reads a weights file; errors name the file and say what to do.
  public static func read(_ url: URL) throws -> DefocusModelFile {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw FocusMeasuresError.invalidArgument("\(url.path): cannot read the defocus model file (\(error))")
    }
    do { return try JSONDecoder().decode(DefocusModelFile.self, from: data) } catch {
      throw FocusMeasuresError.invalidArgument(
        "\(url.path): not a defocus model file (\(error)); make one with `confound focus train`")
    }
  }

  /// The model, after checking that the file was made for this build's feature definition.
  public func model(file: String = "defocus model") throws -> DefocusModel {
    guard format == Self.formatName, version == Self.currentVersion else {
      throw FocusMeasuresError.invalidArgument(
        "\(file): format '\(format)' version \(version); expected '\(Self.formatName)' version \(Self.currentVersion)")
    }
    guard lags == DefocusFeatures.lags, patchSize == DefocusFeatures.patchSize,
      levelSigmas == DefocusSimulation.levelSigmas
    else {
      throw FocusMeasuresError.invalidArgument(
        "\(file): trained for other features (lags \(lags), patch \(patchSize), level sigmas \(levelSigmas)); "
          + "retrain it with `confound focus train` of this version")
    }
    do {
      return try DefocusModel(means: means, scales: scales, coefficients: coefficients, intercepts: intercepts)
    } catch { throw FocusMeasuresError.invalidArgument("\(file): \(error)") }
  }
}
