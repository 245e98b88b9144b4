import CConfoundPlugin
import ConfoundKit
import ConfoundProtocol
import FocusMeasures

/// The built-in focus plugin: CellProfiler's MeasureImageQuality focus measures plus intensity-normalised
/// Brenner, Tenengrad and Laplacian variance, per channel. A thin adapter over `FocusMeasures`.
final class ClassicalFocus: FocusPlugin {
  static let manifest = PluginManifest(
    id: "confound.focus", name: "Classical focus measures", kind: .focus, version: "0.1.0",
    abiVersion: Int(CONFOUND_ABI_VERSION),
    description: "Per-channel focus and image-quality measures: CellProfiler's FocusScore, LocalFocusScore, Correlation, PowerLogLogSlope and saturation, plus intensity-normalised Brenner, Tenengrad and Laplacian variance.",
    parameters: [
      ParameterSpec(name: "scale", type: .integer, default: 20, minimum: 1, maximum: 4096,
                    description: "Spatial scale in pixels of LocalFocusScore and Correlation (CellProfiler's default 20).")
    ],
    outputs: [
      OutputSpec(name: "ImageQuality_FocusScore", type: .measure, description: "variance / mean of the image (CellProfiler)"),
      OutputSpec(name: "ImageQuality_TenengradNormalized", type: .measure, description: "mean squared Sobel gradient / mean^2"),
      OutputSpec(name: "ImageQuality_BrennerNormalized", type: .measure, description: "mean squared 2-pixel difference / mean^2"),
    ])

  init() {}

  /// Integer images are divided by their storage maximum first (context `image_scale`, set by the host for image
  /// files), as CellProfiler does, so FocusScore and the raw gradient measures have CellProfiler's values.
  func scoreFocus(image: ImageStack, context: CallContext) throws -> FocusResult {
    let scale = context.integer("scale") ?? 20
    let divisor = Float(context.context["image_scale"]?.doubleValue ?? 1)
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
      channels.append(ChannelFocus(channel: image.channelNames[c], measures: measures.named.map { (name: $0.0, value: $0.1) }))
      context.progress(Double(c + 1) / Double(image.channels))
    }
    return FocusResult(channels: channels)
  }
}

@_cdecl("confound_plugin_entry")
public func confoundPluginEntry(_ hostABI: UInt32) -> UnsafePointer<cf_plugin>? {
  PluginExport.entry(ClassicalFocus.self, hostABI: hostABI)
}
