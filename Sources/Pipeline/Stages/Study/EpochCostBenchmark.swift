import Foundation
import NumericalFoundations
import Surrogates
import Uncertainty

/// CPU seconds per epoch of each method, measured so that the methods can be compared: one
/// process, one OpenBLAS thread, every method's trainer built once on the same data (evaluation
/// seed `seed`'s split), warmed up by one block, then `repetitions` rounds in which each method
/// trains one block of epochs in turn (the order rotating from round to round, so that a change in
/// the machine's load hits all alike). A block is a whole number of the method's jump periods
/// (m epochs for DMD, RRE/MPE/Anderson and Lookahead) of at least `blockEpochs` epochs, so that each
/// block holds its share of jumps. Per method: the CPU seconds per epoch of every block, their
/// minimum (the clock-free cost used for time to target) and median. For Adam → L-BFGS also the
/// cost of one full-batch gradient evaluation with its validation pass (its second phase).
public struct EpochCosts: Codable, Equatable, Sendable {
    public struct Entry: Codable, Equatable, Sendable {
        public var method: String
        public var blockEpochs: Int
        public var perEpoch: [Double]
        public var minimum: Double
        public var median: Double
        public var wallMedian: Double
        public var fullBatchEvaluation: [Double]?
        public var fullBatchMinimum: Double?
        public var fullBatchMedian: Double?
    }
    public var entries: [Entry]
    public var repetitions: Int
    public var fitSamples: Int
    public var seed: Int

    public func entry(_ method: String) -> Entry? { entries.first { $0.method == method } }

    public func markdown() -> String {
        var t = "CPU seconds per epoch, one process and one OpenBLAS thread, methods interleaved, \(repetitions) repetitions "
        t += "(\(fitSamples) fitting samples, evaluation seed \(seed)).\n\n| method | epochs per block | min s/epoch | median s/epoch | median wall s/epoch | min s per full-batch evaluation |\n|---|---:|---:|---:|---:|---:|\n"
        for e in entries {
            t += "| \(e.method) | \(e.blockEpochs) | \(String(format: "%.4g", e.minimum)) | \(String(format: "%.4g", e.median)) | \(String(format: "%.4g", e.wallMedian)) | "
            t += "\(e.fullBatchMinimum.map { String(format: "%.4g", $0) } ?? "—") |\n"
        }
        return t
    }
}

public enum EpochCostBenchmark {
    /// The epochs of one block of `method`: a multiple of its jump period, at least `minimum`.
    static func blockEpochs(_ method: AccelerationMethod, minimum: Int) -> Int {
        let period: Int
        switch method.accelerator {
        case .dmd(let s): period = s.snapshotTiming == .epoch ? s.snapshotCount : 1
        case .extrapolation(let s): period = s.differenceCount + 1
        case .lookahead(let s): if case .epochs(let k) = s.period { period = k } else { period = 1 }
        case .none, .lbfgs: period = 1
        }
        return period * max(1, (minimum + period - 1) / period)
    }

    final class Contender {
        let method: AccelerationMethod
        let trainer: Trainer<Float>
        let options: RegularizedTrainingOptions
        let block: Int
        var perEpoch: [Double] = [], wall: [Double] = [], fullBatch: [Double] = []
        var divergences = 0

        init(_ method: AccelerationMethod, trainer: Trainer<Float>, options: RegularizedTrainingOptions, block: Int) {
            self.method = method; self.trainer = trainer; self.options = options; self.block = block
        }

        func trainBlock() {
            for _ in 0..<block {
                trainer.optimizer.learningRateFactor = options.learningRateFactor(epoch: trainer.completedEpochs + 1)
                do { try trainer.trainEpochSpecialized() } catch { divergences += 1 }
            }
        }
    }

    public static func measure(methods: [AccelerationMethod], prepared: SurrogateFitStage.Prepared, config: PipelineConfig, epochs: Int, seed: Int,
                               repetitions: Int, blockEpochs minimum: Int, notice: (String) -> Void = { _ in }) throws -> EpochCosts {
        let tuned = try SurrogateFitStage.tunedOptions(config: config, threads: 1)
        var fitSamples = 0
        let contenders = try methods.map { method -> Contender in
            let spec = AccelerationRunSpec(method: method, seed: seed, epochs: epochs, stopAtValidationMSE: nil, paired: PairedRunSettings())
            let data = try AccelerationRun.runData(spec, prepared: prepared, config: config)
            fitSamples = data.fitRows.count
            let o = method.options(tuned: tuned, epochs: epochs, seed: seed, fitCount: data.fitRows.count)
            let setup = try RegularizedTraining.makeTrainer(Float.self, dataset: data.dataset, fitRows: data.fitRows, validationRows: data.validationRows,
                                                            inputScaler: data.inputScaler, transform: data.transform, options: o)
            setup.trainer.hook = try method.makeHook(layout: setup.layout, log: { _ in })
            let contender = Contender(method, trainer: setup.trainer, options: o, block: blockEpochs(method, minimum: minimum))
            contender.trainBlock()   // warm-up: page in the buffers, fill the snapshot windows
            return contender
        }
        let gradient = UnsafeMutableBufferPointer<Double>.allocate(capacity: contenders.first?.trainer.layout.parameterCount ?? 1)
        defer { gradient.deallocate() }
        for round in 0..<repetitions {
            for k in 0..<contenders.count {
                let c = contenders[(k + round) % contenders.count]
                let cpu = processCPUSeconds(), wall = monotonicSeconds()
                c.trainBlock()
                c.perEpoch.append((processCPUSeconds() - cpu) / Double(c.block))
                c.wall.append((monotonicSeconds() - wall) / Double(c.block))
                if case .lbfgs = c.method.accelerator, c.trainer.layout.parameterCount == gradient.count {
                    let start = processCPUSeconds()
                    for _ in 0..<c.block { _ = c.trainer.fullBatchLossAndGradient(into: gradient); c.trainer.assignParameterVector(c.trainer.parameterVector()); _ = c.trainer.testLoss() }
                    c.fullBatch.append((processCPUSeconds() - start) / Double(c.block))
                }
            }
            notice("train-dmd verdict cost: round \(round + 1) of \(repetitions) done")
        }
        let entries = contenders.map { c in
            EpochCosts.Entry(method: c.method.name, blockEpochs: c.block, perEpoch: c.perEpoch, minimum: c.perEpoch.min() ?? .nan,
                             median: Bootstrap.median(c.perEpoch), wallMedian: Bootstrap.median(c.wall),
                             fullBatchEvaluation: c.fullBatch.isEmpty ? nil : c.fullBatch, fullBatchMinimum: c.fullBatch.min(),
                             fullBatchMedian: c.fullBatch.isEmpty ? nil : Bootstrap.median(c.fullBatch))
        }
        for c in contenders where c.divergences > 0 {
            notice("train-dmd verdict cost: \(c.method.name) diverged in \(c.divergences) timed epochs (timed all the same)")
        }
        return EpochCosts(entries: entries, repetitions: repetitions, fitSamples: fitSamples, seed: seed)
    }
}
