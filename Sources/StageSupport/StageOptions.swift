import Foundation
import ArgumentParser
import ArrayFiles
import Configuration

/// The project's version, recorded in every manifest.
public let projectVersion = "0.1.0"

/// Options every stage takes: the configuration, the data folder, and single-key overrides.
public struct StageOptions: ParsableArguments {
    @Option(name: .long, help: "TOML configuration file (see configs/).")
    public var config: String = "configs/paper.toml"

    @Option(name: .long, help: "Folder holding every input and output of the pipeline.")
    public var dataDir: String = "data"

    @Option(name: .customLong("set"), parsing: .singleValue,
            help: ArgumentHelp("Override one configuration key, e.g. --set fem.nx=40 (repeatable).", valueName: "section.key=value"))
    public var overrides: [String] = []

    public init() {}

    public var dataURL: URL { URL(fileURLWithPath: dataDir, isDirectory: true) }

    /// Loads and validates the configuration with the overrides applied (extra ones from stage flags first).
    public func loadConfig(extraOverrides: [String] = []) throws -> PipelineConfig {
        try PipelineConfig.load(URL(fileURLWithPath: config), overrides: extraOverrides + overrides)
    }
}

/// A failure a stage reports to its user: one line, non-zero exit, no stack trace.
public struct StageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

/// Wall-clock seconds since an arbitrary origin (monotonic).
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Writes a line to standard error (progress and warnings never mix with data on stdout).
public func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
