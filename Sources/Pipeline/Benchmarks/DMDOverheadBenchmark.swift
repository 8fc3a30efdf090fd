import NumericalFoundations
import Surrogates
import Foundation

/// The overhead of Algorithm 1: seconds per epoch with DMD divided by seconds per epoch without
/// (target ≤ 1.03; the paper measured 1.41), on the paper network and synthetic data
/// of the paper's shapes (`SyntheticRegression` outputs; the timing of dense layers does not depend
/// on the values).
///
/// Three runs from the same initial state: plain, DMD without the jump diagnostics
/// (`recordJumpLosses` off: the training cost of Algorithm 1), and DMD with them (the MSE before
/// every jump costs one more pass over both data sets). They go through `TrainingRun`, i.e. the
/// trainer compiled for the concrete precision as in `train-dmd train` (a trainer built from
/// outside its module runs the generic, unspecialised code, an order of magnitude slower). After
/// one warm-up epoch each, the runs train in turns of m epochs (every turn holds exactly one jump),
/// stopping and resuming from their checkpoints between turns, the order rotating from round to
/// round, so that changes in the load of the machine hit all three alike. An epoch's time is the
/// difference of the history's cumulative `wall_seconds` (the optimizer steps, the hook and the
/// end-of-epoch train and test MSE; not the checkpoint writes between turns).
public struct DMDOverheadBenchmark {
    public struct Options: Sendable {
        public var widths: [Int] = [6, 40, 200, 1000, 2670]
        public var trainSamples = 800
        public var testSamples = 200
        public var batchSize = 32
        public var threads = 2
        public var m = 14
        public var s = 55.0
        /// Turns of m epochs per run.
        public var rounds = 3
        public var precision: NetworkPrecision = .float32
        public var svdMethod: DMDOptions.SVDMethod = .householderQR
        /// Folder for the runs' checkpoints (removed afterwards).
        public var scratchDirectory = FileManager.default.temporaryDirectory
        public init() {}
    }

    public struct Case: Sendable {
        public var name: String
        public var wallSecondsPerEpoch: Double
        /// CPU seconds of the whole process per epoch (all threads), between consecutive epochs of a turn.
        public var cpuSecondsPerEpoch: Double
        public var epochs: Int
        public var jumps: Int
        /// Per-epoch means of the hook's columns (0 for the plain run).
        public var snapshotSeconds = 0.0, dmdSeconds = 0.0, assignSeconds = 0.0, jumpLossSeconds = 0.0
        /// Per-epoch means of the trainer's backprop_seconds and evaluation_seconds.
        public var backpropSeconds = 0.0, evaluationSeconds = 0.0
        /// Final training MSE (to see that the runs trained).
        public var finalTrainMSE = 0.0
        /// Seconds per epoch the hook spent (snapshot + DMD + assignment + jump MSE).
        public var hookSeconds: Double { snapshotSeconds + dmdSeconds + assignSeconds + jumpLossSeconds }
        /// 1 + the hook's time over the rest of this run's epoch: the overhead measured within one
        /// run, insensitive to load changes between runs.
        public var hookOverhead: Double { 1 + hookSeconds / (wallSecondsPerEpoch - hookSeconds) }
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

    /// A data set of the requested shapes: parameters uniform in [0, 1]^d, outputs the smooth sines
    /// of `SyntheticRegression`; the last `testSamples` are the test set.
    static func dataset(_ o: Options) throws -> SurrogateDataset {
        let d = o.widths.first!, p = o.widths.last!
        let problem = SyntheticRegression(inputWidth: d, outputWidth: p, seed: 1)
        let n = o.trainSamples + o.testSamples
        let unit = problem.inputs(count: n, seed: 2, stream: 1).map { ($0 + 1) / 2 }
        let outputs = problem.outputs(for: unit.map { 2 * $0 - 1 })
        return try SurrogateDataset(parameters: unit, parameterWidth: d, split: (0..<n).map { $0 < o.trainSamples ? 0 : 1 },
                                    observations: outputs, observationWidth: p, status: Array(repeating: 0, count: n),
                                    inputScaler: InputScaler(ranges: Array(repeating: 0...1, count: d)),
                                    parameterNames: (0..<d).map { "x\($0)" })
    }

