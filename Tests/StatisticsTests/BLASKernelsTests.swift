import Foundation
import XCTest

@testable import Statistics

/// OpenBLAS 0.3.21 falls back to its SSE3 kernels on CPUs newer than itself; `BLASKernels` names the set to use
/// instead from the CPU's flags. (The switch itself is not made here: it would change the kernels of every test
/// after this one in the bundle; bench_embed.py prints the set the embedder plugin left OpenBLAS on.)
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
}
