import Foundation
import NumericalFoundations
import Surrogates

/// Timing of training epochs against the GEMM lower bound (the `train-dmd bench` subcommand).
///
/// For each thread count: the `?gemm` rate at a large size (the best of square products of order
/// `gemmOrder`, measured before every timed epoch too) defines the bound; for each batch size: a trainer on synthetic data of the
/// requested widths runs a warm-up epoch and then `epochs` timed epochs with per-phase timers; the
/// fastest epoch is reported (the least disturbed by other processes on a shared machine).
/// Bound of an epoch = its GEMM flops (`NetworkLayout.trainingGEMMFlopsPerSample` × samples) /
/// large-size rate. Two more figures explain the gap: the same epoch's GEMMs alone, at the batch's
/// shapes (how much the small-batch shapes cost the BLAS), and the Adam update alone.
public struct TrainingBenchmark {
    public struct Options: Sendable {
        public var widths: [Int] = [6, 40, 200, 1000, 2670]
        public var trainSamples = 800
        public var testSamples = 200
        public var batchSizes = [32, 800]
        public var threadCounts = [1, 2]
        public var epochs = 5
        public var gemmOrder = 2048
        public var precision: NetworkPrecision = .float32
        /// Time the fused backward-and-Adam step (the trainer's default) or the two separate passes.
        public var fusedUpdate = true
        public init() {}
    }

    public struct Case: Sendable {
        public var batchSize: Int
        public var threads: Int
        /// Seconds per epoch of the optimizer steps (gather, forward, backward, Adam).
        public var trainingSeconds: Double
        /// Seconds per epoch of the full-set train and test MSE (forward passes).
        public var evaluationSeconds: Double
        public var forwardSeconds: Double
        public var backwardSeconds: Double
        public var optimizerSeconds: Double
        public var gatherSeconds: Double
        /// The epoch's GEMM calls alone, at this batch's shapes.
        public var gemmOnlySeconds: Double
        /// GEMM lower bound of the training part: GEMM flops / large-size rate.
        public var trainingBoundSeconds: Double
        /// GEMM lower bound of the evaluation part.
        public var evaluationBoundSeconds: Double
        /// One Adam step over all parameters, alone (best of several), in seconds.
        public var adamStepSeconds: Double
        public var epochSeconds: Double { trainingSeconds + evaluationSeconds }
        public var trainingRatio: Double { trainingSeconds / trainingBoundSeconds }
    }

    public struct Result: Sendable {
        public var options: Options
        /// Large-size GEMM rate (flop/s) per thread count.
        public var gemmRate: [Int: Double]
        /// Memory bandwidth (bytes/s) of a streaming update a ← a + s·b over 4×the L3 size, per thread count.
        public var streamBandwidth: [Int: Double]
        public var cases: [Case]
        public var parameterCount: Int
        public var trainingFlopsPerEpoch: Double
        public var evaluationFlopsPerEpoch: Double
        public var blasConfiguration: String
    }

    public let options: Options
    public init(options: Options) { self.options = options }

    public func run(log: (String) -> Void = { _ in }) throws -> Result {
        switch options.precision {
        case .float32: return try run(Float.self, log: log)
        case .float64: return try run(Double.self, log: log)
        }
    }

