import Foundation

/// CPU seconds used by every thread of this process so far: beside the wall time, a figure that
/// other programs sharing the cores disturb less (both DMD benchmarks report it).
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
