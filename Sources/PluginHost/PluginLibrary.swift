import CConfoundPlugin
import ConfoundImaging
import ConfoundProtocol
import Foundation
import JSONRPC

/// One plugin `.so` opened in this process: the dlopen handle, its vtable and its validated manifest.
///
/// The host itself never opens plugins in its own process (a crash there would take the host down): worker
/// processes do, through this type. `confound plugins check` and the benchmarks use it directly too.
public final class PluginLibrary {
  public let path: String
  public let manifest: PluginManifest
  private let handle: UnsafeMutableRawPointer
  private let vtable: UnsafePointer<cf_plugin>

  /// The smallest `cf_plugin` this host can use: everything up to and including `free_result`.
  static let minimumVTableSize = MemoryLayout<cf_plugin>.offset(of: \cf_plugin.unload)!
  /// A `cf_plugin` that also has `unload`.
  static let vtableSizeWithUnload = minimumVTableSize + MemoryLayout<UnsafeRawPointer>.size
  /// The smallest `cf_result` this host reads: up to and including `n_outputs`.
  static let minimumResultSize = MemoryLayout<cf_result>.offset(of: \cf_result.n_outputs)! + MemoryLayout<UInt32>.size
  /// The smallest output `cf_tensor` this host reads: all of it, up to and including `nbytes`.
  static let minimumTensorSize = MemoryLayout<cf_tensor>.offset(of: \cf_tensor.nbytes)! + MemoryLayout<UInt64>.size

