import Foundation

/// Wall-clock seconds since an arbitrary origin, read from CLOCK_MONOTONIC: it never jumps when the
/// system time is set, so the difference of two readings is a duration.
///
/// The pipeline's one clock. It lives in ArrayFiles, the lowest library, because every library and
/// stage that times something already depends on it (and it keeps Configuration out of the domain
/// libraries). `@inlinable` so that the trainer's per-batch timing reads the clock without a
/// cross-module call, as its former `@inline(__always)` copy did.
@inlinable
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
