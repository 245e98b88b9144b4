extension Network {
  /// Occlusion maps `[N, H, W]`: for every patch position (`patch` pixels square, every `stride` pixels, the last
  /// row and column of patches cut at the image's edge), the selected output of the image minus that output with
  /// the patch set to `baseline` in every channel, averaged at each pixel over the patches that cover it.
  func occlusion(_ input: Tensor, output: String, column: Int, options: SaliencyOptions) throws -> Tensor {
    let (n, c, h, w) = try nchw(input)
    guard options.patch > 0, options.stride > 0 else {
      throw NeuralNetError.unknownValue(
        name: "occlusion", message: "patch (\(options.patch)) and stride (\(options.stride)) must be positive")
    }
    func starts(_ size: Int) -> [Int] {
      let count = size > options.patch ? (size - options.patch + options.stride - 1) / options.stride + 1 : 1
      return (0..<count).map { $0 * options.stride }
    }
    let windows = starts(h).flatMap { y in starts(w).map { x in (y, x) } }
    let base = try selected(
      try run(
        input, outputs: [output], threads: options.threads,
        anySpatialSize: options.anySpatialSize)[output]!, output: output, column: column)
    var map = Tensor(shape: [n, h, w])
    var covered = [Float](repeating: 0, count: h * w)
    let plane = h * w
    for image in 0..<n {
      let original = input.slice(batch: image..<(image + 1))
      // Occluded copies in chunks that keep the batch of copies within a few megabytes.
      let chunk = max(1, min(windows.count, (1 << 20) / max(1, c * plane)))
      for first in stride(from: 0, to: windows.count, by: chunk) {
        let part = windows[first..<min(first + chunk, windows.count)]
        var copies = Tensor(shape: [part.count, c, h, w])
        for (k, (y, x)) in part.enumerated() {
          let offset = k * c * plane
          copies.data.replaceSubrange(offset..<(offset + c * plane), with: original.data)
          for ch in 0..<c {
            for yy in y..<min(y + options.patch, h) {
              let row = offset + ch * plane + yy * w
              for xx in x..<min(x + options.patch, w) { copies.data[row + xx] = options.baseline }
            }
          }
        }
        let scores = try selected(
          try run(copies, outputs: [output], threads: options.threads, anySpatialSize: options.anySpatialSize)[output]!,
          output: output, column: column)
        for (k, (y, x)) in part.enumerated() {
          let drop = base[image] - scores[k]
          for yy in y..<min(y + options.patch, h) {
            for xx in x..<min(x + options.patch, w) {
              map.data[image * plane + yy * w + xx] += drop
              if image == 0 { covered[yy * w + xx] += 1 }
            }
          }
        }
      }
    }
    for i in map.data.indices { map.data[i] /= covered[i % plane] }
    return map
  }

  /// Column `column` of each image's row of `value`.
  private func selected(_ value: Tensor, output: String, column: Int) throws -> [Float] {
    let n = value.shape.first ?? 1
    let row = value.count / max(n, 1)
    guard column >= 0 && column < row else {
      throw NeuralNetError.unknownValue(
        name: output,
        message: "has \(row) columns per image (shape \(describe(shape: value.shape))); column \(column) is outside")
    }
    return (0..<n).map { value.data[$0 * row + column] }
  }
}
