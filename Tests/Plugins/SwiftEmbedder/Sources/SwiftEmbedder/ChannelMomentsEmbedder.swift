import ConfoundKit

/// Embeds each crop as the mean and standard deviation of each of its channels: [N, 2C].
final class ChannelMomentsEmbedder: EmbedderPlugin {
  static let manifest = PluginManifest(
    id: "lab.channel-moments", name: "Channel moments", kind: .embedder, version: "2.0.1", abiVersion: 1,
    description: "Per-channel mean and standard deviation of each crop.",
    parameters: [ParameterSpec(name: "log", type: .boolean, default: false, description: "Take the square root of |pixel| first.")])

  init() {}

  func embed(crops: TensorView, context: CallContext) throws -> EmbeddingResult {
    guard let pixels = crops.floats else { throw PluginError.invalidParams("crops must be float32") }
    let (n, c, plane) = (crops.shape[0], crops.shape[1], crops.shape[2] * crops.shape[3])
    let useLog = context.bool("log") ?? false
    var out = [Float](repeating: 0, count: n * 2 * c)
    for i in 0..<n {
      try context.checkCancellation()
      for k in 0..<c {
        let base = (i * c + k) * plane
        var sum = 0.0
        var sum2 = 0.0
        for j in 0..<plane {
          let v = useLog ? Double(pixels[base + j]).magnitude.squareRoot() : Double(pixels[base + j])
          sum += v
          sum2 += v * v
        }
        let mean = sum / Double(plane)
        out[i * 2 * c + 2 * k] = Float(mean)
        out[i * 2 * c + 2 * k + 1] = Float(max(sum2 / Double(plane) - mean * mean, 0).squareRoot())
      }
    }
    return EmbeddingResult(embeddings: out, count: n, dimension: 2 * c)
  }
}

@_cdecl("confound_plugin_entry")
public func confoundPluginEntry(_ hostABI: UInt32) -> UnsafePointer<cf_plugin>? {
  PluginExport.entry(ChannelMomentsEmbedder.self, hostABI: hostABI)
}
