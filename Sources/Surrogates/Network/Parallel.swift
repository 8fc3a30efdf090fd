import NumericalFoundations

/// The network's name for `ParallelWork`'s static split (the package's one implementation, in the
/// Parallelism library): the trainer, the network and Adam call `Parallel.forEachRange` and
/// `Parallel.forEachChunk`. Every element is computed independently, so results are bit-identical
/// for any thread count; reductions are done per row and summed in row order by the caller.
enum Parallel {
    @inline(__always)
    static func forEachRange(count: Int, threads: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        ParallelWork.forEachRange(count: count, threads: threads, grain: grain, body)
    }

    @inline(__always)
    static func forEachChunk(count: Int, threads: Int, grain: Int, _ body: (Int, Range<Int>) -> Void) {
        ParallelWork.forEachChunk(count: count, threads: threads, grain: grain, body)
    }

    static var elementGrain: Int { ParallelWork.elementGrain }
}

/// Runs `body` with OpenBLAS set to `threads` threads and puts the previous count back afterwards:
/// the count is process-wide, and other libraries (DMD, tests) must find it as they left it.
@inline(__always)
func withBLASThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
    let previous = BLASThreads.current
    if previous != threads { BLASThreads.set(threads) }
    defer { if previous != threads { BLASThreads.set(previous) } }
    return try body()
}
