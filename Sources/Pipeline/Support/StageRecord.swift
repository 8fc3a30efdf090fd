import Foundation
import NumericalFoundations

/// Bookkeeping of one stage run: inputs with hashes, outputs with shapes, timing, and the manifest.
public struct StageRecord {
    public var manifest: Manifest
    private let start = monotonicSeconds()

    public init(stage: String, config: PipelineConfig, seed: UInt64?) {
        manifest = Manifest(stage: stage, version: projectVersion, configFile: config.file, config: config.resolved, seed: seed)
    }

    /// Records an input with its SHA-256 (shared with `Provenance`'s check: each file is hashed once).
    public mutating func input(_ url: URL) throws { manifest.addInput(try Provenance.inputFile(url)) }
    /// Records an input whose hash was taken when it was read (`Provenance.read`).
    public mutating func input(_ file: Manifest.InputFile) { manifest.addInput(file) }
    public mutating func output(_ url: URL) { manifest.addOutput(url) }
    public mutating func detail(_ key: String, _ value: JSONValue) {
        var o = manifest.details.object ?? [:]
        o[key] = value
        manifest.details = .object(o)
    }

    /// Writes the manifest (atomically) with the elapsed wall time.
    public mutating func finish(manifestAt url: URL) throws {
        manifest.wallSeconds = monotonicSeconds() - start
        try manifest.write(to: url)
    }
}
