import Uncertainty

/// `[uq]`: uncertainty propagation and Sobol indices of c3 through the trained surrogate
/// (`uq-propagate`, docs/uq.md).
public struct UQSettings: Sendable, Equatable {
    /// Where the inputs are sampled: `feasible` = the [sampling] box conditioned on the existence of the
    /// wind similarity solution (where the surrogate was trained), `box` = the whole box.
    public enum Region: String, CaseIterable, Sendable { case feasible, box }
    /// One input distribution kind per parameter; bounds are always the [sampling] box.
    public enum Distribution: String, CaseIterable, Sendable { case uniform, normal, logUniform = "log_uniform" }

    /// Monte Carlo rows (model evaluations inside the region).
    public var samples: Int
    /// N of Saltelli's design: N (d + 2) rows.
    public var sobolN: Int
    /// Where A and B come from: a scrambled Sobol' sequence or pseudo-random rows.
    public var sobolDesign: SaltelliDesign
    public var bootstrap: Int
    /// Feasible samples of the FEM Monte Carlo reference, and the bootstrap resamples of its maps.
    public var referenceSamples: Int
    public var referenceBootstrap: Int
    public var seed: UInt64
    /// Rows per surrogate call.
    public var batch: Int
    /// Rows kept for the per-point 5 %/95 % quantiles.
    public var quantileSample: Int
    /// Model folder under DATA/models (default `[surrogate] best`).
    public var model: String
    public var region: Region
    public var distributions: [Distribution]
    /// Mean and standard deviation of each `normal` parameter (before truncation to the box); entries
    /// of other parameters are ignored. Default: the box centre and a quarter of its width.
    public var means: [Double]
    public var stds: [Double]
    public var threads: Int

    /// `defaultModel`: the model when `model` is not set, `[surrogate] best`.
    public init(_ r: SectionReader, box: [ClosedRange<Double>], defaultModel: String = "tuned") throws {
        let d = box.count
        samples = try r.int("n_samples", default: 100_000, in: 2...100_000_000)
        sobolN = try r.int("sobol_n", default: 8192, in: 2...10_000_000)
        sobolDesign = try r.choice("sobol_design", default: SaltelliDesign.scrambledSobol)
        bootstrap = try r.int("bootstrap", default: 200, in: 0...100_000)
        referenceSamples = try r.int("fem_reference_samples", default: 2000, in: 2...10_000_000)
        referenceBootstrap = try r.int("fem_reference_bootstrap", default: 1000, in: 1...100_000)
        seed = UInt64(try r.int("seed", default: 18, in: 0...Int.max))
        batch = try r.int("batch", default: 4096, in: 1...1_000_000)
        quantileSample = try r.int("quantile_sample", default: 10_000, in: 1...10_000_000)
        model = try r.string("model", default: defaultModel)
        guard !model.isEmpty, !model.contains("/"), model != ".", model != ".." else {
            throw r.error("model", "expected the name of a folder under DATA/models (no '/'), found \"\(model)\"")
        }
        region = try r.choice("region", default: Region.feasible)
        let kinds = try r.strings("distributions", default: [String](repeating: "uniform", count: d),
                                  allowed: Distribution.allCases.map(\.rawValue))
        guard kinds.count == d else { throw r.error("distributions", "expected \(d) entries (one per parameter, [sampling] order), found \(kinds.count)") }
        distributions = kinds.map { Distribution(rawValue: $0)! }
        means = try r.doubles("means", default: box.map { 0.5 * ($0.lowerBound + $0.upperBound) }, count: d)
        stds = try r.doubles("stds", default: box.map { 0.25 * ($0.upperBound - $0.lowerBound) }, count: d)
        for j in 0..<d {
            switch distributions[j] {
            case .uniform: break
            case .normal:
                guard stds[j] > 0 else { throw r.error("stds", "entry \(j + 1) must be > 0 for a normal parameter, found \(stds[j])") }
                let z = max((box[j].lowerBound - means[j]) / stds[j], (means[j] - box[j].upperBound) / stds[j])
                guard z < 7 else {
                    throw r.error("means", "entry \(j + 1) (\(means[j])) lies more than 7 standard deviations outside the box [\(box[j].lowerBound), \(box[j].upperBound)]")
                }
            case .logUniform:
                guard box[j].lowerBound > 0 else {
                    throw r.error("distributions", "entry \(j + 1) is log_uniform but the [sampling] range [\(box[j].lowerBound), \(box[j].upperBound)] is not positive")
                }
            }
        }
        threads = try r.int("threads", default: 2, in: 1...256)
    }
}
