import XCTest
import NumericalFoundations
@testable import Surrogates

final class TrainingRunTests: XCTestCase {
    private func files(_ folder: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".npy") {
            out[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        return out
    }

    private func history(_ folder: URL) throws -> [[String]] {
        // Every column but the timings, which measure time, not results.
        let lines = try String(contentsOf: folder.appendingPathComponent(TrainingRun.historyFile), encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        let kept = header.indices.filter { !TrainingHistory.timingColumns.contains(header[$0]) }
        return lines.map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return kept.map { cells[$0] }
        }
    }

    /// Stopping after epoch 3 (checkpoints every 2 epochs: the stop writes its own) and resuming
    /// gives byte-identical model files and history to an uninterrupted run of 7 epochs; so does
    /// a stop that falls on a checkpoint epoch (4). Runs with the same seeds are byte-identical.
    func testResumeEqualsUninterruptedRun() throws {
        let folder = try TestDataFolder()
        defer { folder.remove() }
        let data = try folder.load()
        let models = folder.root.appendingPathComponent("models")
        let whole = models.appendingPathComponent("whole"), again = models.appendingPathComponent("again")
        let split3 = models.appendingPathComponent("split3"), split4 = models.appendingPathComponent("split4")
        _ = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 7), modelDirectory: whole, resume: .never)
        _ = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 7), modelDirectory: again, resume: .never)
        XCTAssertEqual(try files(whole), try files(again), "same seeds must give the same bytes")

        for (folderURL, stop) in [(split3, 3), (split4, 4)] {
            let first = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 7, stopAfter: stop),
                                                modelDirectory: folderURL, resume: .never)
            XCTAssertEqual(first.completedEpochs, stop)
            XCTAssertFalse(first.finished)
            let second = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 7), modelDirectory: folderURL, resume: .always)
            XCTAssertEqual(second.startEpoch, stop)
            XCTAssertEqual(second.completedEpochs, 7)
            XCTAssertEqual(try files(folderURL), try files(whole), "resumed after epoch \(stop)")
            XCTAssertEqual(try history(folderURL), try history(whole))
        }
        XCTAssertEqual(try history(whole).count, 9, "header, epoch 0 (initial state) and 7 epochs")

        // A finished run can be extended: resuming with more epochs continues where it ended.
        let extended = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 9), modelDirectory: whole, resume: .always)
        XCTAssertEqual(extended.startEpoch, 7)
        XCTAssertEqual(try history(whole).count, 11)
    }

    /// A run that diverges in epoch 5 with `stopOnDivergence` still writes its folder: the model and
    /// predictions of epoch 4 (byte-identical to a run of 4 epochs), the history up to epoch 4,
    /// model.json naming the divergence; the checkpoint of epoch 4 is left as it was.
    func testDivergedRunWritesTheLastGoodModel() throws {
        let folder = try TestDataFolder()
        defer { folder.remove() }
        let data = try folder.load()
        let models = folder.root.appendingPathComponent("models")
        let four = models.appendingPathComponent("four"), diverged = models.appendingPathComponent("diverged")
        _ = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 4), modelDirectory: four, resume: .never)

        var settings = TestDataFolder.settings(epochs: 7)
        settings.stopOnDivergence = true
        let report = try TrainingRun.execute(dataset: data, settings: settings, modelDirectory: diverged, resume: .never, hook: DivergingHook(epoch: 5))
        XCTAssertEqual(report.divergence, Divergence(epoch: 5, message: "blown up in epoch 5"))
        XCTAssertEqual(report.completedEpochs, 4)
        XCTAssertFalse(report.finished)
        XCTAssertEqual(try files(diverged), try files(four), "weights, scalers and predictions of epoch 4")
        XCTAssertEqual(try history(diverged), try history(four))
        let description = try SurrogateModel.load(from: diverged).description
        XCTAssertEqual(description.divergence, Divergence(epoch: 5, message: "blown up in epoch 5"))
        XCTAssertEqual(description.epochsCompleted, 4)
        XCTAssertNil(try SurrogateModel.load(from: four).description.divergence)
        XCTAssertEqual(try TrainingCheckpoint.summary(at: diverged.appendingPathComponent(TrainingCheckpoint.fileName)).completedEpochs, 4)

        // Without stopOnDivergence the same run is an error.
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 7),
                                                       modelDirectory: models.appendingPathComponent("strict"), resume: .never, hook: DivergingHook(epoch: 5)),
                               contains: ["blown up in epoch 5"])
    }

    /// `.ifCompatible` (pipeline.sh): an interrupted run of the same setup continues and ends with the
    /// same bytes as an uninterrupted one; a checkpoint of another setup or a damaged one is not an
    /// error there, the run starts afresh and says why.
    func testResumeIfCompatibleContinuesOrStartsAfresh() throws {
        let folder = try TestDataFolder()
        defer { folder.remove() }
        let data = try folder.load()
        let models = folder.root.appendingPathComponent("models")
        let whole = models.appendingPathComponent("whole"), model = models.appendingPathComponent("m")
        _ = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 5), modelDirectory: whole, resume: .never)

        // Nothing to resume: a fresh start, without a notice.
        var notices: [String] = []
        let first = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 5, stopAfter: 2), modelDirectory: model,
                                            resume: .ifCompatible, notice: { notices.append($0) })
        XCTAssertEqual(first.startEpoch, 0)
        XCTAssertEqual(first.completedEpochs, 2)
        // Interrupted after epoch 2: the rerun continues from there.
        let second = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 5), modelDirectory: model,
                                             resume: .ifCompatible, notice: { notices.append($0) })
        XCTAssertEqual(second.startEpoch, 2)
        XCTAssertEqual(second.completedEpochs, 5)
        XCTAssertEqual(try files(model), try files(whole), "resumed run must end with the uninterrupted run's bytes")
        XCTAssertTrue(notices.contains { $0.contains("resuming from epoch 2") }, "\(notices)")

        // Another setup (batch size): no error, a fresh start that names the difference.
        notices = []
        let other = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 3, batch: 4), modelDirectory: model,
                                            resume: .ifCompatible, notice: { notices.append($0) })
        XCTAssertEqual(other.startEpoch, 0)
        XCTAssertEqual(other.completedEpochs, 3)
        XCTAssertTrue(notices.contains { $0.contains("another setup") && $0.contains("training.batch_size: checkpoint 8, now 4") }, "\(notices)")

        // A damaged checkpoint: a fresh start too.
        notices = []
        try Data("not a checkpoint at all".utf8).write(to: model.appendingPathComponent(TrainingCheckpoint.fileName))
        let damaged = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 3, batch: 4), modelDirectory: model,
                                              resume: .ifCompatible, notice: { notices.append($0) })
        XCTAssertEqual(damaged.startEpoch, 0)
        XCTAssertTrue(notices.contains { $0.contains("cannot be read") && $0.contains("bad magic") }, "\(notices)")
    }

    /// A checkpoint is only resumed by the setup that wrote it: another architecture, batch size,
    /// or changed data is refused with the differences listed; so is a damaged file.
    /// The OpenBLAS kernel is part of the setup: another one continues with other last bits. A checkpoint
    /// from before kernels were recorded (nil) is accepted.
    func testFingerprintHoldsTheBLASKernel() throws {
        func fingerprint(_ kernel: String?) throws -> TrainingFingerprint {
            TrainingFingerprint(layout: try NetworkLayout(widths: [6, 4, 2], activation: .softsign), precision: .float32, networkSeed: 1,
                                batchSize: 8, adam: AdamSettings(), shuffleSeed: 2, outputStandardDeviationFloor: 1e-6,
                                inputHashes: [:], hook: "", blasKernel: kernel)
        }
        XCTAssertEqual(try fingerprint("Prescott (OpenBLAS 0.3.21 Prescott)").differences(from: fingerprint("SkylakeX (OpenBLAS 0.3.21 SkylakeX)")),
                       ["OpenBLAS kernel: checkpoint Prescott (OpenBLAS 0.3.21 Prescott), now SkylakeX (OpenBLAS 0.3.21 SkylakeX) "
                        + "(set OPENBLAS_CORETYPE=Prescott to resume)"])
        XCTAssertEqual(try fingerprint(nil).differences(from: fingerprint("SkylakeX (OpenBLAS 0.3.21 SkylakeX)")), [])
        let byDefault = TrainingFingerprint(layout: try NetworkLayout(widths: [6, 2], activation: .softsign), precision: .float32,
                                            networkSeed: 1, batchSize: 8, adam: AdamSettings(), shuffleSeed: 2,
                                            outputStandardDeviationFloor: 1e-6, inputHashes: [:], hook: "")
        XCTAssertEqual(byDefault.blasKernel, BLASThreads.kernel, "a run records the kernel of its process")
    }

    func testResumeRefusesAnotherSetupOrDamagedCheckpoint() throws {
        let folder = try TestDataFolder()
        defer { folder.remove() }
        let data = try folder.load()
        let model = folder.root.appendingPathComponent("models/m")
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(), modelDirectory: model, resume: .always),
                               contains: ["checkpoint.bin", "no checkpoint"])
        _ = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 2), modelDirectory: model, resume: .never)

        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(hidden: [16], epochs: 4),
                                                       modelDirectory: model, resume: .always),
                               contains: ["another setup", "network: checkpoint 6→12→8→5 (softsign), now 6→16→5 (softsign)"])
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 4, batch: 4),
                                                       modelDirectory: model, resume: .always),
                               contains: ["training.batch_size: checkpoint 8, now 4"])
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 4, precision: .float64),
                                                       modelDirectory: model, resume: .always),
                               contains: ["precision: checkpoint float32, now float64"])
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 1),
                                                       modelDirectory: model, resume: .always),
                               contains: ["epoch 2", "past training.epochs = 1"])

        var changed = folder
        changed.c3[0] *= 1.5
        try changed.write()
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: changed.load(), settings: TestDataFolder.settings(epochs: 4),
                                                       modelDirectory: model, resume: .always),
                               contains: ["fem/c3.npy: content changed"])
        try folder.write()

        let checkpoint = model.appendingPathComponent(TrainingCheckpoint.fileName)
        let bytes = try Data(contentsOf: checkpoint)
        try bytes.prefix(bytes.count - 100).write(to: checkpoint)
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 4), modelDirectory: model, resume: .always),
                               contains: ["checkpoint.bin", "truncated"])
        // One flipped bit anywhere (here in the parameters): refused by the checksum.
        var flipped = bytes
        flipped[bytes.count - 200] ^= 0x10
        try flipped.write(to: checkpoint)
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 4), modelDirectory: model, resume: .always),
                               contains: ["checkpoint.bin: checksum mismatch: the file is damaged or truncated", "start afresh"])
        var notices: [String] = []
        let restarted = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 2), modelDirectory: model,
                                                resume: .ifCompatible, notice: { notices.append($0) })
        XCTAssertEqual(restarted.startEpoch, 0)
        XCTAssertTrue(notices.contains { $0.contains("cannot be read") && $0.contains("checksum mismatch") }, "\(notices)")
        try Data("not a checkpoint at all".utf8).write(to: checkpoint)
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 4), modelDirectory: model, resume: .always),
                               contains: ["checkpoint.bin", "bad magic"])
    }

    /// The saved model reproduces the trainer's test predictions (physical units), in both
    /// precisions; its files are checked against model.json when loaded.
    func testModelFolderRoundTripAndChecks() throws {
        let folder = try TestDataFolder()
        defer { folder.remove() }
        let data = try folder.load()
        for precision in NetworkPrecision.allCases {
            let model = folder.root.appendingPathComponent("models/\(precision)")
            let report = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 3, precision: precision),
                                                 modelDirectory: model, resume: .never)
            XCTAssertEqual(report.testCount, 9)
            let saved = try Npy.read(Double.self, from: model.appendingPathComponent(TrainingRun.predictionsFile), expectedShape: [9, 5])
            let indices = try Npy.read(Int64.self, from: model.appendingPathComponent(TrainingRun.testIndicesFile), expectedShape: [9])
            XCTAssertEqual(indices.values.map { Int($0) }, data.testIndices)
            let surrogate = try SurrogateModel.load(from: model)
            XCTAssertEqual(surrogate.description.precision, precision)
            XCTAssertEqual(surrogate.layout.widths, [6, 12, 8, 5])
            let rows = data.testIndices.flatMap { folder.params[($0 * 6)..<($0 * 6 + 6)] }
            let predicted = try surrogate.predict(parameters: rows, rows: 9)
            // Same network, same inputs, same order of operations: identical numbers.
            XCTAssertEqual(predicted, saved.values)
            XCTAssertEqual(surrogate.outOfRange(parameters: [1, 0, 0.01, 2.5, 0, 0.3]).map { $0.column }, [3, 5])
        }
        let model = folder.root.appendingPathComponent("models/float32")
        // A layer file of the wrong shape (another architecture's) is refused, naming the file.
        try Npy.write([Float](repeating: 0, count: 12 * 7), shape: [12, 7], to: model.appendingPathComponent("layer_0_weights.npy"))
        XCTAssertThrowsMessage(try SurrogateModel.load(from: model), contains: ["layer_0_weights.npy", "shape is (12, 7)", "(12, 6)"])
        try Npy.write([Double](repeating: 0, count: 12 * 6), shape: [12, 6], to: model.appendingPathComponent("layer_0_weights.npy"))
        XCTAssertThrowsMessage(try SurrogateModel.load(from: model), contains: ["layer_0_weights.npy", "dtype"])
        XCTAssertThrowsMessage(try SurrogateModel.load(from: folder.root), contains: ["model.json", "not a model folder"])
    }
}
