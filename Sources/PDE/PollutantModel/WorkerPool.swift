import NumericalFoundations

/// Runs `count` work items on `threads` workers, each worker taking the next item in ascending order
/// from a shared counter, so that both cores stay busy whatever the items cost. `makeWorker` builds
/// one worker's private state (e.g. a solver with its own numeric factorization) on that worker's
/// thread; `body` receives it with the item index. A forward to `ParallelWork.forEachItem`, the
/// package's one implementation (Parallelism library).
public enum WorkerPool {
    public static func run<Worker>(count: Int, threads: Int, makeWorker: (Int) -> Worker,
                                   body: (inout Worker, Int) -> Void) {
        ParallelWork.forEachItem(count: count, threads: threads, makeWorker: makeWorker, body: body)
    }
}
