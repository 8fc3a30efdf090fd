import Foundation
import ArgumentParser
import Surrogates

/// The command line of `train-dmd bench-dmd`: the overhead of Algorithm 1 per epoch (target ≤ 1.03,
/// the paper: 1.41).
public struct DMDOverheadBenchmarkOptions: ParsableArguments {
    public static let discussion = """
        Run it in a release build: swift run -c release train-dmd bench-dmd.

        Three runs start from the same weights on synthetic data of the paper's shapes (800 training and 200 test samples, 6 inputs, 2670 outputs; dense-layer timings do not depend on the values): plain Adam, Algorithm 1 (m, s) without diagnostics, and Algorithm 1 with the train and test MSE measured before and after every jump (dmd.record_jump_losses, one more pass over both sets per jump). After a warm-up epoch each, they train in turns of m epochs (one jump per turn; stop and resume from checkpoints in a scratch folder between turns, not timed), the order rotating, so that other load on the machine hits all three alike. Every epoch includes the trainer's end-of-epoch train and test MSE.

        Printed: wall and CPU seconds per epoch, the per-epoch means of the history's time columns, the ratio DMD / plain of the wall times, and 1 + (the DMD run's hook seconds per epoch) / (the rest of its epoch): the same overhead measured inside one run, which other processes on the machine disturb far less. See docs/dmd-training.md.
        """

    @Option(help: "Layer widths, input first.") public var widths: String = "6,40,200,1000,2670"
    @Option(parsing: .unconditional, help: "Training samples.") public var samples: Int = 800
    @Option(parsing: .unconditional, help: "Test samples.") public var testSamples: Int = 200
    @Option(parsing: .unconditional, help: "Mini-batch size.") public var batch: Int = 32
    @Option(parsing: .unconditional, help: "Cores for OpenBLAS, the element-wise loops and the parameter copies.") public var threads: Int = 2
    @Option(parsing: .unconditional, help: "Snapshots per DMD (m).") public var m: Int = 14
    @Option(parsing: .unconditional, help: "Steps extrapolated per jump (s).") public var s: Double = 55
    @Option(parsing: .unconditional, help: "Turns of m epochs per trainer.") public var rounds: Int = 3
    @Option(help: "Thin SVD of the DMD: qr or gram.") public var svd: String = "qr"
    @Option(help: "float32 or float64.") public var precision: String = "float32"
    @Option(help: "Folder for the runs' checkpoints between turns (default: the system's temporary folder).") public var scratch: String?

    public init() {}

    /// The benchmark's settings; a value out of range is a usage error.
    func benchmarkOptions() throws -> DMDOverheadBenchmark.Options {
        var o = DMDOverheadBenchmark.Options()
        let w = widths.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard w.count >= 2, w.allSatisfy({ ($0 ?? 0) > 0 }) else { throw ValidationError("--widths expects positive integers separated by commas, got \(widths)") }
        o.widths = w.map { $0! }
        guard samples >= 1, testSamples >= 0, batch >= 1, threads >= 1, m >= 2, rounds >= 1, s.isFinite, s >= 0 else {
            throw ValidationError("--samples, --batch, --threads, --rounds must be ≥ 1, --m ≥ 2, --s ≥ 0")
        }
        o.trainSamples = samples; o.testSamples = testSamples; o.batchSize = batch; o.threads = threads
        o.m = m; o.s = s; o.rounds = rounds
        guard let method = DMDOptions.SVDMethod(rawValue: svd) else { throw ValidationError("--svd must be qr or gram, got \(svd)") }
        o.svdMethod = method
        if let scratch { o.scratchDirectory = URL(fileURLWithPath: scratch, isDirectory: true) }
        guard let p = NetworkPrecision(rawValue: precision) else { throw ValidationError("--precision must be float32 or float64") }
        o.precision = p
        return o
    }
}

extension DMDOverheadBenchmark {
    /// `train-dmd bench-dmd`: runs the three trainers and prints their timings and the overhead.
    public static func run(_ options: DMDOverheadBenchmarkOptions) throws {
        #if DEBUG
        note("train-dmd bench-dmd: warning: this is a debug build; timings mean little (use swift run -c release train-dmd bench-dmd)")
        #endif
        let o = try options.benchmarkOptions()
        let r = try DMDOverheadBenchmark(options: o).run(log: { note("bench-dmd: " + $0) })
        print("OpenBLAS: \(r.blasConfiguration)")
        print("network \(o.widths.map(String.init).joined(separator: "→")), \(r.parameterCount) parameters, \(o.precision.rawValue); "
              + "\(o.trainSamples) training + \(o.testSamples) test samples, batch \(o.batchSize), \(o.threads) thread(s); m = \(o.m), s = \(o.s), svd \(o.svdMethod.rawValue)")
        print("\(r.plain.epochs) timed epochs per case (\(o.rounds) turns of \(o.m))")
        print("")
        print("case             | wall s/epoch  CPU s/epoch | backprop   eval | snapshot      dmd   assign jump-MSE | jumps | final train MSE")
        for c in [r.plain, r.dmd, r.dmdWithDiagnostics] {
            print(String(format: "%-16@ | %12.4f %12.4f | %8.4f %6.4f | %8.4f %8.4f %8.4f %8.4f | %5d | %.4g",
                         c.name as NSString, c.wallSecondsPerEpoch, c.cpuSecondsPerEpoch, c.backpropSeconds, c.evaluationSeconds,
                         c.snapshotSeconds, c.dmdSeconds, c.assignSeconds, c.jumpLossSeconds, c.jumps, c.finalTrainMSE))
        }
        print("")
        print(String(format: "overhead, DMD / plain per epoch:          wall %.4f, CPU %.4f; within the DMD run: %.4f",
                     r.overhead, r.dmd.cpuSecondsPerEpoch / r.plain.cpuSecondsPerEpoch, r.dmd.hookOverhead))
        print(String(format: "overhead with the jump MSE diagnostics:   wall %.4f, CPU %.4f; within the run:     %.4f", r.overheadWithDiagnostics,
                     r.dmdWithDiagnostics.cpuSecondsPerEpoch / r.plain.cpuSecondsPerEpoch, r.dmdWithDiagnostics.hookOverhead))
        print("target ≤ 1.03; the paper: 1.41")
    }
}