  /// Opens and checks a plugin. Every failure is a `PluginLoadError` saying what is wrong and what to do.
  public init(path: String) throws {
    self.path = path
    guard FileManager.default.fileExists(atPath: path) else {
      throw PluginLoadError(path: path, reason: "no such file: check the path or --plugin-dir")
    }
    // A library is never dlclose'd, even when refused: a Swift library registers type metadata and conformance
    // records with the runtime when it loads, and unmapping it leaves those dangling.
    guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
      let reason = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
      throw PluginLoadError(path: path, reason: "not a loadable shared object for this machine (\(reason)): rebuild it for this architecture and make sure its libraries are installed")
    }
    guard let symbol = dlsym(handle, CONFOUND_PLUGIN_ENTRY_SYMBOL) else {
      throw PluginLoadError(path: path, reason: "not a Confound plugin: it does not export \(CONFOUND_PLUGIN_ENTRY_SYMBOL) (see Protocol/confound_plugin.h)")
    }
    let entry = unsafeBitCast(symbol, to: cf_plugin_entry_fn.self)
    guard let vtable = entry(CONFOUND_ABI_VERSION) else {
      throw PluginLoadError(path: path, reason: "its entry point returned NULL: the plugin refused this host (ABI \(CONFOUND_ABI_VERSION)) or failed to initialise; see its message on stderr")
    }
    let v = vtable.pointee
    guard v.abi_version >= 1 else {
      throw PluginLoadError(path: path, reason: "its cf_plugin has abi_version \(v.abi_version), which is not an ABI version: set it to CONFOUND_ABI_VERSION")
    }
    guard v.abi_version <= CONFOUND_ABI_VERSION else {
      throw PluginLoadError(path: path, reason: "ABI version \(v.abi_version) is too new for this host (supports 1...\(CONFOUND_ABI_VERSION)): upgrade Confound or rebuild the plugin against this host's confound_plugin.h")
    }
    // Members beyond what struct_size covers are not the plugin's: they are not read at all.
    guard Int(v.struct_size) >= Self.minimumVTableSize else {
      throw PluginLoadError(path: path, reason: "its cf_plugin has struct_size \(v.struct_size), smaller than the \(Self.minimumVTableSize) bytes up to free_result that every host reads: set struct_size = sizeof(cf_plugin)")
    }
    guard v.invoke != nil, v.free_result != nil, let manifestText = v.manifest_json else {
      throw PluginLoadError(path: path, reason: "its cf_plugin is incomplete (invoke, free_result and manifest_json must be set)")
    }
    do {
      manifest = try ManifestValidation.validate(json: String(cString: manifestText), hostABI: Int(CONFOUND_ABI_VERSION))
    } catch let error as ManifestError {
      throw PluginLoadError(path: path, reason: error.description)
    }
    if manifest.abiVersion != Int(v.abi_version) {
      throw PluginLoadError(path: path, reason: "manifest abi_version \(manifest.abiVersion) differs from the vtable's \(v.abi_version): make them agree")
    }
    self.handle = handle
    self.vtable = vtable
  }

  /// What a call returned, copied out of plugin memory (the plugin's result is freed before this returns).
  public struct CallResult {
    public var status: cf_status
    public var json: JSONValue
    public var outputs: [(name: String, array: NPYArray)]
  }

  /// Runs one call in this process. `host` supplies cancellation, progress and logs.
  public func invoke(method: String, params: JSONValue, inputs: [(name: String, array: NPYArray)], host: HostServices) throws -> CallResult {
    let paramsText = JSONWriter.string(params)
    return try withCTensors(inputs) { tensors in
      try host.withHostAPI { api in
        try method.withCString { methodC in
          try paramsText.withCString { paramsC in
            var call = cf_call(
              struct_size: UInt32(MemoryLayout<cf_call>.size), n_inputs: UInt32(tensors.count), method: methodC,
              params_json: paramsC, inputs: tensors.baseAddress, host: api)
            var out: UnsafeMutablePointer<cf_result>?
            let rc = vtable.pointee.invoke!(vtable.pointee.context, &call, &out)
            guard rc == 0, let result = out else {
              throw PluginCallError.noResult("plugin \(manifest.id) returned \(rc) without a result")
            }
            defer { vtable.pointee.free_result!(vtable.pointee.context, result) }
            return try Self.copy(result.pointee, plugin: manifest.id)
          }
        }
      }
    }
  }

  private static func copy(_ r: cf_result, plugin: String) throws -> CallResult {
    guard Int(r.struct_size) >= minimumResultSize else {
      throw PluginCallError.noResult("plugin \(plugin) returned a cf_result with struct_size \(r.struct_size), smaller than the \(minimumResultSize) bytes the host reads: set struct_size = sizeof(cf_result)")
    }
    guard r.n_outputs == 0 || r.outputs != nil else {
      throw PluginCallError.noResult("plugin \(plugin) returned n_outputs \(r.n_outputs) but no outputs array")
    }
    let text = r.json.map { String(cString: $0) } ?? "null"
    let json: JSONValue
    do { json = try JSONParser.parse(Array(text.utf8)) } catch {
      throw PluginCallError.noResult("plugin \(plugin) returned invalid JSON (\(error))")
    }
    var outputs: [(name: String, array: NPYArray)] = []
    for i in 0..<Int(r.n_outputs) {
      let t = r.outputs[i]
      guard Int(t.struct_size) >= minimumTensorSize else {
        throw PluginCallError.noResult("plugin \(plugin) returned output tensor \(i) with struct_size \(t.struct_size), smaller than the \(minimumTensorSize) bytes of a cf_tensor: set struct_size = sizeof(cf_tensor)")
      }
      guard t.ndim <= UInt32(CF_MAX_DIMS) else {
        throw PluginCallError.noResult("plugin \(plugin) returned output tensor \(i) with \(t.ndim) dimensions (at most \(CF_MAX_DIMS))")
      }
      guard let dtype = NPYDType(cfDType: t.dtype) else { throw PluginCallError.noResult("plugin \(plugin) returned dtype \(t.dtype)") }
      let ndim = Int(min(t.ndim, UInt32(CF_MAX_DIMS)))
      let shape = withUnsafeBytes(of: t.shape) { raw in (0..<ndim).map { Int(raw.load(fromByteOffset: $0 * 8, as: Int64.self)) } }
      guard let count = ImageLimits.product(shape + [dtype.size]), UInt64(count) == t.nbytes, count == 0 || t.data != nil else {
        throw PluginCallError.noResult("plugin \(plugin) returned tensor \(i) with shape \(shape) but \(t.nbytes) bytes")
      }
      let bytes = count == 0 ? [] : Array(UnsafeRawBufferPointer(start: t.data, count: count))
      let name = t.name.map { String(cString: $0) } ?? "output\(i)"
      outputs.append((name, NPYArray(shape: shape, dtype: dtype, data: bytes)))
    }
    return CallResult(status: cf_status(rawValue: UInt32(bitPattern: r.status)), json: json, outputs: outputs)
  }

  deinit {
    // The library stays mapped: Swift plugins register metadata that must outlive the handle.
    if Int(vtable.pointee.struct_size) >= Self.vtableSizeWithUnload, let unload = vtable.pointee.unload {
      unload(vtable.pointee.context)
    }
  }
}