    func run<S: NetworkScalar>(_ type: S.Type, log: (String) -> Void) throws -> Result {
        let layout = try NetworkLayout(widths: options.widths, activation: .softsign)
        let problem = SyntheticRegression(inputWidth: layout.inputWidth, outputWidth: layout.outputWidth, seed: 1)
        let data = problem.samples(train: options.trainSamples, test: options.testSamples, seed: 2, as: S.self)
        let trainingFlops = layout.trainingGEMMFlopsPerSample * Double(options.trainSamples)
        let evaluationFlops = layout.forwardFlopsPerSample * Double(options.trainSamples + options.testSamples)
        var rates: [Int: Double] = [:], bandwidths: [Int: Double] = [:]
        var cases: [Case] = []
        for threads in options.threadCounts {
            var rate = Self.gemmRate(S.self, order: options.gemmOrder, threads: threads)
            bandwidths[threads] = Self.streamBandwidth(threads: threads)
            log(String(format: "streaming update, %d thread(s): %.1f GB/s", threads, bandwidths[threads]! / 1e9))
            log(String(format: "%@gemm %d×%d×%d, %d thread(s): %.1f GFLOP/s", S.precision == .float32 ? "s" : "d",
                       options.gemmOrder, options.gemmOrder, options.gemmOrder, threads, rate / 1e9))
            for batch in options.batchSizes {
                let trainer = try Trainer(network: Network<S>(layout: layout, seed: 1),
                                          options: TrainerOptions(batchSize: batch, shuffleSeed: 3, threads: threads),
                                          train: data.train, test: data.test, outputVariances: Array(repeating: 1, count: layout.outputWidth))
                trainer.fusedUpdate = options.fusedUpdate
                try trainer.trainEpochSpecialized()   // warm-up: page in the buffers, start OpenBLAS's threads
                trainer.profiling = true
                // The best of the timed epochs: on a shared machine the minimum is the estimate
                // least disturbed by other processes.
                // The large-size rate is measured again before every timed epoch and its best kept, so
                // that the bound and the epoch come from the same stretch of time.
                trainer.resetProfile()
                var best = trainer.profile   // all zeros (TrainerProfile's initializer is internal to NeuralNetwork)
                var bestSteps = Double.infinity, bestEvaluation = Double.infinity
                for _ in 0..<options.epochs {
                    rate = max(rate, Self.gemmRate(S.self, order: options.gemmOrder, threads: threads, repeats: 1))
                    trainer.resetProfile()
                    try trainer.trainEpochSpecialized()
                    let p = trainer.profile
                    let steps = p.gather + p.forward + p.backward + p.optimizer
                    if steps < bestSteps { bestSteps = steps; best = p }
                    bestEvaluation = min(bestEvaluation, p.evaluation)
                }
                rates[threads] = max(rates[threads] ?? 0, rate)
                var p = best
                p.evaluation = bestEvaluation
                let e = 1.0
                let gemmOnly = Self.gemmOnlyEpochSeconds(S.self, layout: layout, samples: options.trainSamples, batch: batch,
                                                         threads: threads, repeats: options.epochs)
                let adam = Self.adamStepSeconds(trainer)
                let c = Case(batchSize: batch, threads: threads,
                             trainingSeconds: (p.gather + p.forward + p.backward + p.optimizer) / e,
                             evaluationSeconds: p.evaluation / e, forwardSeconds: p.forward / e, backwardSeconds: p.backward / e,
                             optimizerSeconds: p.optimizer / e, gatherSeconds: p.gather / e, gemmOnlySeconds: gemmOnly,
                             trainingBoundSeconds: trainingFlops / rate, evaluationBoundSeconds: evaluationFlops / rate,
                             adamStepSeconds: adam)
                log(String(format: "batch %4d, %d thread(s): %.3f s/epoch training (bound %.3f, ratio %.2f) + %.3f s evaluation",
                           batch, threads, c.trainingSeconds, c.trainingBoundSeconds, c.trainingRatio, c.evaluationSeconds))
                cases.append(c)
            }
        }
        return Result(options: options, gemmRate: rates, streamBandwidth: bandwidths, cases: cases, parameterCount: layout.parameterCount,
                      trainingFlopsPerEpoch: trainingFlops, evaluationFlopsPerEpoch: evaluationFlops,
                      blasConfiguration: BLASThreads.configuration)
    }

    /// Best time of one Adam step of the trainer's optimizer (on a copy of its parameters, with a
    /// constant gradient of our own: the trainer's buffer is internal to it, and the step's cost does
    /// not depend on the values).
    static func adamStepSeconds<S: NetworkScalar>(_ trainer: Trainer<S>) -> Double {
        let n = trainer.layout.parameterCount
        let w = UnsafeMutableBufferPointer<S>.allocate(capacity: n)
        let g = UnsafeMutableBufferPointer<S>.allocate(capacity: n)
        defer { w.deallocate(); g.deallocate() }
        _ = w.initialize(fromContentsOf: trainer.network.parameters)
        g.initialize(repeating: S(1e-3))
        let adam = AdamOptimizer<S>(layout: trainer.layout, settings: trainer.options.adam)
        var best = Double.infinity
        for _ in 0..<5 {
            let t = monotonicSeconds()
            adam.step(parameters: w.baseAddress!, gradient: g.baseAddress!, threads: trainer.options.threads)
            best = min(best, monotonicSeconds() - t)
        }
        return best
    }

