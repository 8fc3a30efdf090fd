import Foundation
import NumericalFoundations

/// Everything that must be equal for a checkpoint to continue a run bit-for-bit. The number of
/// epochs is not part of it: a finished run can be resumed with more epochs.
public struct TrainingFingerprint: Codable, Equatable, Sendable {
    public var layout: NetworkLayout
    public var precision: NetworkPrecision
    public var networkSeed: UInt64
    public var batchSize: Int
    public var adam: AdamSettings
    public var shuffleSeed: UInt64
    public var outputStandardDeviationFloor: Double
    public var trainLoss: TrainLossMeasure
    /// SHA-256 of each input file, by file name.
    public var inputHashes: [String: String]
    /// The hook's `checkpointFingerprint` ("" without a hook).
    public var hook: String
    /// `BLASThreads.kernel` of the run: another kernel continues the same training with other last bits,
    /// so a resumed run would match neither kernel's uninterrupted run. Nil in checkpoints written
    /// before the kernel was recorded (accepted: their kernel is unknown, not known to differ).
    public var blasKernel: String?

    public init(layout: NetworkLayout, precision: NetworkPrecision, networkSeed: UInt64, batchSize: Int, adam: AdamSettings,
                shuffleSeed: UInt64, outputStandardDeviationFloor: Double, trainLoss: TrainLossMeasure = .fullPass,
                inputHashes: [String: String], hook: String, blasKernel: String? = BLASThreads.kernel) {
        self.layout = layout; self.precision = precision; self.networkSeed = networkSeed; self.batchSize = batchSize
        self.adam = adam; self.shuffleSeed = shuffleSeed; self.outputStandardDeviationFloor = outputStandardDeviationFloor
        self.trainLoss = trainLoss; self.inputHashes = inputHashes; self.hook = hook; self.blasKernel = blasKernel
    }

    /// The fields that differ, each as "name: checkpoint X, now Y".
    public func differences(from other: TrainingFingerprint) -> [String] {
        var out: [String] = []
        func compare<T: Equatable>(_ name: String, _ a: T, _ b: T, _ show: (T) -> String = { "\($0)" }) {
            if a != b { out.append("\(name): checkpoint \(show(a)), now \(show(b))") }
        }
        compare("network", layout, other.layout)
        compare("precision", precision, other.precision) { $0.rawValue }
        compare("network.seed", networkSeed, other.networkSeed)
        compare("training.batch_size", batchSize, other.batchSize)
        compare("training.learning_rate", adam.learningRate, other.adam.learningRate)
        compare("training.beta1", adam.beta1, other.adam.beta1)
        compare("training.beta2", adam.beta2, other.adam.beta2)
        compare("training.epsilon", adam.epsilon, other.adam.epsilon)
        compare("training.seed", shuffleSeed, other.shuffleSeed)
        compare("network.output_std_floor", outputStandardDeviationFloor, other.outputStandardDeviationFloor)
        compare("training.train_mse", trainLoss, other.trainLoss) { $0.rawValue }
        for name in Set(inputHashes.keys).union(other.inputHashes.keys).sorted() where inputHashes[name] != other.inputHashes[name] {
            out.append("input \(name): content changed since the checkpoint (SHA-256 \(inputHashes[name]?.prefix(12) ?? "none") → \(other.inputHashes[name]?.prefix(12) ?? "none"))")
        }
        compare("acceleration hook", hook, other.hook) { $0.isEmpty ? "none (plain training)" : $0 }
        if let mine = blasKernel, let theirs = other.blasKernel, mine != theirs {
            out.append("OpenBLAS kernel: checkpoint \(mine), now \(theirs) (set OPENBLAS_CORETYPE=\(mine.split(separator: " ").first ?? "") to resume)")
        }
        return out
    }
}

