import _LinearAlgebraShims
import NumericalFoundations
import Surrogates
import Dispatch
import Foundation

/// Release-mode timing of one layer's DMD (O(n m²)) and of Algorithm 1's jump of the paper network.
/// Performance figures come from here (`train-dmd dmd --bench`), never from timed unit tests.
public enum DMDBenchmark {
    public struct Row: Sendable {
        public let dimension: Int
        public let snapshots: Int
        public let method: DMDOptions.SVDMethod
        public let rank: Int
        /// Appending one Float snapshot (conversion copy and finiteness check), fastest repetition.
        public let appendSeconds: Double
        /// `DMD.decompose(consuming:)`, fastest repetition.
        public let decomposeSeconds: Double
        /// One extrapolation into a Float parameter vector, fastest repetition.
        public let extrapolateSeconds: Double
        /// CPU time of the process (all threads) during the decomposition, smallest repetition: less
        /// sensitive than wall time to other programs sharing the cores.
        public let decomposeCPUSeconds: Double

        /// Decomposition time per n m², in nanoseconds: flat across n and m when the cost is O(n m²).
        public var nanosecondsPerNM2: Double { decomposeSeconds * 1e9 / (Double(dimension) * Double(snapshots * snapshots)) }
        /// The same with CPU time.
        public var cpuNanosecondsPerNM2: Double { decomposeCPUSeconds * 1e9 / (Double(dimension) * Double(snapshots * snapshots)) }
    }

    /// Synthetic parameter trajectories: three damped oscillating directions plus a small
    /// deterministic perturbation, like weights drifting under an optimizer (the data only need to
    /// be generic, full-rank snapshots; the cost does not depend on the values).
    struct Trajectory {
        let directions: [[Float]]

        init(dimension n: Int) {
            var directions: [[Float]] = []
            for l in 0..<3 {
                let frequency = 0.001 * Double(l + 1), phase = Double(l)
                directions.append((0..<n).map { i -> Float in Float(sin(frequency * Double(i) + phase)) })
            }
            self.directions = directions
        }

        func fill(_ snapshot: inout [Float], step k: Int) {
            let weights = (0..<3).map { l -> Float in
                let decay = pow(0.97 - 0.05 * Double(l), Double(k))
                return Float(decay * cos(0.3 * Double(k * (l + 1))))
            }
            var state = UInt32(truncatingIfNeeded: 2_654_435_761 &* (k + 1))
            for i in 0..<snapshot.count {
                state = state &* 1_664_525 &+ 1_013_904_223  // LCG: cheap, deterministic perturbation
                let noise = Float(Int32(bitPattern: state)) * (1e-3 / Float(Int32.max))
                let smooth: Float = weights[0] * directions[0][i] + weights[1] * directions[1][i] + weights[2] * directions[2][i]
                snapshot[i] = smooth + noise
            }
        }
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = monotonicSeconds()
        try body()
        return (monotonicSeconds() - start)
    }

    /// Times the DMD of one n × m snapshot matrix on one SVD path (best of `repetitions`).
    public static func measure(dimension n: Int, snapshots m: Int, method: DMDOptions.SVDMethod, repetitions: Int) throws -> Row {
        let trajectory = Trajectory(dimension: n)
        var snapshots = [[Float]](repeating: [Float](repeating: 0, count: n), count: m)
        for k in 0..<m { trajectory.fill(&snapshots[k], step: k) }
        let buffer = try SnapshotBuffer(dimension: n, capacity: m)
        var output = [Float](repeating: 0, count: n)
        var best = (append: Double.infinity, decompose: Double.infinity, extrapolate: Double.infinity, cpu: Double.infinity)
        var rank = 0
        for _ in 0..<max(1, repetitions) {
            buffer.clear()
            for k in 0..<m {
                best.append = min(best.append, try seconds { try buffer.append(snapshots[k]) })
            }
            var model: DMDModel?
            let cpuStart = processCPUSeconds()
            best.decompose = min(best.decompose, try seconds { model = try DMD.decompose(consuming: buffer, options: DMDOptions(svdMethod: method)) })
            best.cpu = min(best.cpu, processCPUSeconds() - cpuStart)
            rank = model!.rank
            best.extrapolate = min(best.extrapolate, try seconds {
                try output.withUnsafeMutableBufferPointer { try model!.extrapolate(steps: 55, into: $0) }
            })
        }
        return Row(dimension: n, snapshots: m, method: method, rank: rank, appendSeconds: best.append,
                   decomposeSeconds: best.decompose, extrapolateSeconds: best.extrapolate, decomposeCPUSeconds: best.cpu)
    }

