import NumericalFoundations

/// Runs `body` with OpenBLAS set to `threads` threads and puts the previous count back afterwards:
/// the count is process-wide, and other libraries (DMD, tests) must find it as they left it.
@inline(__always)
func withBLASThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
    let previous = BLASThreads.current
    if previous != threads { BLASThreads.set(threads) }
    defer { if previous != threads { BLASThreads.set(previous) } }
    return try body()
}
