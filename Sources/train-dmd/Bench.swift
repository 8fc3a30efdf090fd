import Foundation
import ArgumentParser
import Surrogates
import Pipeline

/// `train-dmd bench`: one epoch of the paper network against the GEMM lower bound.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time training epochs of the paper network on synthetic data against the GEMM lower bound.",
        discussion: """
        Run it in a release build: swift run -c release train-dmd bench.

        For each thread count it measures the sgemm rate at a large size, then times epochs (800 synthetic samples by default) at each batch size, with the time per phase, the same epoch's GEMM calls alone, and the bound = epoch GEMM flops / large-size rate. The extrapolated time of 3000 epochs includes the full-set train and test MSE that training computes after every epoch.
        """)

    @Option(help: "Layer widths, input first.") var widths: String = "6,40,200,1000,2670"
    @Option(help: "Training samples.") var samples: Int = 800
    @Option(help: "Test samples (the per-epoch test MSE).") var testSamples: Int = 200
    @Option(help: "Batch sizes, comma-separated.") var batches: String = "32,800"
    @Option(help: "Thread counts, comma-separated.") var threads: String = "1,2"
    @Option(help: "Timed epochs per case, after one warm-up epoch; the fastest is reported.") var epochs: Int = 5
    @Option(help: "Order of the square GEMM that measures the large-size rate.") var gemmOrder: Int = 2048
    @Option(help: "float32 or float64.") var precision: String = "float32"
    @Option(help: "Epochs of a full training run, for the extrapolated time.") var runEpochs: Int = 3000
    @Flag(help: "Time the backward pass and Adam as two passes over a full gradient instead of the fused step.") var unfused = false

    func run() throws {
        #if DEBUG
        note("train-dmd bench: warning: this is a debug build; timings mean little (use swift run -c release train-dmd bench)")
        #endif
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
        let result = try TrainingBenchmark(options: o).run(log: { note("bench: " + $0) })

        print("OpenBLAS: \(result.blasConfiguration)")
        print("step: " + (unfused ? "backward pass, then Adam over the full gradient" : "backward pass fused with Adam (gradient blocks in cache)"))
        print("network \(o.widths.map(String.init).joined(separator: "→")), \(result.parameterCount) parameters, \(p.rawValue); "
              + "\(o.trainSamples) training + \(o.testSamples) test samples")
        print(String(format: "GEMM flops per epoch: training %.2f GFLOP, evaluation (train+test MSE) %.2f GFLOP",
                     result.trainingFlopsPerEpoch / 1e9, result.evaluationFlopsPerEpoch / 1e9))
        for t in o.threadCounts {
            print(String(format: "%d thread(s): large-size gemm (%d×%d×%d) %.1f GFLOP/s; streaming update %.1f GB/s", t,
                         o.gemmOrder, o.gemmOrder, o.gemmOrder, result.gemmRate[t]! / 1e9, result.streamBandwidth[t]! / 1e9))
        }
        print("")
        print("batch threads | train s/epoch  bound   ratio | gemm-only  forward backward   adam gather | adam/step | eval s  bound | \(runEpochs) epochs")
        for c in result.cases {
            print(String(format: "%5d %7d | %10.4f %8.4f %6.2f | %9.4f %8.4f %8.4f %6.4f %6.4f | %9.5f | %6.4f %6.4f | %@",
                         c.batchSize, c.threads, c.trainingSeconds, c.trainingBoundSeconds, c.trainingRatio,
                         c.gemmOnlySeconds, c.forwardSeconds, c.backwardSeconds, c.optimizerSeconds, c.gatherSeconds, c.adamStepSeconds,
                         c.evaluationSeconds, c.evaluationBoundSeconds, formatDuration(Double(runEpochs) * c.epochSeconds)))
        }
    }
}

/// `train-dmd blas-kernel` (hidden): prints the OPENBLAS_CORETYPE that `pipeline.sh` exports — the
/// recommended kernel when OpenBLAS fell back to a generic one on this CPU and none was chosen — or
/// nothing. See `BLASKernelAdvice`.
struct BLASKernel: ParsableCommand, HelpLike {
    static let configuration = CommandConfiguration(
        commandName: "blas-kernel",
        abstract: "Print the OpenBLAS kernel to set in OPENBLAS_CORETYPE, if OpenBLAS fell back to a generic one (for pipeline.sh).",
        shouldDisplay: false)

    func run() throws {
        guard BLASKernelAdvice.current != nil, let core = BLASKernelAdvice.recommendedCoreType(cpuFlags: BLASKernelAdvice.cpuFlags()) else { return }
        print(core)
    }
}
