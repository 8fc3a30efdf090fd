import Foundation
import ArgumentParser
import NumericalFoundations

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

    /// An empty `--data-dir` would resolve to the current folder and scatter samples/, wind/, … there.
    public func validate() throws {
        if dataDir.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--data-dir is empty: name the data folder (e.g. --data-dir data, or --data-dir . for the current folder)")
        }
    }

    public var dataURL: URL { URL(fileURLWithPath: dataDir, isDirectory: true) }

    /// Loads and validates the configuration with the overrides applied (extra ones from stage flags first).
    /// An error in an override names it (`--set section.key=value`) rather than the file.
    public func loadConfig(extraOverrides: [String] = []) throws -> PipelineConfig {
        try loadConfig(flagOverrides: extraOverrides.map { (origin: "--set \($0)", assignment: $0) })
    }

    /// As `loadConfig(extraOverrides:)`, with each stage flag's override and the flag as the user wrote
    /// it (e.g. `("--epochs 0", "training.epochs=0")`), so that an out-of-range value blames the flag.
    /// A configuration file that sets no key at all gets a note on stderr: every default is used.
    public func loadConfig(flagOverrides: [(origin: String, assignment: String)]) throws -> PipelineConfig {
        let all = flagOverrides.map { ConfigOverride($0.assignment, origin: $0.origin) } + overrides.map { ConfigOverride($0) }
        let loaded = BestSurrogate.resolve(try PipelineConfig.load(URL(fileURLWithPath: config), overrides: all), data: dataURL)
        if loaded.fileSetsNoKeys, let defaults = try? PipelineConfig.parse("") {
            note("note: \(config) sets no keys: every value not given by a flag or --set is the default, i.e. the paper's full setup "
                 + "(\(defaults.sampling.samples) samples, a \(defaults.fem.problem.mesh.nx) x \(defaults.fem.problem.mesh.ny) mesh, \(defaults.training.epochs) epochs)")
        }
        return loaded
    }

    /// Takes the advisory lock of an output folder (see `OutputLock`), as a one-line stage error.
    /// Every stage but the first reads its inputs from the data folder, so a data folder that does not
    /// exist is a mistyped `--data-dir`: refused before the lock creates folders (and a `.lock`) there.
    public func lockOutput(_ folder: URL, createsDataFolder: Bool = false) throws -> OutputLock {
        var isFolder: ObjCBool = false
        if !createsDataFolder, !(FileManager.default.fileExists(atPath: dataURL.path, isDirectory: &isFolder) && isFolder.boolValue) {
            throw StageError("--data-dir \(dataDir): no such folder; the pipeline's first stage (lhs-sample) makes it: check the path, or run that stage first")
        }
        do { return try OutputLock(folder: folder) } catch let e as ArrayFileError { throw StageError(e.description) } catch let e as OutputInUse {
            throw StageError(e.description)
        }
    }
}

/// Writes a line to standard error (progress and warnings never mix with data on stdout).
public func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
