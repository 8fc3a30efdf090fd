import Foundation
import Dispatch

/// Runs `count` work items on `threads` workers (`DispatchQueue.concurrentPerform`), each worker taking
/// the next item in ascending order from a shared counter, so that both cores stay busy whatever the
/// items cost. `makeWorker` builds one worker's private state (e.g. a solver with its own numeric
/// factorization) on that worker's thread; `body` receives it with the item index.
public enum WorkerPool {
    public static func run<Worker>(count: Int, threads: Int, makeWorker: (Int) -> Worker,
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
}

/// A thread-safe ascending counter.
final class SharedCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value - 1 }
}
