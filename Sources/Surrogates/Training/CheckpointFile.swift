import Foundation
import NumericalFoundations

/// The model folder's `checkpoint.bin`: NeuralNetwork's `TrainingCheckpoint` bytes (format SGCKPT02,
/// SHA-256 at the end), written atomically (`AtomicFile`: temporary file, fsync, rename) so that an
/// interrupted run leaves the previous checkpoint intact.
extension TrainingCheckpoint {
    public static let fileName = "checkpoint.bin"

    public static func write<S: NetworkScalar>(_ trainer: Trainer<S>, fingerprint: TrainingFingerprint, to url: URL) throws {
        try AtomicFile.write(try encode(trainer, fingerprint: fingerprint), to: url)
    }

    /// Reads what a checkpoint file describes (to report or compare before resuming).
    public static func summary(at url: URL) throws -> Summary {
        try summary(of: contents(of: url), source: url.path)
    }

    /// Restores `trainer` (and its hook) from the checkpoint file at `url`, after checking that it was
    /// made by the same setup (`fingerprint`).
    public static func restore<S: NetworkScalar>(_ trainer: Trainer<S>, fingerprint: TrainingFingerprint, from url: URL) throws {
        try restore(trainer, fingerprint: fingerprint, from: contents(of: url), source: url.path)
    }

    static func contents(of url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw ArrayFileError(path: url.path, "no checkpoint to resume from (missing or unreadable file); run without --resume to start afresh")
        }
    }
}
