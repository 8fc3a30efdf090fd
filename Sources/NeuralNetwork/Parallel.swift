import Dispatch
import DenseLinearAlgebra

/// Splits element-wise work over the cores. Only used for work whose result does not depend on
/// how it is split (every element is computed independently), so results are bit-identical for
/// any thread count; reductions are done per row and summed in row order by the caller.
enum Parallel {
    /// Calls `body` on `threads` (or fewer) contiguous, disjoint ranges covering 0..<count, each at
    /// least `grain` long; inline when the work is too small to pay for a thread hand-off.
    @inline(__always)
    static func forEachRange(count: Int, threads: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(max(threads, 1), count / max(grain, 1))
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body((count * c / chunks)..<(count * (c + 1) / chunks))
        }
    }

    /// Like `forEachRange`, also passing the index of the chunk (0 ..< threads), e.g. to pick a
    /// per-thread scratch buffer.
    @inline(__always)
    static func forEachChunk(count: Int, threads: Int, grain: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = min(max(threads, 1), count / max(grain, 1))
        if chunks <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body(c, (count * c / chunks)..<(count * (c + 1) / chunks))
        }
    }

    /// Element-wise work below about this many elements runs on one thread: a hand-off costs a few
    /// microseconds, which is what ~30k simple element operations cost.
    static let elementGrain = 32_768
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
