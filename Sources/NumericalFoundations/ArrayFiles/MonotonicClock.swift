import Foundation

/// Wall-clock seconds since an arbitrary origin, read from CLOCK_MONOTONIC: it never jumps when the
/// system time is set, so the difference of two readings is a duration.
///
/// The pipeline's one clock. It lives in ArrayFiles, the lowest library, because every library and
/// stage that times something already depends on it (and it keeps Configuration out of the domain
/// libraries). `@inlinable` so that the trainer's per-batch timing reads the clock without a
/// cross-module call.
@inlinable
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// CPU seconds used by this process so far, all its threads together (CLOCK_PROCESS_CPUTIME_ID).
///
/// The acceleration study's time axis: on a shared machine the wall time of a training
/// depends on what else runs, its CPU time much less; with one OpenBLAS thread per run the two agree
/// on a quiet core. Work a run hands to other threads (DMD's concurrent layers) is counted too.
public func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
