import Foundation
import NumericalFoundations

/// Bookkeeping of one stage run: inputs with hashes, outputs with shapes, timing, and the manifest.
public struct StageRecord {
    public var manifest: Manifest
    private let start = monotonicSeconds()

    public init(stage: String, config: PipelineConfig, seed: UInt64?) {
        manifest = Manifest(stage: stage, version: projectVersion, configFile: config.file, config: config.resolved, seed: seed)
    }

    public mutating func input(_ url: URL) throws { try manifest.addInput(url) }
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
