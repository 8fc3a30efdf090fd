import NumericalFoundations
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS built with DYNAMIC_ARCH (Debian's) picks its kernels from the CPU's model number. On a
/// CPU it does not know — e.g. a virtual machine reporting "Intel(R) Xeon(R) Processor" — it falls back
/// to the generic Prescott (SSE3) kernels although the CPU may have AVX2 or AVX-512. Measured on such a
/// machine (2 cores, AVX-512): dgemm 2000³ at 12 GFLOPS with Prescott, 73 with SkylakeX (one thread);
/// the paper network's epoch 0.63 s → 0.20 s (docs/dmd-training.md, "OpenBLAS kernels"). The kernel is
/// chosen when the library loads, so only the environment (`OPENBLAS_CORETYPE`) can change it: every
/// stage that uses BLAS restarts itself once with the recommended kernel (`stageMain(usesBLAS:)`), and
/// prints the advice only if that was not possible.
public enum BLASKernelAdvice {
    /// OpenBLAS's names (lower-cased) of the x86 kernels older than AVX2, i.e. a fall-back on a modern CPU.
    static let preAVX2Cores: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine",
                                            "northwood", "banias", "athlon", "opteron", "barcelona", "bobcat", "sandybridge"]

    /// The OpenBLAS kernel family for a CPU with these /proc/cpuinfo flags: "SkylakeX" with the AVX-512
    /// subsets its kernels use, "Haswell" with AVX2 and FMA, nil otherwise (then OpenBLAS's own choice stands).
    public static func recommendedCoreType(cpuFlags flags: Set<String>) -> String? {
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// One line of advice when OpenBLAS runs a pre-AVX2 kernel on a CPU that has AVX2 or AVX-512 and the
    /// user has not chosen a kernel; nil otherwise.
    public static func advice(coreName: String, cpuFlags: Set<String>, environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, preAVX2Cores.contains(coreName.lowercased()),
              let better = recommendedCoreType(cpuFlags: cpuFlags) else { return nil }
        return "OpenBLAS runs its generic \(coreName) kernels on a CPU with \(better == "SkylakeX" ? "AVX-512" : "AVX2") "
            + "(it does not recognise this CPU model); matrix products run several times slower. "
            + "Set OPENBLAS_CORETYPE=\(better) (pipeline.sh does)."
    }

    /// The flags of the first processor in /proc/cpuinfo (empty where there is none).
    public static func cpuFlags(cpuinfo path: String = "/proc/cpuinfo") -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// The advice for this process (its OpenBLAS, CPU and environment).
    public static var current: String? {
        advice(coreName: BLASThreads.coreName, cpuFlags: cpuFlags(), environment: ProcessInfo.processInfo.environment)
    }

    /// Set in the environment of the re-executed process, so that it never re-executes itself again
    /// (e.g. if OpenBLAS ignored the requested kernel).
    public static let reexecMarker = "DMD_SURROGATE_BLAS_REEXEC"

    /// The kernel to restart with: the recommended one when OpenBLAS runs a pre-AVX2 kernel on a CPU it
    /// could serve better, the user chose none, and this process is not already the restarted one.
    public static func restartCoreType(coreName: String, cpuFlags: Set<String>, environment: [String: String]) -> String? {
        guard environment[reexecMarker] == nil, advice(coreName: coreName, cpuFlags: cpuFlags, environment: environment) != nil else {
            return nil
        }
        return recommendedCoreType(cpuFlags: cpuFlags)
    }

    /// Restarts this executable (execve of /proc/self/exe, same arguments) with the recommended
    /// OPENBLAS_CORETYPE when `restartCoreType` gives one. OpenBLAS picks its kernel when the library
    /// loads, before any Swift code runs, so only a new process image can change it; doing it here
    /// makes a run by hand as fast as one under pipeline.sh, and gives both the same kernel (hence the
    /// same bytes). Returns only when there is nothing to do or the exec failed (then the process goes on
    /// with OpenBLAS's own kernel and its environment as it was, so its children agree with it).
    public static func restartWithRecommendedKernelIfNeeded() {
        guard let core = restartCoreType(coreName: BLASThreads.coreName, cpuFlags: cpuFlags(),
                                         environment: ProcessInfo.processInfo.environment) else { return }
        FileHandle.standardError.write(Data(("note: OpenBLAS chose its generic \(BLASThreads.coreName) kernels on this CPU; "
                                             + "restarting with OPENBLAS_CORETYPE=\(core) (set OPENBLAS_CORETYPE to choose)\n").utf8))
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(reexecMarker, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        let reason = String(cString: strerror(errno))
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(reexecMarker)
        FileHandle.standardError.write(Data("note: cannot restart (\(reason)); going on with the \(BLASThreads.coreName) kernels\n".utf8))
    }
}