/// The trainer's full state as one block of bytes (the train stage, TrainingStage, keeps it in the
/// model folder's `checkpoint.bin`, written atomically). Resuming from it continues bit-for-bit: it holds the parameters, Adam's moments and per-layer step counts, the number of
/// epochs and steps done (the shuffle of epoch e is drawn from stream e of the seed, so the epoch
/// number *is* the random state), the history, and the hook's own state.
///
/// Layout: 8 bytes "SGCKPT02", a little-endian UInt64 header length, a JSON header, then the raw
/// little-endian arrays at the offsets the header lists (relative to the end of the header), and last
/// the SHA-256 of everything before it as 64 ASCII hex digits. A checkpoint whose checksum does not
/// match (a flipped bit, a torn copy) is refused; format 01 (no checksum) is refused too.
public enum TrainingCheckpoint {
    static let magic = Array("SGCKPT02".utf8)
    static let unsummedMagic = Array("SGCKPT01".utf8)
    static let checksumLength = 64

    struct Blob: Codable, Equatable {
        var name: String
        var offset: Int
        var byteCount: Int
    }

    struct Header: Codable {
        var format = "surrogate-training-checkpoint"
        var version = 1
        var fingerprint: TrainingFingerprint
        var completedEpochs: Int
        var optimizerSteps: Int
        var stepCounts: [Int]
        var threads: Int
        var history: TrainingHistory
        var blobs: [Blob]
    }

    /// What a checkpoint says about itself, without loading its arrays.
    public struct Summary: Sendable {
        public var fingerprint: TrainingFingerprint
        public var completedEpochs: Int
        public var threads: Int
    }

