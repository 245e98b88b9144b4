import CConfoundPlugin
import ConfoundProtocol
import JSONRPC

#if canImport(Glibc)
  import Glibc
#endif

/// Turns a Swift plugin type into the C vtable of Protocol/confound_plugin.h.
///
/// A plugin target exports the one symbol the host looks for:
/// ```swift
/// @_cdecl("confound_plugin_entry")
/// public func confoundPluginEntry(_ hostABI: UInt32) -> UnsafePointer<cf_plugin>? {
///   PluginExport.entry(MyFocus.self, hostABI: hostABI)
/// }
/// ```
/// The instance is created once per process; results are allocated here and released by `free_result`, so the
/// host never frees memory it did not allocate.
public enum PluginExport {
  private static let lock = NSLockLite()
  nonisolated(unsafe) private static var exported: UnsafeMutablePointer<cf_plugin>?

  public static func entry<P: ConfoundPlugin>(_ type: P.Type, hostABI: UInt32) -> UnsafePointer<cf_plugin>? {
    lock.locked {
      if let exported { return UnsafePointer(exported) }
      guard hostABI >= CONFOUND_ABI_VERSION else {
        writeStderr("\(P.manifest.id): this plugin needs ABI \(CONFOUND_ABI_VERSION); the host offers \(hostABI)\n")
        return nil
      }
      let instance: P
      do {
        instance = try P()
      } catch {
        writeStderr("\(P.manifest.id): failed to initialise: \(error)\n")
        return nil
      }
      var manifest = P.manifest
      manifest.abiVersion = Int(CONFOUND_ABI_VERSION)
      let json = (try? JSONCodec.encode(manifest)).map(JSONWriter.string) ?? "{}"
      let vtable = UnsafeMutablePointer<cf_plugin>.allocate(capacity: 1)
      vtable.initialize(
        to: cf_plugin(
          abi_version: CONFOUND_ABI_VERSION,
          struct_size: UInt32(MemoryLayout<cf_plugin>.size),
          manifest_json: UnsafePointer(strdup(json)),
          context: Unmanaged.passRetained(Dispatcher(instance)).toOpaque(),
          invoke: { context, call, out in
            guard let context, let call, let out else { return 1 }
            let dispatcher = Unmanaged<Dispatcher>.fromOpaque(context).takeUnretainedValue()
            out.pointee = ResultStore.make(dispatcher.invoke(call))
            return 0
          },
          free_result: { _, result in
            if let result { ResultStore.release(result) }
          },
          unload: { context in
            if let context { Unmanaged<Dispatcher>.fromOpaque(context).release() }
          }))
      exported = vtable
      return UnsafePointer(vtable)
    }
  }
}

/// A call's outcome before it is laid out as a `cf_result`.
struct CallOutcome {
  var status: cf_status
  var json: JSONValue
  var outputs: [Tensor]
}

/// Holds the plugin instance and routes each call to the operation of its kind.
final class Dispatcher {
  let plugin: ConfoundPlugin
  init(_ plugin: ConfoundPlugin) { self.plugin = plugin }

  func invoke(_ call: UnsafePointer<cf_call>) -> CallOutcome {
    do {
      let method = call.pointee.method.map { String(cString: $0) } ?? ""
      let paramsText = call.pointee.params_json.map { String(cString: $0) } ?? "{}"
      let params = try JSONParser.parse(Array(paramsText.utf8))
      let context = CallContext(params: params, host: call.pointee.host)
      var inputs: [String: TensorView] = [:]
      for i in 0..<Int(call.pointee.n_inputs) {
        let view = try TensorView(call.pointee.inputs[i])
        inputs[view.name] = view
      }
      return try route(method: method, inputs: inputs, context: context)
    } catch let error as PluginError {
      return CallOutcome(status: error.status, json: ["message": .string(error.description)], outputs: [])
    } catch {
      return CallOutcome(status: CF_ERROR_PLUGIN, json: ["message": .string("\(error)")], outputs: [])
    }
  }

  private func route(method: String, inputs: [String: TensorView], context: CallContext) throws -> CallOutcome {
    let kind = type(of: plugin).manifest.kind
    guard method == kind.operation else {
      throw PluginError.invalidParams("method \(method) is not offered; a \(kind.rawValue) plugin runs \(kind.operation)")
    }
    switch plugin {
    case let focus as FocusPlugin:
      return KindCodec.encode(try focus.scoreFocus(image: try KindCodec.image(inputs, context), context: context))
    case let segmenter as SegmenterPlugin:
      let image = try KindCodec.image(inputs, context)
      return KindCodec.encode(try segmenter.segment(image: image, context: context), height: image.height, width: image.width)
    case let embedder as EmbedderPlugin:
      guard let crops = inputs["crops"], crops.dtype == .float32, crops.shape.count == 4 else {
        throw PluginError.invalidParams("an embedder needs input \"crops\": float32 [N, C, H, W]")
      }
      return KindCodec.encode(try embedder.embed(crops: crops, context: context))
    case let probe as ProbePlugin:
      let result = try probe.fit(features: try KindCodec.features(inputs, context), context: context)
      return CallOutcome(status: CF_OK, json: result.summary, outputs: result.outputs)
    case let explainer as ExplainerPlugin:
      let result = try explainer.explain(inputs: inputs, context: context)
      return CallOutcome(status: CF_OK, json: result.summary, outputs: result.outputs)
    default:
      throw PluginError.failed("\(type(of: plugin)) declares kind \(kind.rawValue) but does not conform to its protocol")
    }
  }
}

/// A minimal mutex over pthread, so the SDK does not need Foundation.
final class NSLockLite: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  init() { pthread_mutex_init(&mutex, nil) }
  func locked<T>(_ body: () throws -> T) rethrows -> T {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    return try body()
  }
}

func writeStderr(_ text: String) {
  var bytes = Array(text.utf8)
  _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}
