import COpenBLAS
import Foundation

/// A convolutional network loaded from an ONNX file, run on float32 NCHW batches of any size.
///
/// Loading decodes the protobuf, resolves every constant operand and rejects operators the engine lacks,
/// so a model that loads runs. Any value of the graph (a node output) can be requested by name, e.g.
/// `"embedding"`; fusions (BatchNormalization and Relu/Clip folded into the Conv before them) only happen
/// where they hide no requested value, so intermediate values are exact. Safe to use from several threads.
public final class Network: @unchecked Sendable {
  /// The file the model came from, as error messages name it.
  public let file: String
  /// The model's `metadata_props` (key/value strings such as input normalisation or labels).
  public let metadata: [String: String]
  /// The IR version and the default-domain operator set version the file declares.
  public let irVersion: Int
  public let opsetVersion: Int
  /// The graph inputs to feed (initializers excluded), with their declared shapes.
  public let inputs: [ValueSpec]
  /// The graph's declared output names.
  public let outputs: [String]

  let graph: LoadedGraph
  private var plans: [PlanKey: Plan] = [:]
  private let lock = NSLock()

  /// Loads an ONNX file; throws `NeuralNetError` naming the file when it is unreadable, corrupt or unsupported.
  public convenience init(contentsOf url: URL) throws {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw NeuralNetError.invalidModel(file: url.path, message: "cannot read the file: \(error.localizedDescription)")
    }
    try self.init(bytes: [UInt8](data), file: url.path)
  }

  /// Loads a model from the bytes of an ONNX file; `file` names it in errors.
  public init(bytes: [UInt8], file: String = "<memory>") throws {
    let model: ModelProto
    do { model = try ModelProto(bytes: bytes) } catch let error as ProtoError {
      throw NeuralNetError.corruptModel(file: file, offset: error.offset, message: error.message)
    }
    graph = try LoadedGraph(model: model, file: file)
    self.file = file
    metadata = model.metadata
    irVersion = Int(model.irVersion)
    opsetVersion = Int(model.opsets[""] ?? model.opsets["ai.onnx"] ?? 0)
    inputs = graph.inputs
    outputs = graph.outputs
  }

  /// The same model with another graph (some weights randomised or trained, or a part of the graph), whose inputs
  /// and outputs are the new graph's.
  init(_ other: Network, graph: LoadedGraph) {
    self.graph = graph
    (file, metadata, irVersion, opsetVersion) = (other.file, other.metadata, other.irVersion, other.opsetVersion)
    (inputs, outputs) = (graph.inputs, graph.outputs)
  }

  /// Runs a single-input model on `input` and returns the requested values by name.
  ///
  /// - Parameter threads: workers that split the batch between them (1 or more). Each calls OpenBLAS, so
  ///   with more than one worker the executable should set OpenBLAS to one thread (`Network.setBLASThreads(1)`).
  ///   Graphs that mix images of a batch run on one worker whatever `threads` says.
  /// - Parameter anySpatialSize: accept a height and width other than the declared ones. Only meaningful for
  ///   a fully convolutional graph up to the requested value (e.g. a global pool before it); a graph that
  ///   flattens spatial positions into a fixed-size layer then fails at that node with its name.
  public func run(_ input: Tensor, outputs requested: [String], threads: Int = 1, anySpatialSize: Bool = false)
    throws -> [String: Tensor]
  {
    guard inputs.count == 1 else {
      throw NeuralNetError.unknownValue(
        name: inputs.map(\.name).joined(separator: ","),
        message: "the model has \(inputs.count) inputs: feed them by name")
    }
    return try run([inputs[0].name: input], outputs: requested, threads: threads, anySpatialSize: anySpatialSize)
  }

  /// Runs the model on named inputs (every graph input, NCHW, sharing one batch size) and returns the
  /// requested values by name.
  public func run(
    _ feeds: [String: Tensor], outputs requested: [String], threads: Int = 1,
    anySpatialSize: Bool = false
  ) throws -> [String: Tensor] {
    try checkFeeds(feeds.mapValues(\.shape), anySpatialSize: anySpatialSize)
    let plan = try self.plan(for: requested)
    let batch = feeds.values.first?.shape.first ?? 0
    let sameBatch = feeds.values.allSatisfy { $0.shape.first == batch }
    let shape = feeds.values.first?.shape ?? []
    let plane = shape.count == 4 ? shape[2] * shape[3] : 0
    let perPass = Network.imagesPerPass(plane: plane, batch: batch, threads: threads)
    guard plan.batchSeparable, sameBatch, batch > perPass else {
      return try execute(plan, feeds: feeds)
    }
    return try runInPieces(plan, feeds: feeds, batch: batch, perPass: perPass, threads: threads)
  }

  /// Throws unless `shapes` feeds every graph input, with its declared shape, and nothing else.
  func checkFeeds(_ shapes: [String: [Int]], anySpatialSize: Bool) throws {
    for spec in inputs {
      guard let shape = shapes[spec.name] else {
        throw NeuralNetError.unknownValue(name: spec.name, message: "this graph input of \(file) was not fed")
      }
      try spec.check(shape, anySpatialSize: anySpatialSize)
    }
    for name in shapes.keys where !inputs.contains(where: { $0.name == name }) {
      throw NeuralNetError.unknownValue(
        name: name,
        message: "is fed but is not an input of \(file) (inputs: \(inputs.map(\.name).joined(separator: ", ")))")
    }
  }

  /// Images per gradient tape (`Saliency`). Small passes keep each layer's activations in cache and below
  /// malloc's mmap threshold (so buffers are reused rather than faulted in afresh); the final Gemm still
  /// reads its weights once per few images.
  static let imagesPerPass = 4

  /// Images a forward pass runs together for inputs of `plane` pixels: about 64 x 64 x 16 input pixels, and no
  /// more than an even share of the batch per thread. One image at 224 x 224, whose activations already fill the
  /// caches; 16 at 64 x 64, where each layer's calls are short (EfficientNet-Lite0 on one thread, one run each:
  /// 580, 676 and 700 images/s in passes of 1, 4 and 16 at 64 px; 93 and 86 in passes of 1 and 4 at 224 px).
  static func imagesPerPass(plane: Int, batch: Int, threads: Int) -> Int {
    let share = (batch + max(1, threads) - 1) / max(1, threads)
    return max(1, min(16, passPixels / max(1, plane), share))
  }

  private static let passPixels = 64 * 64 * 16

  /// Sets the number of threads OpenBLAS uses inside each matrix product. A process-wide setting: call it
  /// once, from the executable.
  public static func setBLASThreads(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }

  /// The plan for `requested` values with `fusion`, made once per distinct request (folding BatchNormalization
  /// copies weights, so tapes recorded piece by piece must not re-plan each time).
  func plan(for requested: [String], fusion: Plan.Fusion = .all) throws -> Plan {
    let key = PlanKey(requested: requested, fusion: fusion)
    lock.lock()
    defer { lock.unlock() }
    if let plan = plans[key] { return plan }
    let plan = try Plan(graph: graph, requested: requested, fusion: fusion)
    plans[key] = plan
    return plan
  }

  private struct PlanKey: Hashable {
    let requested: [String]
    let fusion: Plan.Fusion
  }

  /// Cuts the batch into passes of `perPass` images, shares them round-robin between `threads` workers and
  /// stacks the results in batch order.
  private func runInPieces(
    _ plan: Plan, feeds: [String: Tensor], batch: Int, perPass: Int, threads: Int
  ) throws -> [String: Tensor] {
    let pieces = stride(from: 0, to: batch, by: perPass).map { $0..<min($0 + perPass, batch) }
    let workers = max(1, min(threads, pieces.count))
    let results = ResultBox(count: pieces.count)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      for index in stride(from: worker, to: pieces.count, by: workers) {
        results.store(index, Result { try execute(plan, feeds: feeds.mapValues { $0.slice(batch: pieces[index]) }) })
      }
    }
    let parts = try results.values.map { try $0!.get() }
    return Dictionary(
      uniqueKeysWithValues: plan.outputSlots.keys.map { name in
        let constant = graph.constants.floats[name]
        return (name, constant ?? Tensor.concatenate(batches: parts.map { $0[name]! }))
      })
  }

  private func execute(_ plan: Plan, feeds: [String: Tensor]) throws -> [String: Tensor] {
    let inputs = Dictionary(uniqueKeysWithValues: plan.inputSlots.compactMap { name, slot in feeds[name].map { (slot, $0) } })
    let slots = try plan.runForward(inputs)
    return plan.outputSlots.mapValues { slots[$0]!.channelFirst }
  }
}