    /// Bytes per second of y ← y + s·x over two 32 M-element float arrays (256 MB, far beyond the
    /// caches), split over `threads` like the trainer's element-wise loops: 12 bytes per element.
    static func streamBandwidth(threads: Int) -> Double {
        let n = 32 << 20
        let x = UnsafeMutableBufferPointer<Float>.allocate(capacity: n), y = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { x.deallocate(); y.deallocate() }
        x.initialize(repeating: 1); y.initialize(repeating: 2)
        let xp = x.baseAddress!, yp = y.baseAddress!
        var best = Double.infinity
        for _ in 0..<4 {
            let t = monotonicSeconds()
            ParallelWork.forEachRange(count: n, threads: threads, grain: ParallelWork.elementGrain) { range in
                for i in range { yp[i] += 0.5 * xp[i] }
            }
            best = min(best, monotonicSeconds() - t)
        }
        return 12 * Double(n) / best
    }

    /// Best rate of `repeats` n×n×n products (2n³ flops), after one warm-up product.
    static func gemmRate<S: NetworkScalar>(_ type: S.Type, order n: Int, threads: Int, repeats: Int = 3) -> Double {
        BLASThreads.set(threads)
        let a = [S](repeating: 0.5, count: n * n), b = [S](repeating: 0.25, count: n * n)
        var c = [S](repeating: 0, count: n * n)
        var best = Double.infinity
        for _ in 0...repeats {   // the first call warms up (thread start, page faults), and counts if fastest
            let t = monotonicSeconds()
            S.gemm(.none, .none, m: n, n: n, k: n, alpha: 1, a: a, lda: n, b: b, ldb: n, beta: 0, c: &c, ldc: n)
            best = min(best, monotonicSeconds() - t)
        }
        return 2 * Double(n) * Double(n) * Double(n) / best
    }

    /// Seconds per epoch of exactly the GEMM calls one training epoch makes (forward a·Wᵀ, weight
    /// gradient δᵀ·a, back-propagation δ·W per layer and step), on scratch buffers.
    static func gemmOnlyEpochSeconds<S: NetworkScalar>(_ type: S.Type, layout: NetworkLayout, samples: Int, batch: Int,
                                                       threads: Int, repeats: Int) -> Double {
        BLASThreads.set(threads)
        let widest = layout.widths.max()!
        let rowsMax = min(batch, samples)
        let a = [S](repeating: 0.01, count: rowsMax * widest), d = [S](repeating: 0.01, count: rowsMax * widest)
        var c = [S](repeating: 0, count: rowsMax * widest)
        let w = [S](repeating: 0.01, count: layout.widths.indices.dropLast().map { layout.weightCount(ofLayer: $0) }.max()!)
        var g = w
        func epoch() {
            var begin = 0
            while begin < samples {
                let rows = min(batch, samples - begin)
                for l in 0..<layout.layerCount {
                    let nIn = layout.inputs(ofLayer: l), nOut = layout.outputs(ofLayer: l)
                    S.gemm(.none, .transpose, m: rows, n: nOut, k: nIn, alpha: 1, a: a, lda: nIn, b: w, ldb: nIn, beta: 0, c: &c, ldc: nOut)
                    S.gemm(.transpose, .none, m: nOut, n: nIn, k: rows, alpha: 1, a: d, lda: nOut, b: a, ldb: nIn, beta: 0, c: &g, ldc: nIn)
                    if l > 0 {
                        S.gemm(.none, .none, m: rows, n: nIn, k: nOut, alpha: 1, a: d, lda: nOut, b: w, ldb: nIn, beta: 0, c: &c, ldc: nIn)
                    }
                }
                begin += rows
            }
        }
        epoch()
        var best = Double.infinity
        for _ in 0..<repeats {
            let t = monotonicSeconds()
            epoch()
            best = min(best, monotonicSeconds() - t)
        }
        return best
    }
}
