import Foundation
import _TestSupport
@testable import Pipeline

/// configs/smoke.toml's samples, winds and FEM solves (no field files) in a temporary folder, made
/// once per test class that asks: the refine and descriptor tests only read it and write beside it.
final class SmokeDataSet: @unchecked Sendable {
    static let config = packageRoot(of: #filePath).appendingPathComponent("configs/smoke.toml").path
    private let prefix: String
    private var folder: URL?
    private let lock = NSLock()

    init(prefix: String) { self.prefix = prefix }

    /// The folder, made on first use.
    func data() throws -> URL {
        try lock.withLock {
            if let folder { return folder }
            let data = try makeTemporaryFolder(prefix)
            folder = data
            let common = ["--config", Self.config, "--data-dir", data.path]
            try SamplingStage.run(try SamplingOptions.parse(common))
            try WindStage.run(try StageOptions.parse(common))
            try PollutantStage.run(try StageOptions.parse(common + ["--set", "fem.fields=false"]), shard: nil)
            return data
        }
    }

    /// Removes the folder (a class's tearDown).
    func remove() {
        lock.withLock {
            if let folder { try? FileManager.default.removeItem(at: folder) }
            folder = nil
        }
    }
}