    /// JSON for checkpoint headers: sorted keys, non-finite numbers as "inf"/"-inf"/"nan" (a diverged
    /// run's losses must survive a round trip). Shared with the DMD hook's own checkpoint state.
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    /// The checkpoint of `trainer` (and its hook) in the layout above.
    public static func encode<S: NetworkScalar>(_ trainer: Trainer<S>, fingerprint: TrainingFingerprint) throws -> Data {
        guard !trainer.optimizer.settings.isScheduleFree else {
            throw NetworkError("a schedule-free optimizer's iterates z and x are not part of a checkpoint: such a training cannot be checkpointed")
        }
        let hookState = try trainer.hook?.checkpointState() ?? Data()
        let count = trainer.layout.parameterCount
        let arrays: [(String, UnsafeMutableBufferPointer<S>)] = [
            ("parameters", trainer.network.parameters),
            ("first_moments", trainer.optimizer.firstMoments),
            ("second_moments", trainer.optimizer.secondMoments),
        ]
        var blobs: [Blob] = []
        var offset = 0
        for (name, _) in arrays {
            blobs.append(Blob(name: name, offset: offset, byteCount: count * MemoryLayout<S>.stride))
            offset += count * MemoryLayout<S>.stride
        }
        blobs.append(Blob(name: "hook_state", offset: offset, byteCount: hookState.count))
        let header = Header(fingerprint: fingerprint, completedEpochs: trainer.completedEpochs, optimizerSteps: trainer.optimizerSteps,
                            stepCounts: trainer.optimizer.stepCounts, threads: trainer.options.threads,
                            history: trainer.history, blobs: blobs)
        let json = try encoder().encode(header)
        var data = Data(capacity: 16 + json.count + offset + hookState.count)
        data.append(contentsOf: magic)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, buffer) in arrays { data.append(UnsafeBufferPointer(buffer)) }
        data.append(hookState)
        data.append(contentsOf: Array(SHA256Digest.hex(of: data).utf8))
        return data
    }

    /// The file's bytes without the checksum, after checking the magic and the checksum.
    static func verified(_ data: Data, path: String) throws -> Data {
        if data.count >= 8, Array(data.prefix(8)) == unsummedMagic {
            throw ArrayFileError(path: path, "is a checkpoint of format 01, which has no checksum and is no longer resumed; start afresh (without --resume)")
        }
        guard data.count >= 16 + checksumLength, Array(data.prefix(8)) == magic else {
            throw ArrayFileError(path: path, "is not a training checkpoint (bad magic; expected \"SGCKPT02\")")
        }
        let body = data.prefix(data.count - checksumLength)
        let stored = String(decoding: data.suffix(checksumLength), as: UTF8.self)
        guard SHA256Digest.hex(of: body) == stored else {
            throw ArrayFileError(path: path, "checksum mismatch: the file is damaged or truncated (its SHA-256 differs from the one written with it), so it cannot be resumed; start afresh (without --resume)")
        }
        return body
    }

    static func readHeader(_ data: Data, path: String) throws -> (Header, payloadStart: Int) {
        guard data.count >= 16, Array(data.prefix(8)) == magic else {
            throw ArrayFileError(path: path, "is not a training checkpoint (bad magic; expected \"SGCKPT02\")")
        }
        let length = data.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(data.count - 16) else { throw ArrayFileError(path: path, "truncated checkpoint header") }
        let header: Header
        do { header = try decoder().decode(Header.self, from: data.subdata(in: 16..<(16 + Int(length)))) } catch {
            throw ArrayFileError(path: path, "unreadable checkpoint header: \(error)")
        }
        guard header.format == "surrogate-training-checkpoint", header.version == 1 else {
            throw ArrayFileError(path: path, "checkpoint format \(header.format) v\(header.version) is not supported (expected v1)")
        }
        let payloadStart = 16 + Int(length)
        for blob in header.blobs where blob.offset < 0 || blob.byteCount < 0 || payloadStart + blob.offset + blob.byteCount > data.count {
            throw ArrayFileError(path: path, "truncated checkpoint: array \(blob.name) lies beyond the end of the file")
        }
        return (header, payloadStart)
    }

    /// What a checkpoint says about itself, without loading its arrays (to report or compare before
    /// resuming). `source` names the bytes in errors (the file's path).
    public static func summary(of checkpoint: Data, source: String) throws -> Summary {
        let (header, _) = try readHeader(try verified(checkpoint, path: source), path: source)
        return Summary(fingerprint: header.fingerprint, completedEpochs: header.completedEpochs, threads: header.threads)
    }

    /// Restores `trainer` (and its hook) from `checkpoint`, after checking its checksum and that it was
    /// made by the same setup (`fingerprint`). `source` names the bytes in errors (the file's path).
    public static func restore<S: NetworkScalar>(_ trainer: Trainer<S>, fingerprint: TrainingFingerprint, from checkpoint: Data,
                                                 source: String) throws {
        let data = try verified(checkpoint, path: source)
        let (header, start) = try readHeader(data, path: source)
        let differences = header.fingerprint.differences(from: fingerprint)
        if differences.count == 1, let theirs = header.fingerprint.blasKernel, let mine = fingerprint.blasKernel, theirs != mine {
            throw NetworkError("the checkpoint \(source) was written under the OpenBLAS kernel \(theirs), this run has \(mine): "
                               + "set OPENBLAS_CORETYPE=\(theirs.split(separator: " ").first ?? "") to resume it, or run without --resume")
        }
        guard differences.isEmpty else {
            throw NetworkError("the checkpoint \(source) was made by another setup and cannot be resumed:\n  "
                               + differences.joined(separator: "\n  ")
                               + "\nrun without --resume to start afresh, or use --name to train into another folder")
        }
        func array(_ name: String) throws -> [S] {
            guard let blob = header.blobs.first(where: { $0.name == name }) else {
                throw ArrayFileError(path: source, "checkpoint has no array \(name)")
            }
            let count = trainer.layout.parameterCount
            guard blob.byteCount == count * MemoryLayout<S>.stride else {
                throw ArrayFileError(path: source, "checkpoint array \(name) has \(blob.byteCount) bytes, expected \(count) \(S.precision.rawValue) values")
            }
            return [S](unsafeUninitializedCapacity: count) { buffer, initialized in
                data.withUnsafeBytes { raw in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[(start + blob.offset)..<(start + blob.offset + blob.byteCount)]))
                }
                initialized = count
            }
        }
        try trainer.restore(completedEpochs: header.completedEpochs, optimizerSteps: header.optimizerSteps, stepCounts: header.stepCounts,
                            parameters: array("parameters"), firstMoments: array("first_moments"), secondMoments: array("second_moments"),
                            history: header.history)
        if let blob = header.blobs.first(where: { $0.name == "hook_state" }), let hook = trainer.hook {
            try hook.restoreCheckpointState(data.subdata(in: (start + blob.offset)..<(start + blob.offset + blob.byteCount)))
        }
    }
}
