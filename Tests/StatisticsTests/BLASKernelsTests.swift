import Foundation
import XCTest

@testable import Statistics

/// OpenBLAS 0.3.21 falls back to its SSE3 kernels on CPUs newer than itself; `BLASKernels` names the set to use
/// instead from the CPU's flags, and on this machine leaves OpenBLAS on a set with at least AVX2 when the CPU has it.
final class BLASKernelsTests: XCTestCase {
  func testTheNewestKernelSetTheFlagsAllow() {
    let skylake: Set<Substring> = [
      "sse2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl",
    ]
    XCTAssertEqual(BLASKernels.bestCore(flags: skylake), "SkylakeX")
    XCTAssertEqual(BLASKernels.bestCore(flags: skylake.union(["avx512_bf16"])), "Cooperlake")
    // AVX-512 without VL (Knights Landing) is not enough for SkylakeX's kernels.
    XCTAssertEqual(BLASKernels.bestCore(flags: skylake.subtracting(["avx512vl"])), "Haswell")
    XCTAssertEqual(BLASKernels.bestCore(flags: ["sse2", "avx", "avx2", "fma"]), "Haswell")
    XCTAssertNil(BLASKernels.bestCore(flags: ["sse2", "avx", "avx2"]))
    XCTAssertNil(BLASKernels.bestCore(flags: []))
  }

  func testThisMachineDoesNotRunTheFallbackWhereItHasAVX2() throws {
    // Read to the end: procfs reports a size of 0.
    let data = FileHandle(forReadingAtPath: "/proc/cpuinfo")?.readDataToEndOfFile() ?? Data()
    let cpuinfo = String(decoding: data, as: UTF8.self)
    XCTAssertFalse(cpuinfo.isEmpty, "/proc/cpuinfo")
    guard let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
      flags.split(separator: " ").contains("avx2"), flags.split(separator: " ").contains("fma"),
      ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil
    else { throw XCTSkip("no AVX2 with FMA here, or OPENBLAS_CORETYPE chooses the kernels") }
    let name = BLASKernels.selectForThisCPU()
    XCTAssertNotEqual(name, "Prescott")
    XCTAssertEqual(name, BLASKernels.coreName)
  }
}
