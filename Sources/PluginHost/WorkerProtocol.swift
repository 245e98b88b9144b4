import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC

/// The JSON-RPC dialect between the host and a worker process (Protocol/README.md, "Plugin isolation").
///
/// worker -> host: notification `worker/ready {manifest}` or `worker/loadFailed {reason}` once at start;
/// `worker/progress {id, fraction, message}` and `worker/log {id, level, message}` during a call, `worker/invoking {id}` when the
/// plugin is handed the call; the response
/// to each `worker/call`. host -> worker: request `worker/call {method, params, inputs, outputDir}` and
/// notification `worker/cancel {id}`. Tensors never travel in JSON: inputs are files the worker reads, outputs
/// are .npy files it writes into `outputDir`.
enum WorkerMethod {
  static let ready = "worker/ready"
  static let loadFailed = "worker/loadFailed"
  static let progress = "worker/progress"
  static let log = "worker/log"
  /// Sent just before the plugin's `invoke`: the inputs were read, what happens next is the plugin's.
  static let invoking = "worker/invoking"
  static let call = "worker/call"
  static let cancel = "worker/cancel"
}

/// One call as the host sends it to a worker.
struct WorkerCall: Codable {
  var method: String
  var params: JSONValue
  var inputs: [InputRef]
  var outputDir: String
}

/// Reads a call's inputs: image files stacked into one float32 [C, H, W] array, or .npy arrays as they are.
enum InputLoader {
  /// An input array, and for integer images the largest value their storage allows (255, 65535): what
  /// CellProfiler divides by to put intensities in [0, 1]. Plugins get it as `context.image_scale`.
  struct Loaded {
    var array: NPYArray
    var integerScale: Float?
  }

  /// Reads one input; every failure is a `badInputFile` error naming the file (a reader's error that is not an
  /// `ImageError`, such as a failed read, included): nothing that goes wrong here is the plugin's doing.
  static func load(_ ref: InputRef) throws -> Loaded {
    do {
      return try read(ref)
    } catch let error as ResponseError {
      throw error
    } catch let error as ImageError {
      throw badFile(error, input: ref.name)
    } catch {
      let file = ref.npy ?? ref.files?.first ?? ref.name
      throw ResponseError(.badInputFile, "input \(ref.name): \(file) could not be read (\(error)); the plugin was not called",
                          data: ["file": .string(file), "input": .string(ref.name)])
    }
  }

  private static func read(_ ref: InputRef) throws -> Loaded {
    if let npy = ref.npy { return Loaded(array: try NPYArray.read(URL(fileURLWithPath: npy)), integerScale: nil) }
    guard let files = ref.files, !files.isEmpty else {
      throw ResponseError(.invalidParams, "input \(ref.name) needs \"files\" (images, one per channel) or \"npy\"",
                          data: ["field": .string("inputs")])
    }
    var pixels: [Float] = []
    var size: (h: Int, w: Int)?
    var channels = 0
    var scale: Float? = nil
    for file in files {
      let image = try readImage(URL(fileURLWithPath: file))
      // Each file is held to the limit by its reader before it allocates; the site's stack of them here.
      try ImageLimits.check(samples: pixels.count + image.pixels.count,
                            what: "\(channels + image.channels) channels of \(image.width)x\(image.height) over its files", path: file)
      if let size, size != (image.height, image.width) {
        throw ResponseError(.badInputFile, "\(file) is \(image.width)x\(image.height) but \(files[0]) is \(size.w)x\(size.h): the channels of one site must have one size",
                            data: ["file": .string(file)])
      }
      size = (image.height, image.width)
      channels += image.channels
      pixels.append(contentsOf: image.pixels)
      if image.sampleFormat != .floatingPoint { scale = max(scale ?? 0, image.nominalRange.upperBound) }
    }
    return Loaded(array: NPYArray(shape: [channels, size!.h, size!.w], values: pixels), integerScale: scale)
  }

  /// The error for an input file a reader refused: the file's fault, said so, with what to do about it.
  static func badFile(_ error: ImageError, input: String) -> ResponseError {
    ResponseError(.badInputFile, "input \(input): \(error.description); the plugin was not called",
                  data: ["file": .string(error.path), "input": .string(input)])
  }
}
