import Foundation
import XCTest
import _TestSupport

/// A stage that uses BLAS restarts itself with the recommended OpenBLAS kernel when OpenBLAS fell back
/// to its generic one. A CPU where it does is simulated with a preloaded library whose
/// `openblas_get_corename` answers "Prescott" (the kernel OpenBLAS actually loads is not touched, and its
/// build string, printed by `train-dmd bench`, shows which one runs). Skipped without a C compiler, the
/// executables, or a CPU with AVX2 and FMA (nothing better to restart with).
final class BLASRestartTests: XCTestCase {
    func run(_ exe: URL, environment extra: [String: String]) throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        for key in ["OPENBLAS_CORETYPE", "DMD_SURROGATE_BLAS_REEXEC"] { environment.removeValue(forKey: key) }
        environment.merge(extra) { $1 }
        let child = try runChild(exe, ["bench", "--widths", "6,8,4", "--samples", "16", "--test-samples", "4", "--batches", "8",
                                       "--threads", "1", "--epochs", "1", "--gemm-order", "64", "--run-epochs", "1"],
                                 environment: environment, mergeOutput: true)
        return (child.status, child.output)
    }

    func testAFallBackKernelIsReplacedOnceUnlessChosen() throws {
        guard let bin = FaultTests.binFolder(), FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("train-dmd").path) else {
            throw XCTSkip("train-dmd is not built (swift build)")
        }
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ").map(String.init)) } ?? []
        guard flags.contains("avx2"), flags.contains("fma") else { throw XCTSkip("this CPU has no AVX2/FMA kernel to restart with") }
        let expected = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) ? "SkylakeX" : "Haswell"
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") else { throw XCTSkip("no C compiler for the stand-in library") }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("blas-restart-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("corename.c"), library = folder.appendingPathComponent("corename.so")
        try "char *openblas_get_corename(void) { return \"Prescott\"; }\n".write(to: source, atomically: true, encoding: .utf8)
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        cc.arguments = ["-shared", "-fPIC", "-o", library.path, source.path]
        try cc.run()
        cc.waitUntilExit()
        guard cc.terminationStatus == 0 else { throw XCTSkip("cc could not build the stand-in library") }
        let exe = bin.appendingPathComponent("train-dmd")

        let restarted = try run(exe, environment: ["LD_PRELOAD": library.path])
        XCTAssertEqual(restarted.status, 0, restarted.output)
        XCTAssertEqual(restarted.output.components(separatedBy: "restarting with OPENBLAS_CORETYPE=\(expected)").count, 2,
                       "exactly one restart: \(restarted.output)")
        XCTAssertTrue(restarted.output.contains("DYNAMIC_ARCH NO_AFFINITY \(expected) "), restarted.output)

        // The user's choice stands, and a restarted process never restarts again.
        let chosen = try run(exe, environment: ["LD_PRELOAD": library.path, "OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertFalse(chosen.output.contains("restarting"), chosen.output)
        XCTAssertTrue(chosen.output.contains(" Prescott "), chosen.output)
        let marked = try run(exe, environment: ["LD_PRELOAD": library.path, "DMD_SURROGATE_BLAS_REEXEC": expected])
        XCTAssertFalse(marked.output.contains("restarting"), marked.output)
    }
}
