import Foundation

/// How a network's reliance on the pixels of an image is measured.
public enum SaliencyMethod: String, Sendable, CaseIterable {
  /// Selvaraju et al. 2017: the layer's feature maps weighted by the mean gradient of each map. `[N, h, w]`.
  case gradCAM = "gradcam"
  /// Chattopadhay et al. 2018: feature maps weighted by the positive gradients with the second- and third-order
  /// weights of that paper's closed form (as pytorch-grad-cam computes them, from first derivatives). `[N, h, w]`.
  case gradCAMPlusPlus = "gradcam++"
  /// Simonyan et al. 2014 (vanilla saliency): the gradient with respect to the input. `[N, C, H, W]`.
  case gradient
  /// Zeiler and Fergus 2014: the drop in the output when a patch of all channels is replaced by a baseline value,
  /// averaged over the patches covering each pixel (Captum's `Occlusion`). Forward passes only. `[N, H, W]`.
  case occlusion
}

/// What to keep of a map's sign.
public enum MapPolarity: String, Sendable {
  /// Negative values set to 0 (the ReLU of GradCAM): evidence for the output only. The default.
  case positive
  /// Values as computed.
  case signed
  /// Magnitudes (the usual reading of a gradient map).
  case absolute
}

/// Options of `Network.saliency`. Maps keep their raw scale by default, so that maps of different crops, plates and
/// batches compare; per-image min-max scaling is an option.
public struct SaliencyOptions: Sendable {
  /// The value a CAM method explains, by its ONNX name (a 4-D `[N, C, h, w]` value); nil: the input of the global
  /// pool the output is computed from, else the last convolution before the output.
  public var layer: String?
  public var polarity: MapPolarity = .positive
  /// Scales each image's map to [0, 1] (a constant map becomes all 0).
  public var minMax = false
  /// Bilinear upsampling of CAM maps from the layer's resolution to the input's height and width (half-pixel
  /// centres, edges clamped: PyTorch's `interpolate(align_corners=False)`).
  public var upsample = false
  /// Occlusion: the patch's side and the step between patches, in pixels, and the value written into the patch.
  public var patch = 8
  public var stride = 4
  public var baseline: Float = 0
  /// Workers sharing the batch; with more than one, OpenBLAS should run single-threaded (`Network.setBLASThreads`).
  public var threads = 1
  /// Accept an input height and width other than the declared ones (see `Network.run`).
  public var anySpatialSize = false

  public init(
    layer: String? = nil, polarity: MapPolarity = .positive, minMax: Bool = false, upsample: Bool = false,
    threads: Int = 1, anySpatialSize: Bool = false
  ) {
    (self.layer, self.polarity, self.minMax, self.upsample) = (layer, polarity, minMax, upsample)
    (self.threads, self.anySpatialSize) = (threads, anySpatialSize)
  }
}

/// Post-processing shared by every method, per image of an `[N, ...]` map.
enum MapFinish {
  static func polarity(_ map: inout Tensor, _ polarity: MapPolarity) {
    switch polarity {
    case .positive: for i in map.data.indices where map.data[i] < 0 { map.data[i] = 0 }
    case .signed: break
    case .absolute: for i in map.data.indices { map.data[i] = abs(map.data[i]) }
    }
  }

  static func minMax(_ map: inout Tensor) {
    guard let n = map.shape.first, n > 0 else { return }
    let row = map.count / n
    for image in 0..<n {
      let range = (image * row)..<((image + 1) * row)
      let lo = map.data[range].min() ?? 0
      let hi = map.data[range].max() ?? 0
      for i in range { map.data[i] = hi > lo ? (map.data[i] - lo) / (hi - lo) : 0 }
    }
  }

  /// Bilinear resize of `[N, h, w]` maps to `[N, height, width]`: output pixel centre `(o + 0.5) * in / out - 0.5`
  /// in input coordinates, clamped to the first and last pixel.
  static func upsample(_ map: Tensor, height: Int, width: Int) -> Tensor {
    let (n, h, w) = (map.shape[0], map.shape[1], map.shape[2])
    func taps(_ out: Int, _ size: Int) -> [(Int, Int, Float)] {
      (0..<out).map { o in
        let x = max(0, (Double(o) + 0.5) * Double(size) / Double(out) - 0.5)
        let lo = min(Int(x), size - 1)
        return (lo, min(lo + 1, size - 1), Float(x - Double(lo)))
      }
    }
    let (rows, cols) = (taps(height, h), taps(width, w))
    var out = Tensor(shape: [n, height, width])
    for image in 0..<n {
      let src = image * h * w
      for (oy, (y0, y1, fy)) in rows.enumerated() {
        for (ox, (x0, x1, fx)) in cols.enumerated() {
          let top = map.data[src + y0 * w + x0] * (1 - fx) + map.data[src + y0 * w + x1] * fx
          let bottom = map.data[src + y1 * w + x0] * (1 - fx) + map.data[src + y1 * w + x1] * fx
          out.data[(image * height + oy) * width + ox] = top * (1 - fy) + bottom * fy
        }
      }
    }
    return out
  }
}

/// Runs `work` on each of `count` items over `threads` workers and returns the results in item order.
func inParallel<Value>(_ count: Int, threads: Int, _ work: (Int) throws -> Value) throws -> [Value] {
  let box = ParallelResults<Value>(count)
  let workers = max(1, min(threads, count))
  DispatchQueue.concurrentPerform(iterations: workers) { worker in
    for item in stride(from: worker, to: count, by: workers) {
      let result = Result { try work(item) }
      box.lock.lock()
      box.values[item] = result
      box.lock.unlock()
    }
  }
  return try box.values.map { try $0!.get() }
}

/// Results written once each from concurrent workers.
private final class ParallelResults<Value>: @unchecked Sendable {
  let lock = NSLock()
  var values: [Result<Value, Error>?]
  init(_ count: Int) { values = Array(repeating: nil, count: count) }
}
