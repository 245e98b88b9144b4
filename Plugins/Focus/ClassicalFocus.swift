import CConfoundPlugin
import ConfoundKit
import ConfoundProtocol
import FocusMeasures
import Foundation

/// The built-in focus plugin: CellProfiler's MeasureImageQuality focus measures plus intensity-normalised
/// Brenner, Tenengrad and Laplacian variance, per channel, and the learned defocus model's score, level and
/// certainty (`DefocusModel.shipped`, in the manner of Yang et al. 2018). A thin adapter over `FocusMeasures`.
final class ClassicalFocus: FocusPlugin {
  static let manifest = PluginManifest(
    id: "confound.focus", name: "Classical focus measures", kind: .focus, version: "0.1.0",
    abiVersion: Int(CONFOUND_ABI_VERSION),
    description: "Per-channel focus and image-quality measures: CellProfiler's FocusScore, LocalFocusScore, Correlation, PowerLogLogSlope and saturation, plus intensity-normalised Brenner, Tenengrad and Laplacian variance, and a learned defocus score/level/certainty (11 levels).",
    parameters: [
      ParameterSpec(name: "scale", type: .integer, default: 20, minimum: 1, maximum: 4096,
                    description: "Spatial scale in pixels of LocalFocusScore and Correlation (CellProfiler's default 20)."),
      ParameterSpec(name: "model", type: .string, default: "",
                    description: "A defocus weights file from `confound focus train` (empty: the shipped model)."),
    ],
    outputs: [
      OutputSpec(name: "ImageQuality_", type: .measure, role: "focus",
                 description: "every MeasureImageQuality measure, CellProfiler's names and definitions (FocusScore, LocalFocusScore, Correlation, PowerLogLogSlope, PercentMaximal/Minimal) and ours in the same pattern (Brenner, Tenengrad, LaplacianVariance and their ...Normalized forms, raw / mean^2)"),
      OutputSpec(name: "ImageQuality_FocusScore", type: .measure, role: "focus", description: "variance / mean of the image (CellProfiler)"),
      OutputSpec(name: "ImageQuality_TenengradNormalized", type: .measure, role: "focus", description: "mean squared Sobel gradient / mean^2"),
      OutputSpec(name: "ImageQuality_BrennerNormalized", type: .measure, role: "focus", description: "mean squared 2-pixel difference / mean^2"),
      OutputSpec(name: "Defocus_Score", type: .measure, role: "focus",
                 description: "learned defocus model (DefocusModel.shipped): 1 - expected level / 10, 1 = in focus"),
      OutputSpec(name: "Defocus_Level", type: .measure, role: "focus", description: "most probable of 11 defocus levels, 0 = in focus"),
      OutputSpec(name: "Defocus_Certainty", type: .measure, role: "focus", description: "1 - normalised entropy of the level probabilities"),
    ])

  init() {}

  /// Integer images are divided by their storage maximum first (context `image_scale`, set by the host for image
  /// files), as CellProfiler does, so FocusScore and the raw gradient measures have CellProfiler's values.
  func scoreFocus(image: ImageStack, context: CallContext) throws -> FocusResult {
    let scale = context.integer("scale") ?? 20
    let divisor = Float(context.context["image_scale"]?.doubleValue ?? 1)
    let model = try Self.model(path: context.string("model") ?? "")
    var channels: [ChannelFocus] = []
    for c in 0..<image.channels {
      try context.checkCancellation()
      let plane: FocusPlane
      do {
        let pixels = divisor > 0 && divisor != 1 ? image.plane(c).map { $0 / divisor } : Array(image.plane(c))
        plane = try FocusPlane(pixels: pixels, width: image.width, height: image.height)
      } catch {
        throw PluginError.badInput("channel \(image.channelNames[c]): \(error)")
      }
      let measures = try FocusMeasurements(plane, scale: scale)
      // The learned score needs one 64-pixel patch with positive mean; smaller or empty planes report none.
      let defocus = try? model.predict(plane)
      var named = measures.named.map { (name: $0.0, value: $0.1) }
      if let d = defocus {
        named += [("Defocus_Score", d.score), ("Defocus_Level", Double(d.level)), ("Defocus_Certainty", d.certainty)]
      }
      channels.append(ChannelFocus(channel: image.channelNames[c], measures: named, score: defocus?.score,
                                   level: defocus?.level, certainty: defocus?.certainty))
      context.progress(Double(c + 1) / Double(image.channels))
    }
    return FocusResult(channels: channels)
  }

  /// Weights files already read in this worker, by path: a screen's sites all name the same file.
  nonisolated(unsafe) static var loaded: [String: DefocusModel] = [:]
  static let lock = NSLock()

  /// The shipped model for an empty path, else the weights file at `path` (a bad file is the caller's input error).
  static func model(path: String) throws -> DefocusModel {
    guard !path.isEmpty else { return DefocusModel.shipped }
    lock.lock()
    defer { lock.unlock() }
    if let hit = loaded[path] { return hit }
    do {
      let model = try DefocusModelFile.read(URL(fileURLWithPath: path)).model(file: path)
      loaded[path] = model
      return model
    } catch {
      throw PluginError.badInput("parameter model: \(error)")
    }
  }
}

@_cdecl("confound_plugin_entry")
public func confoundPluginEntry(_ hostABI: UInt32) -> UnsafePointer<cf_plugin>? {
  PluginExport.entry(ClassicalFocus.self, hostABI: hostABI)
}
