import DenseLinearAlgebra
import Dispatch

extension DMD {
    /// Runs `body(layer)` for every layer 0..<count on all cores (DispatchQueue.concurrentPerform),
    /// starting with the most expensive layers so that the largest one does not start last
    /// (longest-processing-time-first scheduling). Algorithm 1 jumps every layer at once; the layers
    /// are independent, so one failing does not stop the others. Results are in layer order.
    ///
    /// `cost(layer)` only orders the work (e.g. n · m² of the layer). `body` runs concurrently for
    /// different layers; it must touch only that layer's state.
    public static func forEachLayerConcurrently<T>(count: Int, cost: (Int) -> Double = { _ in 1 },
                                                   _ body: (Int) throws -> T) -> [Result<T, Error>] {
        guard count > 0 else { return [] }
        let order = (0..<count).sorted { cost($0) > cost($1) }
        let results = UnsafeMutableBufferPointer<Result<T, Error>?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        // Each iteration writes only its own slot, so the slots need no lock. OpenBLAS runs one
        // thread per call meanwhile: the layers are the parallelism (see Lapack.withSingleThreadedBLAS).
        Lapack.withSingleThreadedBLAS {
            DispatchQueue.concurrentPerform(iterations: count) { position in
                let layer = order[position]
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
