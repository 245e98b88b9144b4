extension Network {
  /// Saliency maps of column `column` of output `output` (e.g. class K of `logits`) for each image of `input`:
  /// `[N, h, w]` at the layer's resolution for the CAM methods (`[N, H, W]` with `upsample`), `[N, C, H, W]` for
  /// `gradient`, `[N, H, W]` for `occlusion`. Gradients run in float32 through a `Tape`, a few images at a time.
  public func saliency(
    _ input: Tensor, output: String, column: Int, method: SaliencyMethod, options: SaliencyOptions = SaliencyOptions()
  ) throws -> Tensor {
    var map: Tensor
    switch method {
    case .gradCAM, .gradCAMPlusPlus:
      let layer = try options.layer ?? defaultCAMLayer(output: output)
      let parts = try taped(input, output: output, column: column, at: layer, options: options) { value, gradient in
        try Network.classActivationMap(value, gradient, layer: layer, plusPlus: method == .gradCAMPlusPlus)
      }
      map = Tensor.concatenate(batches: parts)
      if options.upsample { map = MapFinish.upsample(map, height: input.shape[2], width: input.shape[3]) }
    case .gradient:
      let name = inputs[0].name
      map = Tensor.concatenate(
        batches: try taped(input, output: output, column: column, at: name, options: options) {
          Tensor($1)
        })
    case .occlusion:
      map = try occlusion(input, output: output, column: column, options: options)
    }
    MapFinish.polarity(&map, options.polarity)
    if options.minMax { MapFinish.minMax(&map) }
    return map
  }

  /// The layer GradCAM explains by default: the input of the global average pool that `output` is computed from
  /// (the last feature maps, where GradCAM equals CAM for a linear head), else the output of the last Conv before
  /// `output` together with the activation that directly follows it.
  public func defaultCAMLayer(output: String) throws -> String {
    let producers = Dictionary(graph.nodes.map { ($0.output, $0) }, uniquingKeysWith: { first, _ in first })
    guard producers[output] != nil else {
      throw NeuralNetError.unknownValue(name: output, message: "no node of \(file) computes it")
    }
    // Ancestors of the output, nearest first (breadth-first from the output).
    var queue = [output]
    var seen: Set<String> = [output]
    var lastConv: Node?
    while !queue.isEmpty {
      let name = queue.removeFirst()
      guard let node = producers[name] else { continue }
      if case .globalAveragePool = node.op { return node.inputs[0] }
      if case .conv = node.op, lastConv == nil { lastConv = node }
      for input in node.inputs where seen.insert(input).inserted { queue.append(input) }
    }
    guard var layer = lastConv?.output else {
      throw NeuralNetError.unknownValue(
        name: output, message: "no convolution of \(file) precedes it: name a 4-D layer for the CAM methods")
    }
    while let next = graph.nodes.first(where: { $0.inputs.first == layer }), isActivation(next.op),
      graph.nodes.filter({ $0.inputs.contains(layer) }).count == 1
    {
      layer = next.output
    }
    return layer
  }

  private func isActivation(_ op: Operation) -> Bool {
    switch op {
    case .activation, .batchNorm: return true
    default: return false
    }
  }

  /// Records float32 tapes over pieces of the batch and calls `finish(value, gradient)` with the value `layer` and
  /// the gradient of the selected output column with respect to it, per piece, in batch order. Graphs that treat
  /// images independently run `imagesPerPass` images per tape, shared between threads; others one tape over the
  /// whole batch with one backward pass per image.
  private func taped(
    _ input: Tensor, output: String, column: Int, at layer: String, options: SaliencyOptions,
    _ finish: (TensorOf<Float>, TensorOf<Float>) throws -> Tensor
  ) throws -> [Tensor] {
    let batch = input.shape.first ?? 0
    let separable = try plan(for: [layer, output].sorted(), fusion: .gradients(watched: [layer])).batchSeparable
    guard separable else {
      let tape = try record(
        TensorOf<Float>(input), outputs: [output], watching: [layer], anySpatialSize: options.anySpatialSize)
      let value = try tape.value(layer)
      return try (0..<batch).map { n in
        let gradient = try tape.gradients(of: output, column: column, sample: n, withRespectTo: [layer])[layer]!
        let slice = { (t: TensorOf<Float>) in TensorOf<Float>(Tensor(t).slice(batch: n..<(n + 1))) }
        return try finish(slice(value), slice(gradient))
      }
    }
    let pieces = stride(from: 0, to: batch, by: Network.imagesPerPass).map {
      $0..<min($0 + Network.imagesPerPass, batch)
    }
    return try inParallel(pieces.count, threads: options.threads) { index in
      let tape = try record(
        TensorOf<Float>(input.slice(batch: pieces[index])), outputs: [output], watching: [layer],
        anySpatialSize: options.anySpatialSize)
      let gradient = try tape.gradients(of: output, column: column, withRespectTo: [layer])[layer]!
      return try finish(try tape.value(layer), gradient)
    }
  }

  /// `sum_c w_c A_c` over the channels of a `[N, C, h, w]` layer: GradCAM's `w_c` is the mean gradient of map c;
  /// GradCAM++'s is `sum_ij relu(g_ij) a_ij`, `a = g^2 / (2 g^2 + sum_ij(A) g^3)` (0 where g is 0).
  static func classActivationMap(
    _ value: TensorOf<Float>, _ gradient: TensorOf<Float>, layer: String, plusPlus: Bool
  ) throws -> Tensor {
    guard value.shape.count == 4 else {
      throw NeuralNetError.unknownValue(
        name: layer, message: "has shape \(describe(shape: value.shape)); the CAM methods need a 4-D [N, C, h, w] layer"
      )
    }
    let (n, c, h, w) = (value.shape[0], value.shape[1], value.shape[2], value.shape[3])
    let plane = h * w
    var map = Tensor(shape: [n, h, w])
    for image in 0..<n {
      for channel in 0..<c {
        let offset = (image * c + channel) * plane
        let a = value.data[offset..<(offset + plane)]
        let g = gradient.data[offset..<(offset + plane)]
        var weight: Float = 0
        if plusPlus {
          let total = a.reduce(0, +)
          for gij in g where gij != 0 {
            let g2 = gij * gij
            weight += max(gij, 0) * g2 / (2 * g2 + total * g2 * gij + 1e-7)
          }
        } else {
          weight = g.reduce(0, +) / Float(plane)
        }
        guard weight != 0 else { continue }
        for (i, v) in a.enumerated() { map.data[image * plane + i] += weight * v }
      }
    }
    return map
  }
}