    /// The O(n m²) table: every n × m × method, printed through `report` as it goes.
    public static func scaling(dimensions: [Int], snapshotCounts: [Int], methods: [DMDOptions.SVDMethod] = DMDOptions.SVDMethod.allCases,
                               report: (String) -> Void) throws -> [Row] {
        report("       n   m  svd  rank  append/snap   decompose (CPU)       extrapolate  wall ns/(n m²)  CPU ns/(n m²)")
        var rows: [Row] = []
        for n in dimensions {
            // Enough repetitions for a stable minimum on small sizes, few on the large ones.
            let repetitions = n <= 20_000 ? 20 : (n <= 200_000 ? 5 : 2)
            for m in snapshotCounts {
                for method in methods {
                    let row = try measure(dimension: n, snapshots: m, method: method, repetitions: repetitions)
                    rows.append(row)
                    let name = method.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)
                    report(String(format: "%8d %3d  ", n, m) + name
                           + String(format: " %4d  %8.3f ms  %8.2f ms (%7.2f ms)  %8.3f ms  %8.3f        %8.3f", row.rank, row.appendSeconds * 1e3,
                                    row.decomposeSeconds * 1e3, row.decomposeCPUSeconds * 1e3, row.extrapolateSeconds * 1e3,
                                    row.nanosecondsPerNM2, row.cpuNanosecondsPerNM2))
                }
            }
        }
        return rows
    }

    public struct JumpTiming: Sendable {
        /// Appending one snapshot of every layer (Algorithm 1 does this after every epoch).
        public let snapshotSeconds: Double
        /// Decompose + extrapolate + write (Float) of every layer, one layer after the other.
        public let sequentialSeconds: Double
        /// The same with `DMD.forEachLayerConcurrently` (OpenBLAS threads as configured).
        public let concurrentSeconds: Double
        /// The same, concurrent layers with OpenBLAS limited to one thread each.
        public let concurrentSingleThreadedBLASSeconds: Double
    }

    /// One DMD jump of every layer of a network (default: the paper's 6-40-200-1000-2670 MLP,
    /// n = 280, 8 200, 201 000, 2 672 670), m snapshots, s = 55, best of `repetitions`.
    public static func networkJump(layerSizes: [Int] = [6 * 40 + 40, 40 * 200 + 200, 200 * 1000 + 1000, 1000 * 2670 + 2670],
                                   snapshots m: Int = 14, method: DMDOptions.SVDMethod = .householderQR, repetitions: Int = 3) throws -> JumpTiming {
        let trajectories = layerSizes.map { Trajectory(dimension: $0) }
        var snapshots = layerSizes.map { [[Float]](repeating: [Float](repeating: 0, count: $0), count: m) }
        for (layer, trajectory) in trajectories.enumerated() { for k in 0..<m { trajectory.fill(&snapshots[layer][k], step: k) } }
        let buffers = try layerSizes.map { try SnapshotBuffer(dimension: $0, capacity: m) }
        // One parameter vector per layer, written concurrently by different layers: separate
        // allocations, so no Swift array is shared between threads.
        let parameters = layerSizes.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: $0) }
        defer { for p in parameters { p.deallocate() } }
        let options = DMDOptions(svdMethod: method)

        func refill() throws -> Double {
            var snapshotTime = Double.infinity
            for buffer in buffers { buffer.clear() }
            for k in 0..<m {
                snapshotTime = min(snapshotTime, try seconds {
                    for (layer, buffer) in buffers.enumerated() { try buffer.append(snapshots[layer][k]) }
                })
            }
            return snapshotTime
        }
        func jump(layer: Int) throws {
            let model = try DMD.decompose(consuming: buffers[layer], options: options)
            try model.extrapolate(steps: 55, into: parameters[layer])
        }
        let cost: (Int) -> Double = { Double(layerSizes[$0]) }
        var best = (snapshot: Double.infinity, sequential: Double.infinity, concurrent: Double.infinity, single: Double.infinity)
        let blasThreads = openblas_get_num_threads()
        defer { openblas_set_num_threads(blasThreads) }
        for _ in 0..<max(1, repetitions) {
            best.snapshot = min(best.snapshot, try refill())
            best.sequential = min(best.sequential, try seconds { for layer in layerSizes.indices { try jump(layer: layer) } })
            _ = try refill()
            best.concurrent = min(best.concurrent, try seconds {
                for result in DMD.forEachLayerConcurrently(count: layerSizes.count, cost: cost, { try jump(layer: $0) }) { try result.get() }
            })
            _ = try refill()
            openblas_set_num_threads(1)
            best.single = min(best.single, try seconds {
                for result in DMD.forEachLayerConcurrently(count: layerSizes.count, cost: cost, { try jump(layer: $0) }) { try result.get() }
            })
            openblas_set_num_threads(blasThreads)
        }
        return JumpTiming(snapshotSeconds: best.snapshot, sequentialSeconds: best.sequential,
                          concurrentSeconds: best.concurrent, concurrentSingleThreadedBLASSeconds: best.single)
    }
}