/// Per-worker results, written once each from concurrent workers.
private final class ResultBox: @unchecked Sendable {
  private let lock = NSLock()
  private(set) var values: [Result<[String: Tensor], Error>?]
  init(count: Int) { values = Array(repeating: nil, count: count) }
  func store(_ index: Int, _ value: Result<[String: Tensor], Error>) {
    lock.lock()
    values[index] = value
    lock.unlock()
  }
}

/// Runs one operation on float32 operands (the kernels' own `TensorOf<Float>` shares the same storage).
func apply(_ op: Operation, _ x: [Tensor]) throws -> Tensor {
  Tensor(try apply(op, x.map { TensorOf<Float>($0) }))
}

/// Runs one operation on its run-time operands, NCHW, in either precision. Float32 depthwise convolutions and
/// expand+depthwise pairs go through the channel-last kernels on converted values, other float32 convolutions through
/// the NCHW sgemm kernels (a forward pass reaches these only for grouped convolutions); float64 ones through the
/// im2col and gemm path.
func apply<T: NetworkScalar>(_ op: Operation, _ x: [TensorOf<T>]) throws -> TensorOf<T> {
  switch op {
  case .conv(let spec):
    if T.self == Float.self {
      if spec.isDepthwise { return TensorOf(try throughChannelLast(op, Tensor(x[0]))) }
      return TensorOf(try convolve(Tensor(x[0]), spec))
    }
    return try convolve(x[0], spec)
  case .expandDepthwise(let expand, let depthwise):
    if T.self == Float.self { return TensorOf(try throughChannelLast(op, Tensor(x[0]))) }
    return try convolve(try convolve(x[0], expand), depthwise)
  case .batchNorm(let scale, let shift): return try batchNorm(x[0], scale: scale, shift: shift)
  case .activation(let activation): return activate(x[0], activation)
  case .sigmoid: return sigmoid(x[0])
  case .add: return try binary(x[0], x[1], +)
  case .sub: return try binary(x[0], x[1], -)
  case .mul: return try binary(x[0], x[1], *)
  case .div: return try binary(x[0], x[1], /)
  case .concat(let axis): return try concat(x, axis: axis)
  case .maxPool(let window): return try pool(x[0], window, average: false)
  case .averagePool(let window, let include): return try pool(x[0], window, average: true, countIncludePad: include)
  case .globalAveragePool: return try globalAveragePool(x[0])
  case .flatten(let axis): return try flatten(x[0], axis: axis)
  case .reshape(let shape, let allowZero): return try reshape(x[0], to: shape, allowZero: allowZero)
  case .gemm(let alpha, let beta, let transA, let transB):
    return try gemm(x, alpha: alpha, beta: beta, transA: transA, transB: transB)
  case .matMul: return try matMul(x[0], x[1])
  case .identity: return x[0]
  }
}
