import PDE

/// `[sampling]`: the Latin hypercube of formulation.md §1.
public struct SamplingSettings: Sendable, Equatable {
    /// The default range of each parameter, in the column order of `params.npy` (formulation.md §1 table).
    public static let defaultRanges: [ClosedRange<Double>] = [1...20, 0...10, 0.01...0.5, 0.01...2.0, -0.2...0.2, -0.2...0.2]

    public var samples: Int
    public var seed: UInt64
    public var trainFraction: Double
    public var maximinIterations: Int
    /// One interval per parameter, in `PollutantParameters.names` order.
    public var ranges: [ClosedRange<Double>]

    public init(_ r: SectionReader) throws {
        samples = try r.int("n_samples", default: 1000, in: 1...10_000_000)
        seed = UInt64(try r.int("seed", default: 20_210_601, in: 0...Int.max))
        trainFraction = try r.double("train_fraction", default: 0.8, in: 0...1)
        // The report compares training and test errors: the split must leave at least one test sample
        // (round(train_fraction · n_samples) training samples, the rest test).
        let trainCount = Int((trainFraction * Double(samples)).rounded())
        if trainFraction >= 1 || trainCount >= samples {
            throw r.error("train_fraction", "value \(trainFraction) leaves no test sample (round(\(trainFraction) · \(samples)) = \(trainCount) of \(samples) samples train); "
                          + "expected 0 ≤ value < 1 with at least one test sample, i.e. value < \(Double(2 * samples - 1) / Double(2 * samples))")
        }
        // ... and at least one training sample (the networks and the reduced-order models are fitted on them).
        if trainCount < 1 {
            throw r.error("train_fraction", "value \(trainFraction) leaves no training sample (round(\(trainFraction) · \(samples)) = 0 of \(samples) samples train); "
                          + (samples < 2 ? "a split needs at least 2 samples (sampling.n_samples)" : "expected a value ≥ \(1 / Double(2 * samples))"))
        }
        maximinIterations = try r.int("maximin_iterations", default: 0, in: 0...100_000_000)
        ranges = try zip(PollutantParameters.names, Self.defaultRanges).map { try r.interval($0.0, default: $0.1) }
        // U0 > 0 is needed by (F1); D > 0 by (F5)-(F7).
        if ranges[3].lowerBound <= 0 { throw r.error("U0", "the wind speed range must be positive (η in (F1) divides by U0)") }
        if ranges[2].lowerBound <= 0 { throw r.error("D", "the diffusion range must be positive") }
    }
}
