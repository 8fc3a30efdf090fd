import Foundation
import NumericalFoundations

/// The whole pipeline's configuration: one TOML file, one typed section per stage. Every executable
/// reads the whole file, so that an unknown key anywhere is caught by whichever stage runs first.
public struct PipelineConfig: Sendable {
    public var file: String
    public var sampling: SamplingSettings
    public var wind: WindSettings
    public var fem: FEMSettings
    public var network: NetworkSettings
    public var training: TrainingSettings
    public var dmd: DMDSettings
    public var evaluation: EvaluationSettings
    public var surrogate: SurrogateSettings
    public var uq: UQSettings
    /// The configuration as used (defaults filled in), for manifests.
    public var resolved: JSONValue
    /// True when the file itself set no key (an empty file, or only comments): every value is a default.
    public var fileSetsNoKeys: Bool

    /// Decodes and validates a configuration; `overrides` are `section.key=value` strings applied on top.
    public init(source: ConfigSource, overrides: [String] = []) throws {
        try self.init(source: source, overrides: overrides.map { ConfigOverride($0) })
    }

    /// As above, with each override's origin (the flag or `--set` the user wrote), named by its errors.
    public init(source: ConfigSource, overrides: [ConfigOverride]) throws {
        fileSetsNoKeys = source.fileKeyCount == 0
        for o in overrides { try source.applyOverride(o.assignment, origin: o.origin) }
        file = source.file
        sampling = try SamplingSettings(source.section("sampling"))
        wind = try WindSettings(source.section("wind"))
        fem = try FEMSettings(source.section("fem"))
        network = try NetworkSettings(source.section("network"))
        training = try TrainingSettings(source.section("training"))
        dmd = try DMDSettings(source.section("dmd"))
        evaluation = try EvaluationSettings(source.section("evaluate"))
        surrogate = try SurrogateSettings(source.section("surrogate"))
        uq = try UQSettings(source.section("uq"), box: sampling.ranges, defaultModel: surrogate.best.rawValue)
        let mesh = fem.problem.mesh
        for (key, coarse) in [("gp_low_fidelity_mesh", surrogate.gpLowFidelityMesh), ("podnn_low_fidelity_mesh", surrogate.podnnLowFidelityMesh)]
        where coarse.count == 2 && (coarse[0] > mesh.nx || coarse[1] > mesh.ny || (coarse[0] == mesh.nx && coarse[1] == mesh.ny)) {
            throw source.section("surrogate").error(key, "[\(coarse[0]), \(coarse[1])] is not coarser than [fem]'s \(mesh.nx) × \(mesh.ny) mesh; "
                                                    + "the low-fidelity model must be cheaper than the data it corrects (e.g. [24, 16])")
        }
        try source.checkNoUnknownKeys()
        resolved = source.resolvedJSON
        try MemoryRequirement.check(self, source: source, available: MemoryRequirement.physicalMemory)
    }

    public static func load(_ url: URL, overrides: [String] = []) throws -> PipelineConfig {
        try PipelineConfig(source: ConfigSource(contentsOf: url), overrides: overrides)
    }

    public static func load(_ url: URL, overrides: [ConfigOverride]) throws -> PipelineConfig {
        try PipelineConfig(source: ConfigSource(contentsOf: url), overrides: overrides)
    }

    public static func parse(_ text: String, file: String = "<string>", overrides: [String] = []) throws -> PipelineConfig {
        try PipelineConfig(source: ConfigSource(text: text, file: file), overrides: overrides)
    }

    public static func parse(_ text: String, file: String = "<string>", overrides: [ConfigOverride]) throws -> PipelineConfig {
        try PipelineConfig(source: ConfigSource(text: text, file: file), overrides: overrides)
    }
}

/// One `section.key=value` override and where it came from: `--set section.key=value` by default, or
/// the stage flag that stands for it (`--epochs 5`). Errors about that key name the origin, not the file.
public struct ConfigOverride: Sendable, Equatable {
    public var assignment: String
    public var origin: String
    public init(_ assignment: String, origin: String? = nil) {
        self.assignment = assignment
        self.origin = origin ?? "--set \(assignment)"
    }
}
