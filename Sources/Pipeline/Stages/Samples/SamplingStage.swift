import Foundation
import ArgumentParser
import NumericalFoundations
import PDE
import Uncertainty

/// The command line of `lhs-sample`: the stage options and the overrides of [sampling].
public struct SamplingOptions: ParsableArguments {
    public static let discussion = """
        Writes DATA/samples/params.npy (N x 6 float64, columns K12, K3, D, U0, u_h, u_v),
        DATA/samples/split.npy (N uint8: 0 train, 1 test) and DATA/samples/manifest.json.
        """

    @OptionGroup public var stage: StageOptions

    @Option(parsing: .unconditional, help: "Number of samples (overrides sampling.n_samples).")
    public var samples: Int?

    @Option(parsing: .unconditional, help: "Random seed (overrides sampling.seed).")
    public var seed: Int?

    @Option(parsing: .unconditional, help: "Maximin swaps that raise the minimum pairwise distance while keeping the Latin property (overrides sampling.maximin_iterations; 0 = off).")
    public var maximinIterations: Int?

    public init() {}

    /// The flags as configuration overrides that name the flag.
    var flagOverrides: [(origin: String, assignment: String)] {
        var extra: [(origin: String, assignment: String)] = []
        if let samples { extra.append(("--samples \(samples)", "sampling.n_samples=\(samples)")) }
        if let seed { extra.append(("--seed \(seed)", "sampling.seed=\(seed)")) }
        if let maximinIterations { extra.append(("--maximin-iterations \(maximinIterations)", "sampling.maximin_iterations=\(maximinIterations)")) }
        return extra
    }
}

/// `lhs-sample`: the Latin hypercube of the six parameters (formulation.md §1) and the train/test split.
/// Each random choice has a stream of its own (0 the design, 1 the split, 2 the maximin swaps), so that
/// turning maximin on or off leaves the split unchanged.
public enum SamplingStage {
    public static func run(_ options: SamplingOptions) throws {
        let config = try options.stage.loadConfig(flagOverrides: options.flagOverrides)
        let settings = config.sampling
        var record = StageRecord(stage: "lhs-sample", config: config, seed: settings.seed)

        let dims = PollutantParameters.names.count
        var generator = SeededGenerator(seed: settings.seed, stream: 0)
        var design = LatinHypercube(count: settings.samples, dimensions: dims, generator: &generator)
        let before = design.minimumDistance
        var accepted = 0
        if settings.maximinIterations > 0 {
            var maximinGenerator = SeededGenerator(seed: settings.seed, stream: 2)
            accepted = design.improveMaximin(iterations: settings.maximinIterations, generator: &maximinGenerator)
        }
        // Without maximin the design is unchanged: its minimum distance is the one just computed.
        let after = settings.maximinIterations > 0 ? design.minimumDistance : before
        var splitGenerator = SeededGenerator(seed: settings.seed, stream: 1)
        let split = trainTestSplit(count: settings.samples, trainFraction: settings.trainFraction, generator: &splitGenerator)

        let samples = DataLayout(options.stage.dataURL).samples
        let lock = try options.stage.lockOutput(samples.folder, createsDataFolder: true)
        defer { lock.release() }
        try Npy.write(design.scaled(to: settings.ranges), shape: [settings.samples, dims], to: samples.params)
        try Npy.write(split, shape: [settings.samples], to: samples.split)
        record.output(samples.params)
        record.output(samples.split)
        record.detail("columns", .array(PollutantParameters.names.map { .string($0) }))
        record.detail("train_count", JSONValue(split.filter { $0 == 0 }.count))
        record.detail("test_count", JSONValue(split.filter { $0 == 1 }.count))
        record.detail("min_distance_unit_cube_before_maximin", settings.samples > 1 ? JSONValue(before) : .null)
        record.detail("min_distance_unit_cube", settings.samples > 1 ? JSONValue(after) : .null)
        record.detail("maximin_accepted_swaps", JSONValue(accepted))
        try record.finish(manifestAt: samples.manifest)
        note("lhs-sample: \(settings.samples) samples (\(split.filter { $0 == 0 }.count) train) → \(samples.params.path)"
             + (settings.maximinIterations > 0 ? String(format: "; maximin: min distance %.4f → %.4f (%d swaps kept)", before, after, accepted) : ""))
    }
}