/// A call that produced no usable result.
public enum PluginCallError: Error, CustomStringConvertible {
  case noResult(String)
  public var description: String {
    switch self {
    case .noResult(let m): return m
    }
  }
}

extension NPYDType {
  init?(cfDType: UInt32) {
    switch cfDType {
    case CF_DTYPE_U8.rawValue: self = .uint8
    case CF_DTYPE_U16.rawValue: self = .uint16
    case CF_DTYPE_U32.rawValue: self = .uint32
    case CF_DTYPE_I32.rawValue: self = .int32
    case CF_DTYPE_I64.rawValue: self = .int64
    case CF_DTYPE_F32.rawValue: self = .float32
    case CF_DTYPE_F64.rawValue: self = .float64
    default: return nil
    }
  }

  var cfDType: cf_dtype? {
    switch self {
    case .uint8: return CF_DTYPE_U8
    case .uint16: return CF_DTYPE_U16
    case .uint32: return CF_DTYPE_U32
    case .int32: return CF_DTYPE_I32
    case .int64: return CF_DTYPE_I64
    case .float32: return CF_DTYPE_F32
    case .float64: return CF_DTYPE_F64
    case .bool: return nil
    }
  }
}

/// Lays NPY arrays out as `cf_tensor`s pointing into their bytes, for the duration of `body`.
func withCTensors<R>(_ inputs: [(name: String, array: NPYArray)], _ body: (UnsafeBufferPointer<cf_tensor>) throws -> R) throws -> R {
  var names = inputs.map { strdup($0.name)! }
  defer { names.forEach { free($0) } }
  var datas: [UnsafeMutableRawPointer] = []
  defer { datas.forEach { free($0) } }
  var tensors: [cf_tensor] = []
  for (i, input) in inputs.enumerated() {
    guard let dtype = input.array.dtype.cfDType else { throw PluginCallError.noResult("input \(input.name): boolean arrays are not passed to plugins") }
    guard input.array.shape.count <= Int(CF_MAX_DIMS) else { throw PluginCallError.noResult("input \(input.name) has more than \(CF_MAX_DIMS) dimensions") }
    let data = malloc(max(input.array.data.count, 1))!
    input.array.data.withUnsafeBytes { if $0.count > 0 { data.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    datas.append(data)
    var t = cf_tensor()
    t.struct_size = UInt32(MemoryLayout<cf_tensor>.size)
    t.dtype = dtype.rawValue
    t.ndim = UInt32(input.array.shape.count)
    withUnsafeMutableBytes(of: &t.shape) { raw in
      for (d, extent) in input.array.shape.enumerated() { raw.storeBytes(of: Int64(extent), toByteOffset: d * 8, as: Int64.self) }
    }
    t.name = UnsafePointer(names[i])
    t.data = data
    t.nbytes = UInt64(input.array.data.count)
    tensors.append(t)
  }
  _ = names.count
  return try tensors.withUnsafeBufferPointer(body)
}
