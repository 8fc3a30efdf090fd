import Foundation
import ArrayFiles

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
    public var uq: UQSettings
    /// The configuration as used (defaults filled in), for manifests.
    public var resolved: JSONValue

    /// Decodes and validates a configuration; `overrides` are `section.key=value` strings applied on top.
    public init(source: ConfigSource, overrides: [String] = []) throws {
        for o in overrides { try source.applyOverride(o) }
        file = source.file
        sampling = try SamplingSettings(source.section("sampling"))
        wind = try WindSettings(source.section("wind"))
        fem = try FEMSettings(source.section("fem"))
        network = try NetworkSettings(source.section("network"))
        training = try TrainingSettings(source.section("training"))
        dmd = try DMDSettings(source.section("dmd"))
        evaluation = try EvaluationSettings(source.section("evaluate"))
        uq = try UQSettings(source.section("uq"), box: sampling.ranges)
        try source.checkNoUnknownKeys()
        resolved = source.resolvedJSON
    }

    public static func load(_ url: URL, overrides: [String] = []) throws -> PipelineConfig {
        try PipelineConfig(source: ConfigSource(contentsOf: url), overrides: overrides)
    }

    public static func parse(_ text: String, file: String = "<string>", overrides: [String] = []) throws -> PipelineConfig {
        try PipelineConfig(source: ConfigSource(text: text, file: file), overrides: overrides)
    }
}