    public func run(log: (String) -> Void = { _ in }) throws -> Result {
        let o = options
        guard o.rounds >= 1, o.m >= 2, o.widths.count >= 2, o.trainSamples >= 1 else {
            throw NetworkError("bench-dmd: rounds must be ≥ 1, m ≥ 2, at least two widths and one training sample")
        }
        let data = try Self.dataset(o)
        let layout = try NetworkLayout(widths: o.widths, activation: .softsign)
        let root = o.scratchDirectory.appendingPathComponent("bench-dmd-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let totalEpochs = 1 + o.rounds * o.m
        func settings(stopAfter: Int) -> TrainingRunSettings {
            TrainingRunSettings(hiddenWidths: Array(o.widths.dropFirst().dropLast()), activation: .softsign, precision: o.precision,
                                networkSeed: 1, trainer: TrainerOptions(batchSize: o.batchSize, shuffleSeed: 3, threads: o.threads),
                                epochs: totalEpochs, checkpointEvery: 1_000_000, inputRanges: Array(repeating: 0...1, count: layout.inputWidth),
                                inputNames: (0..<layout.inputWidth).map { "x\($0)" }, stopAfterEpoch: stopAfter)
        }
        func hook(_ i: Int) throws -> DMDAccelerator? {
            guard i > 0 else { return nil }
            return try DMDAccelerator(settings: DMDTrainingSettings(snapshotCount: o.m, steps: o.s, svdMethod: o.svdMethod, recordJumpLosses: i == 2),
                                      layout: layout, copyThreads: o.threads)
        }
        let names = ["plain", "DMD", "DMD + jump MSE"]
        var rows: [[HistoryRow]] = [[], [], []]
        var cpu = [Double](repeating: 0, count: 3), cpuEpochs = [Int](repeating: 0, count: 3)
        func turn(_ i: Int, until epoch: Int, resume: Bool) throws {
            var lastCPU: Double? = nil
            _ = try TrainingRun.execute(dataset: data, settings: settings(stopAfter: epoch), modelDirectory: root.appendingPathComponent("run\(i)"),
                                        resume: ResumePolicy(resume), hook: try hook(i), progress: { row, _ in
                                            let now = processCPUSeconds()
                                            if let lastCPU { cpu[i] += now - lastCPU; cpuEpochs[i] += 1 }
                                            lastCPU = now
                                            rows[i].append(row)
                                        })
        }
        // Warm-up epoch (page in every buffer, start OpenBLAS's threads; the DMD runs take their first snapshot).
        for i in 0..<3 { try turn(i, until: 1, resume: false) }
        for i in 0..<3 { cpu[i] = 0; cpuEpochs[i] = 0 }
        let warm = rows.map(\.count)
        /// Seconds of rows[i][a..<b] from the cumulative wall time (row a − 1 exists: the warm-up at least).
        func seconds(_ i: Int, _ range: Range<Int>) -> Double { rows[i][range.upperBound - 1].wallSeconds - rows[i][range.lowerBound - 1].wallSeconds }
        for round in 0..<o.rounds {
            for k in 0..<3 {
                let i = (round + k) % 3
                let before = rows[i].count
                try turn(i, until: 1 + (round + 1) * o.m, resume: true)
                log(String(format: "round %d, %@: %.4f s/epoch", round + 1, names[i], seconds(i, before..<rows[i].count) / Double(rows[i].count - before)))
            }
        }
        var cases: [Case] = []
        for i in 0..<3 {
            let r = Array(rows[i][warm[i]...])
            func mean(_ column: String) -> Double { r.reduce(0) { $0 + ($1.extra[column] ?? 0) } / Double(r.count) }
            var c = Case(name: names[i], wallSecondsPerEpoch: seconds(i, warm[i]..<rows[i].count) / Double(r.count),
                         cpuSecondsPerEpoch: cpuEpochs[i] > 0 ? cpu[i] / Double(cpuEpochs[i]) : .nan,
                         epochs: r.count, jumps: r.filter { ($0.extra["jump"] ?? 0) == 1 }.count)
            c.snapshotSeconds = mean("snapshot_seconds"); c.dmdSeconds = mean("dmd_seconds")
            c.assignSeconds = mean("assign_seconds"); c.jumpLossSeconds = mean("jump_loss_seconds")
            c.backpropSeconds = r.reduce(0) { $0 + ($1.backpropSeconds ?? 0) } / Double(r.count)
            c.evaluationSeconds = r.reduce(0) { $0 + ($1.evaluationSeconds ?? 0) } / Double(r.count)
            c.finalTrainMSE = r.last?.trainMSE ?? .nan
            cases.append(c)
        }
        return Result(options: o, parameterCount: layout.parameterCount, plain: cases[0], dmd: cases[1], dmdWithDiagnostics: cases[2],
                      blasConfiguration: BLASThreads.configuration)
    }

}
