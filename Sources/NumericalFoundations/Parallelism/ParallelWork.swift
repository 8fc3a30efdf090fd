import Dispatch
import Foundation

/// The package's one way of running work on several cores, on top of `DispatchQueue.concurrentPerform`.
/// Two schedules, because the work comes in two kinds:
/// - **static ranges** (`forEachRange`, `forEachChunk`): element-wise loops of equal cost per
///   element, split once into contiguous ranges. The split depends only on `count`, `threads` and
///   `grain`, and every element is computed independently, so results are bit-identical for any
///   thread count (reductions are done per row and summed in row order by the caller).
/// - **a shared queue** (`forEachItem`): items of unequal cost (FEM samples, DMD layers), taken one
///   at a time in a given order by a fixed number of workers, so no core idles while work remains.
///
/// The range functions are `@inlinable` so that they inline into the training's hot loops in other
/// modules and their closures are not called through a context.
public enum ParallelWork {
    /// Calls `body` on `threads` (or fewer) contiguous, disjoint ranges covering 0..<count, each at
    /// least `grain` long; inline when the work is too small to pay for a thread hand-off.
    @inlinable @inline(__always)
    public static func forEachRange(count: Int, threads: Int, grain: Int, _ body: (Range<Int>) -> Void) {
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
    @inlinable @inline(__always)
    public static func forEachChunk(count: Int, threads: Int, grain: Int, _ body: (Int, Range<Int>) -> Void) {
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
    /// (Inlinable, so it folds into the callers' grain arithmetic as the constant it is.)
    @inlinable public static var elementGrain: Int { 32_768 }

    /// Runs items 0..<count on `threads` workers (at most one per item), each worker taking the next
    /// item in ascending order from a shared counter (sort the items first to choose the order). `makeWorker(w)` builds worker w's
    /// private state (e.g. a solver with its own numeric factorization) on that worker's thread;
    /// `body` receives it with the item. `body` runs concurrently for different items and must touch
    /// only that item's state (or state it synchronises itself).
    public static func forEachItem<Worker>(count: Int, threads: Int, makeWorker: (Int) -> Worker,
                                           body: (inout Worker, Int) -> Void) {
        guard count > 0 else { return }
        let workers = max(1, min(threads, count))
        let counter = SharedCounter()
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var state = makeWorker(w)
            while true {
                let item = counter.next()
                guard item < count else { break }
                body(&state, item)
            }
        }
    }

    /// Every active processor: the width over which `DispatchQueue.concurrentPerform` spreads its iterations.
    public static var allCores: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// `forEachItem` for items that need no per-worker state: `body(i)` for every i in 0..<count, on
    /// `threads` workers (by default every core) taking the items in ascending order. Each item must
    /// touch only its own results, which are then the same whichever worker ran it.
    public static func forEachItem(count: Int, threads: Int = allCores, _ body: (Int) -> Void) {
        forEachItem(count: count, threads: threads, makeWorker: { _ in () }) { _, item in body(item) }
    }
}

/// A thread-safe ascending counter.
final class SharedCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value - 1 }
}
