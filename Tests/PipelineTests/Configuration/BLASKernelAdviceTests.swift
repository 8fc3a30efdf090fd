import Foundation
import XCTest
@testable import Pipeline

/// The OpenBLAS kernel advice: which kernel a CPU's flags call for, and when a stage says so.
final class BLASKernelAdviceTests: XCTestCase {
    let avx512: Set<String> = ["fma", "avx", "avx2", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    func testRecommendedKernelFollowsTheFlags() {
        XCTAssertEqual(BLASKernelAdvice.recommendedCoreType(cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASKernelAdvice.recommendedCoreType(cpuFlags: ["avx", "avx2", "fma", "avx512f"]), "Haswell",
                       "AVX-512 foundation alone is not what the SkylakeX kernels need")
        XCTAssertNil(BLASKernelAdvice.recommendedCoreType(cpuFlags: ["sse3", "avx"]))
    }

    func testAdviceOnlyForAFallBackTheUserDidNotChoose() {
        let advice = BLASKernelAdvice.advice(coreName: "Prescott", cpuFlags: avx512, environment: [:])
        XCTAssertTrue(advice?.contains("OPENBLAS_CORETYPE=SkylakeX") == true, advice ?? "nil")
        XCTAssertNil(BLASKernelAdvice.advice(coreName: "SkylakeX", cpuFlags: avx512, environment: [:]), "a good choice stands")
        XCTAssertNil(BLASKernelAdvice.advice(coreName: "Prescott", cpuFlags: avx512, environment: ["OPENBLAS_CORETYPE": "Prescott"]),
                     "the user's choice stands")
        XCTAssertNil(BLASKernelAdvice.advice(coreName: "Prescott", cpuFlags: ["sse3"], environment: [:]), "nothing better to run")
    }

    /// A stage restarts itself once, with the recommended kernel, and only when nobody chose one.
    func testRestartOnlyOnceAndOnlyForAFallBack() {
        XCTAssertEqual(BLASKernelAdvice.restartCoreType(coreName: "Prescott", cpuFlags: avx512, environment: [:]), "SkylakeX")
        XCTAssertEqual(BLASKernelAdvice.restartCoreType(coreName: "Prescott", cpuFlags: ["avx2", "fma"], environment: [:]), "Haswell")
        XCTAssertNil(BLASKernelAdvice.restartCoreType(coreName: "Prescott", cpuFlags: avx512,
                                                      environment: [BLASKernelAdvice.reexecMarker: "SkylakeX"]),
                     "the restarted process never restarts again, even if OpenBLAS ignored the kernel")
        XCTAssertNil(BLASKernelAdvice.restartCoreType(coreName: "Prescott", cpuFlags: avx512, environment: ["OPENBLAS_CORETYPE": "Prescott"]))
        XCTAssertNil(BLASKernelAdvice.restartCoreType(coreName: "Cooperlake", cpuFlags: avx512, environment: [:]))
        XCTAssertNil(BLASKernelAdvice.restartCoreType(coreName: "Prescott", cpuFlags: ["sse3"], environment: [:]))
    }

    func testCPUFlagsFromCpuinfo() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cpuinfo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu sse3 avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu\n"
            .write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(BLASKernelAdvice.cpuFlags(cpuinfo: file.path), ["fpu", "sse3", "avx2", "fma"])
        XCTAssertEqual(BLASKernelAdvice.cpuFlags(cpuinfo: "/nonexistent/cpuinfo"), [])
    }
}
