import DenseLinearAlgebra
import Foundation
import NeuralNetwork

/// The overhead of Algorithm 1: seconds per epoch with DMD divided by seconds per epoch without
/// (issue 7's target ≤ 1.03; the paper measured 1.41), on the paper network and synthetic data
/// of the paper's shapes (`SyntheticRegression`: the timing of dense layers does not depend on the
/// values).
///
/// Three trainers from the same initial state: plain, DMD without the jump diagnostics
/// (`recordJumpLosses` off: the training cost of Algorithm 1), and DMD with them (the MSE before
/// every jump costs one more pass over both data sets). After one warm-up epoch each, they train in
/// turns, m epochs per turn (so every turn holds exactly one jump), the order rotating from round
/// to round, so that a change in the load of the machine (other processes on the two cores) hits
/// all three alike. Every epoch includes the trainer's own end-of-epoch train and test MSE, as in
/// training.
public struct DMDOverheadBenchmark {
    public struct Options: Sendable {
        public var widths: [Int] = [6, 40, 200, 1000, 2670]
        public var trainSamples = 800
        public var testSamples = 200
        public var batchSize = 32
        public var threads = 2
        public var m = 14
        public var s = 55.0
        /// Turns of m epochs per trainer.
        public var rounds = 3
        public var precision: NetworkPrecision = .float32
        public var svdMethod = "qr"
        public init() {}
    }

    public struct Case: Sendable {
        public var name: String
        public var wallSecondsPerEpoch: Double
        /// CPU seconds of the whole process per epoch (all threads).
        public var cpuSecondsPerEpoch: Double
        public var epochs: Int
        public var jumps: Int
        /// Per-epoch means of the hook's columns (0 for the plain trainer).
        public var snapshotSeconds = 0.0, dmdSeconds = 0.0, assignSeconds = 0.0, jumpLossSeconds = 0.0
        /// Mean of the trainer's backprop_seconds and evaluation_seconds columns.
        public var backpropSeconds = 0.0, evaluationSeconds = 0.0
        /// Final training MSE (to see that the runs did train).
        public var finalTrainMSE = 0.0
    }

    public struct Result: Sendable {
        public var options: Options
        public var parameterCount: Int
        public var plain: Case
        public var dmd: Case
        public var dmdWithDiagnostics: Case
        public var blasConfiguration: String
        /// Wall time per epoch with DMD / without: the overhead of the training itself.
        public var overhead: Double { dmd.wallSecondsPerEpoch / plain.wallSecondsPerEpoch }
        /// The same with the MSE before and after every jump measured.
        public var overheadWithDiagnostics: Double { dmdWithDiagnostics.wallSecondsPerEpoch / plain.wallSecondsPerEpoch }
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
        let o = options
        guard o.rounds >= 1, o.m >= 2 else { throw NetworkError("bench-dmd: rounds must be ≥ 1 and m ≥ 2") }
        let layout = try NetworkLayout(widths: o.widths, activation: .softsign)
        let problem = SyntheticRegression(inputWidth: layout.inputWidth, outputWidth: layout.outputWidth, seed: 1)
        let data = problem.samples(train: o.trainSamples, test: o.testSamples, seed: 2, as: S.self)
        func makeTrainer(_ hook: DMDAccelerator?) throws -> Trainer<S> {
            let trainer = try Trainer(network: Network<S>(layout: layout, seed: 1),
                                      options: TrainerOptions(batchSize: o.batchSize, shuffleSeed: 3, threads: o.threads),
                                      train: data.train, test: data.test, outputVariances: Array(repeating: 1, count: layout.outputWidth))
            trainer.hook = hook
            return trainer
        }
        func dmdSettings(record: Bool) -> DMDTrainingSettings {
            DMDTrainingSettings(snapshotCount: o.m, steps: o.s, svdMethod: o.svdMethod, recordJumpLosses: record)
        }
        let names = ["plain", "DMD", "DMD + jump MSE"]
        let trainers = [try makeTrainer(nil),
                        try makeTrainer(DMDAccelerator(settings: dmdSettings(record: false), layout: layout, copyThreads: o.threads)),
                        try makeTrainer(DMDAccelerator(settings: dmdSettings(record: true), layout: layout, copyThreads: o.threads))]
        // Warm-up: page in every buffer, start OpenBLAS's threads (the DMD trainers take their first snapshot).
        for t in trainers { try t.trainEpoch() }
        var wall = [Double](repeating: 0, count: 3), cpu = [Double](repeating: 0, count: 3)
        var firstTimedEpoch = [Int](repeating: 0, count: 3)
        for (i, t) in trainers.enumerated() { firstTimedEpoch[i] = t.completedEpochs + 1 }
        for round in 0..<o.rounds {
            for k in 0..<3 {
                let i = (round + k) % 3
                let w0 = monotonicNow(), c0 = processCPUSeconds()
                for _ in 0..<o.m { try trainers[i].trainEpoch() }
                wall[i] += monotonicNow() - w0
                cpu[i] += processCPUSeconds() - c0
                log(String(format: "round %d, %@: %.4f s/epoch", round + 1, names[i], (monotonicNow() - w0) / Double(o.m)))
            }
        }
        let epochs = o.rounds * o.m
        var cases: [Case] = []
        for (i, t) in trainers.enumerated() {
            let rows = t.history.rows.filter { $0.epoch >= firstTimedEpoch[i] }
            func mean(_ column: String) -> Double { rows.reduce(0) { $0 + ($1.extra[column] ?? 0) } / Double(rows.count) }
            var c = Case(name: names[i], wallSecondsPerEpoch: wall[i] / Double(epochs), cpuSecondsPerEpoch: cpu[i] / Double(epochs),
                         epochs: epochs, jumps: rows.filter { ($0.extra["jump"] ?? 0) == 1 }.count)
            c.snapshotSeconds = mean("snapshot_seconds"); c.dmdSeconds = mean("dmd_seconds")
            c.assignSeconds = mean("assign_seconds"); c.jumpLossSeconds = mean("jump_loss_seconds")
            c.backpropSeconds = rows.reduce(0) { $0 + ($1.backpropSeconds ?? 0) } / Double(rows.count)
            c.evaluationSeconds = rows.reduce(0) { $0 + ($1.evaluationSeconds ?? 0) } / Double(rows.count)
            c.finalTrainMSE = t.history.rows.last?.trainMSE ?? .nan
            cases.append(c)
        }
        return Result(options: o, parameterCount: layout.parameterCount, plain: cases[0], dmd: cases[1], dmdWithDiagnostics: cases[2],
                      blasConfiguration: BLASThreads.configuration)
    }
}

/// CPU seconds used by every thread of this process so far.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
