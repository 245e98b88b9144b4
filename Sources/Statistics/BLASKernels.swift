import COpenBLAS
import Foundation

/// OpenBLAS's kernel set for this CPU, and the repair of its fallback on CPUs newer than the library.
///
/// A DYNAMIC_ARCH OpenBLAS picks its kernels by CPU model when it loads. OpenBLAS 0.3.21 (Debian 12) does not know
/// the models released after it (Sapphire Rapids, for one) and falls back to its SSE3 "Prescott" kernels: sgemm
/// 1024^3 on one thread of this machine's Xeon ran at 33 GFLOP/s on them and at 158 on the AVX-512 (Cooperlake)
/// ones. `selectForThisCPU()` asks OpenBLAS to choose again, by name, the newest kernel set whose instructions the
/// CPU and kernel enable (from /proc/cpuinfo), exactly as `OPENBLAS_CORETYPE` would at start-up.
public enum BLASKernels {
  /// The kernel set OpenBLAS runs ("Prescott", "Haswell", "SkylakeX", ...).
  public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

  /// Replaces the Prescott fallback by the newest kernel set this CPU supports; returns the set then in use.
  ///
  /// Does nothing when OpenBLAS recognised the CPU, when the user chose a set with `OPENBLAS_CORETYPE`, when the
  /// library has no run-time kernel choice, or when the CPU has neither AVX-512 nor AVX2 with FMA. Runs once per
  /// process; later calls only return the name. A process-wide choice, made by executables and plugins at load
  /// (the embedder plugin does), before other threads use BLAS: the kernel table is swapped in place, and results
  /// of iterative fits move in their last digits with the kernels (DefocusWeightsTests' retraining objective moved
  /// by 1.3e-4 of itself), so libraries do not make it behind their callers' backs.
  @discardableResult
  public static func selectForThisCPU() -> String {
    _ = selection
    return coreName
  }

  private static let selection: Void = {
    guard getenv("OPENBLAS_CORETYPE") == nil, coreName == "Prescott", let core = bestCore(flags: cpuFlags()),
      let handle = openBLASHandle(),
      let quit = dlsym(handle, "gotoblas_dynamic_quit"), let initialise = dlsym(handle, "gotoblas_dynamic_init")
    else { return }
    typealias Hook = @convention(c) () -> Void
    setenv("OPENBLAS_CORETYPE", core, 1)
    unsafeBitCast(quit, to: Hook.self)()
    unsafeBitCast(initialise, to: Hook.self)()
    unsetenv("OPENBLAS_CORETYPE")
  }()

  /// The loaded OpenBLAS, by its soname first: a plugin loaded with RTLD_LOCAL (ctypes, the host's workers) keeps
  /// its libraries out of the process's global scope, where `dlopen(nil)` looks.
  private static func openBLASHandle() -> UnsafeMutableRawPointer? {
    for name in ["libopenblas.so.0", "libopenblasp.so.0", "libopenblas.so"] {
      if let handle = dlopen(name, RTLD_NOW | RTLD_NOLOAD) { return handle }
    }
    return dlopen(nil, RTLD_NOW)
  }

  /// The OpenBLAS 0.3.21 name of the newest x86-64 kernel set whose instructions `flags` (of /proc/cpuinfo) has.
  static func bestCore(flags: Set<Substring>) -> String? {
    let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy { flags.contains($0[...]) }
    if avx512 { return flags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX" }
    if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
    return nil
  }

  /// The flags of the first processor in /proc/cpuinfo (empty where there is none). Read line by line: procfs files
  /// report a size of 0, so whole-file reads come back empty.
  private static func cpuFlags() -> Set<Substring> {
    guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    while getline(&line, &capacity, file) > 0, let line {
      let text = String(cString: line)
      guard text.hasPrefix("flags"), let colon = text.firstIndex(of: ":") else { continue }
      return Set(text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" }))
    }
    return []
  }
}
