import Foundation
import ArgumentParser
import Surrogates

/// The command line of `train-dmd bench`: one epoch of the paper network against the GEMM lower bound.
public struct TrainingBenchmarkOptions: ParsableArguments {
    public static let discussion = """
        Run it in a release build: swift run -c release train-dmd bench.

        For each thread count it measures the sgemm rate at a large size, then times epochs (800 synthetic samples by default) at each batch size, with the time per phase, the same epoch's GEMM calls alone, and the bound = epoch GEMM flops / large-size rate. The extrapolated time of 3000 epochs includes the full-set train and test MSE that training computes after every epoch.
        """

    @Option(help: "Layer widths, input first.") public var widths: String = "6,40,200,1000,2670"
    @Option(parsing: .unconditional, help: "Training samples.") public var samples: Int = 800
    @Option(parsing: .unconditional, help: "Test samples (the per-epoch test MSE).") public var testSamples: Int = 200
    @Option(help: "Batch sizes, comma-separated.") public var batches: String = "32,800"
    @Option(help: "Thread counts, comma-separated.") public var threads: String = "1,2"
    @Option(parsing: .unconditional, help: "Timed epochs per case, after one warm-up epoch; the fastest is reported.") public var epochs: Int = 5
    @Option(parsing: .unconditional, help: "Order of the square GEMM that measures the large-size rate.") public var gemmOrder: Int = 2048
    @Option(help: "float32 or float64.") public var precision: String = "float32"
    @Option(parsing: .unconditional, help: "Epochs of a full training run, for the extrapolated time.") public var runEpochs: Int = 3000
    @Flag(help: "Time the backward pass and Adam as two passes over a full gradient instead of the fused step.") public var unfused = false

    public init() {}

    /// The benchmark's settings; a malformed list or precision is a usage error.
    func benchmarkOptions() throws -> TrainingBenchmark.Options {
        var o = TrainingBenchmark.Options()
        func ints(_ text: String, _ name: String) throws -> [Int] {
            let v = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !v.isEmpty, v.allSatisfy({ ($0 ?? 0) > 0 }) else { throw ValidationError("--\(name) expects positive integers separated by commas, got \(text)") }
            return v.map { $0! }
        }
        o.widths = try ints(widths, "widths")
        o.trainSamples = samples
        o.testSamples = testSamples
        o.batchSizes = try ints(batches, "batches")
        o.threadCounts = try ints(threads, "threads")
        o.epochs = max(1, epochs)
        o.gemmOrder = gemmOrder
        guard let p = NetworkPrecision(rawValue: precision) else { throw ValidationError("--precision must be float32 or float64") }
        o.precision = p
        o.fusedUpdate = !unfused
        return o
    }
}

extension TrainingBenchmark {
    /// `train-dmd bench`: runs the benchmark and prints its table.
    public static func run(_ options: TrainingBenchmarkOptions) throws {
        #if DEBUG
        note("train-dmd bench: warning: this is a debug build; timings mean little (use swift run -c release train-dmd bench)")
        #endif
        let o = try options.benchmarkOptions()
        let result = try TrainingBenchmark(options: o).run(log: { note("bench: " + $0) })
        print("OpenBLAS: \(result.blasConfiguration)")
        print("step: " + (options.unfused ? "backward pass, then Adam over the full gradient" : "backward pass fused with Adam (gradient blocks in cache)"))
        print("network \(o.widths.map(String.init).joined(separator: "→")), \(result.parameterCount) parameters, \(o.precision.rawValue); "
              + "\(o.trainSamples) training + \(o.testSamples) test samples")
        print(String(format: "GEMM flops per epoch: training %.2f GFLOP, evaluation (train+test MSE) %.2f GFLOP",
                     result.trainingFlopsPerEpoch / 1e9, result.evaluationFlopsPerEpoch / 1e9))
        for t in o.threadCounts {
            print(String(format: "%d thread(s): large-size gemm (%d×%d×%d) %.1f GFLOP/s; streaming update %.1f GB/s", t,
                         o.gemmOrder, o.gemmOrder, o.gemmOrder, result.gemmRate[t]! / 1e9, result.streamBandwidth[t]! / 1e9))
        }
        print("")
        let runEpochs = options.runEpochs
        print("batch threads | train s/epoch  bound   ratio | gemm-only  forward backward   adam gather | adam/step | eval s  bound | \(runEpochs) epochs")
        for c in result.cases {
            print(String(format: "%5d %7d | %10.4f %8.4f %6.2f | %9.4f %8.4f %8.4f %6.4f %6.4f | %9.5f | %6.4f %6.4f | %@",
                         c.batchSize, c.threads, c.trainingSeconds, c.trainingBoundSeconds, c.trainingRatio,
                         c.gemmOnlySeconds, c.forwardSeconds, c.backwardSeconds, c.optimizerSeconds, c.gatherSeconds, c.adamStepSeconds,
                         c.evaluationSeconds, c.evaluationBoundSeconds, formatDuration(Double(runEpochs) * c.epochSeconds)))
        }
    }
}
