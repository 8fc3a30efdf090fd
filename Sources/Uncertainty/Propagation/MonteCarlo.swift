import Foundation
import NumericalFoundations

/// Forward propagation of input uncertainty by plain Monte Carlo, in batches, so that N = 10⁶ rows
/// never hold N × outputs values in memory: per output the streaming mean and variance
/// (`StreamingMoments`) and the quantiles of a fixed subsample (`QuantileSample`).
public struct MonteCarloSettings: Sendable, Equatable {
    /// Accepted (feasible) rows, i.e. model evaluations.
    public var samples: Int
    /// Rows per model call.
    public var batch: Int
    public var seed: UInt64
    /// Rows kept for the per-output quantiles (see `QuantileSample`).
    public var quantileSample: Int
    public var quantileLevels: [Double]
    /// Draws without a feasible row after which the run stops (a region of probability ≈ 0).
    public var maxDraws: Int
    /// Rows the model may fail to evaluate (`ModelRowFailures`), as a fraction of `samples`: they are
    /// skipped and counted; beyond it the run stops (the statistics would be conditioned on too much).
    public var maxFailureFraction: Double

    public init(samples: Int, batch: Int = 4096, seed: UInt64, quantileSample: Int = 10_000,
                quantileLevels: [Double] = [0.05, 0.95], maxDraws: Int? = nil, maxFailureFraction: Double = 0.01) {
        self.samples = samples; self.batch = batch; self.seed = seed; self.quantileSample = quantileSample
        self.quantileLevels = quantileLevels; self.maxDraws = maxDraws ?? max(1_000_000, 1000 * samples)
        self.maxFailureFraction = maxFailureFraction
    }
}

public struct MonteCarloResult: Sendable {
    public var outputs: Int
    /// Model evaluations (= accepted rows).
    public var samples: Int
    /// Rows drawn from the input distribution, accepted or not.
    public var draws: Int
    public var mean: [Double]
    public var variance: [Double]
    public var standardDeviation: [Double] { variance.map { $0.squareRoot() } }
    /// One array per level of `MonteCarloSettings.quantileLevels`.
    public var quantiles: [[Double]]
    public var quantileLevels: [Double]
    /// Rows behind the quantiles.
    public var quantileRows: Int
    /// The scalar quantity of interest of every accepted row, in draw order (N values).
    public var scalar: [Double]?
    /// Feasible rows the model could not evaluate: drawn, skipped, not among the samples.
    public var failures = EvaluationFailures()
    /// Fraction of draws outside the feasible region and its binomial standard error.
    public var infeasibleFraction: Double { draws > 0 ? Double(draws - samples - failures.count) / Double(draws) : 0 }
    public var infeasibleStandardError: Double {
        let p = infeasibleFraction
        return draws > 0 ? (p * (1 - p) / Double(draws)).squareRoot() : 0
    }
}

public enum MonteCarlo {
    /// Draws rows of `inputs` from `SeededGenerator(seed, stream: 0)` one after the other (d uniforms per
    /// row); with an `indicator`, infeasible rows are rejected (so the statistics are those of the
    /// inputs conditioned on the feasible region) and counted. The accepted rows go to `model` in calls
    /// of at most `batch` rows. `scalar` maps one output row to a scalar quantity of interest (e.g. the
    /// domain integral), whose N values are returned. `progress(done, total)` after each call.
    /// The rows, and hence the result up to the rounding of the batch merges, do not depend on `batch`.
    public static func propagate(inputs: InputModel, outputs: Int, settings: MonteCarloSettings,
                                 indicator: FeasibilityIndicator? = nil,
                                 scalar: ((ArraySlice<Double>) -> Double)? = nil,
                                 progress: ((Int, Int) -> Void)? = nil,
                                 model: BatchModel) throws -> MonteCarloResult {
        guard settings.samples >= 2 else { throw UQError("Monte Carlo needs at least 2 samples, got \(settings.samples)") }
        guard settings.batch >= 1 else { throw UQError("the batch size must be at least 1, got \(settings.batch)") }
        guard outputs >= 1 else { throw UQError("the model must have at least one output") }
        let d = inputs.dimension
        var generator = SeededGenerator(seed: settings.seed, stream: 0)
        var moments = StreamingMoments(outputs: outputs)
        var sample = QuantileSample(outputs: outputs, capacity: max(1, settings.quantileSample))
        var scalars: [Double] = []
        if scalar != nil { scalars.reserveCapacity(settings.samples) }
        var accepted = 0, draws = 0
        var failures = EvaluationFailures()
        while accepted < settings.samples {
            let want = min(settings.batch, settings.samples - accepted)
            var rows: [Double] = []
            rows.reserveCapacity(want * d)
            var taken = 0
            while taken < want {
                // Draw one row at a time so that the stream does not depend on the batch size.
                let row = inputs.sample(rows: 1, generator: &generator)
                draws += 1
                if let indicator, !indicator(row[...]) {
                    if accepted + taken == 0, draws >= settings.maxDraws {
                        throw UQError("no feasible row in \(draws) draws: the feasible region has (almost) no probability")
                    }
                    continue
                }
                rows += row
                taken += 1
            }
            var (y, failed) = try EvaluationFailures.evaluate(model, rows: rows, count: want, outputs: outputs)
            var kept = want
            if !failed.isEmpty {
                // A row the model cannot evaluate is skipped like an infeasible one, and counted.
                failures.record(failed)
                try failures.check(fraction: settings.maxFailureFraction, budget: settings.samples, what: "Monte Carlo sample")
                var compact: [Double] = []
                compact.reserveCapacity((want - failed.count) * outputs)
                for r in 0..<want where failed[r] == nil { compact += y[(r * outputs)..<((r + 1) * outputs)] }
                y = compact
                kept = want - failed.count
            }
            if kept > 0 {
                moments.add(y, rows: kept)
                sample.offer(y[...], rows: kept)
            }
            if let scalar {
                for r in 0..<kept { scalars.append(scalar(y[(r * outputs)..<((r + 1) * outputs)])) }
            }
            accepted += kept
            progress?(accepted, settings.samples)
        }
        let q = sample.quantiles(settings.quantileLevels, threads: ProcessInfo.processInfo.activeProcessorCount)
        return MonteCarloResult(outputs: outputs, samples: accepted, draws: draws, mean: moments.mean, variance: moments.variance,
                                quantiles: q, quantileLevels: settings.quantileLevels, quantileRows: sample.rows,
                                scalar: scalar == nil ? nil : scalars, failures: failures)
    }
}
