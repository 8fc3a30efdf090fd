import Foundation
import NumericalFoundations

extension DMD {
    /// Runs `body(layer)` for every layer 0..<count on all cores, starting with the most expensive
    /// layers so that the largest one does not start last (longest-processing-time-first
    /// scheduling). Algorithm 1 jumps every layer at once; the layers are independent, so one failing
    /// does not stop the others. Results are in layer order.
    ///
    /// A **dominant** layer — one costing more than its share of all cores' work, cost · cores > total,
    /// like the 1000 × 2670 output layer of the paper network (93 % of the parameters) — is the
    /// critical path whatever the others do: run alongside them on one core it leaves the other cores
    /// idle for most of the jump. It therefore runs first, alone, with OpenBLAS and the tall-skinny QR
    /// free to use every core; the remaining layers then share the cores, one OpenBLAS thread each.
    /// Measured on the paper network (`train-dmd dmd --bench`, 2 cores): all layers side by side
    /// 176 ms per jump, dominant layer first 106 ms (the same as all layers in sequence, 105 ms).
    ///
    /// `cost(layer)` orders the work and finds a dominant layer (e.g. n · m² of the layer). `body`
    /// runs concurrently for different layers; it must touch only that layer's state.
    public static func forEachLayerConcurrently<T>(count: Int, cost: (Int) -> Double = { _ in 1 },
                                                   cores: Int = ProcessInfo.processInfo.activeProcessorCount,
                                                   _ body: (Int) throws -> T) -> [Result<T, Error>] {
        guard count > 0 else { return [] }
        let costs = (0..<count).map(cost)
        let order = (0..<count).sorted { costs[$0] > costs[$1] }
        let results = UnsafeMutableBufferPointer<Result<T, Error>?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        var shared = order[...]
        let total = costs.reduce(0, +)
        if cores > 1, count > 1, costs[order[0]] * Double(cores) > total {
            results[order[0]] = Result { try body(order[0]) }
            shared = order.dropFirst()
        }
        // Each iteration writes only its own slot, so the slots need no lock. OpenBLAS runs one
        // thread per call meanwhile: the layers are the parallelism (see Lapack.withSingleThreadedBLAS).
        // One worker per remaining layer, taking them in decreasing cost from the shared queue;
        // Dispatch runs as many at once as there are cores.
        let rest = Array(shared)
        Lapack.withSingleThreadedBLAS {
            ParallelWork.forEachItem(count: rest.count, threads: rest.count, makeWorker: { _ in () }) { _, position in
                let layer = rest[position]
                results[layer] = Result { try body(layer) }
            }
        }
        return results.map { $0! }
    }

    /// Decomposes every buffer (in place, see `decompose(consuming:options:)`) concurrently.
    public static func decomposeConcurrently(_ buffers: [SnapshotBuffer], options: DMDOptions = DMDOptions()) -> [Result<DMDModel, Error>] {
        forEachLayerConcurrently(count: buffers.count,
                                 cost: { Double(buffers[$0].dimension) * Double(buffers[$0].count * buffers[$0].count) }) { layer in
            try decompose(consuming: buffers[layer], options: options)
        }
    }
}
