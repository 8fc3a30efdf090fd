import XCTest
import ArrayFiles
@testable import NeuralNetwork

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
        _ = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 7), modelDirectory: whole, resume: false)
        _ = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 7), modelDirectory: again, resume: false)
        XCTAssertEqual(try files(whole), try files(again), "same seeds must give the same bytes")

        for (folderURL, stop) in [(split3, 3), (split4, 4)] {
            let first = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 7, stopAfter: stop),
                                                modelDirectory: folderURL, resume: false)
            XCTAssertEqual(first.completedEpochs, stop)
            XCTAssertFalse(first.finished)
            let second = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 7), modelDirectory: folderURL, resume: true)
            XCTAssertEqual(second.startEpoch, stop)
            XCTAssertEqual(second.completedEpochs, 7)
            XCTAssertEqual(try files(folderURL), try files(whole), "resumed after epoch \(stop)")
            XCTAssertEqual(try history(folderURL), try history(whole))
        }
        XCTAssertEqual(try history(whole).count, 9, "header, epoch 0 (initial state) and 7 epochs")

        // A finished run can be extended: resuming with more epochs continues where it ended.
        let extended = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 9), modelDirectory: whole, resume: true)
        XCTAssertEqual(extended.startEpoch, 7)
        XCTAssertEqual(try history(whole).count, 11)
    }

    /// A checkpoint is only resumed by the setup that wrote it: another architecture, batch size,
    /// or changed data is refused with the differences listed; so is a damaged file.
    func testResumeRefusesAnotherSetupOrDamagedCheckpoint() throws {
        let folder = try TestDataFolder()
        defer { folder.remove() }
        let data = try folder.load()
        let model = folder.root.appendingPathComponent("models/m")
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(), modelDirectory: model, resume: true),
                               contains: ["checkpoint.bin", "no checkpoint"])
        _ = try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 2), modelDirectory: model, resume: false)

        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(hidden: [16], epochs: 4),
                                                       modelDirectory: model, resume: true),
                               contains: ["another setup", "network: checkpoint 6→12→8→5 (softsign), now 6→16→5 (softsign)"])
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 4, batch: 4),
                                                       modelDirectory: model, resume: true),
                               contains: ["training.batch_size: checkpoint 8, now 4"])
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 4, precision: .float64),
                                                       modelDirectory: model, resume: true),
                               contains: ["precision: checkpoint float32, now float64"])
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 1),
                                                       modelDirectory: model, resume: true),
                               contains: ["epoch 2", "past training.epochs = 1"])

        var changed = folder
        changed.c3[0] *= 1.5
        try changed.write()
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: changed.load(), settings: TestDataFolder.settings(epochs: 4),
                                                       modelDirectory: model, resume: true),
                               contains: ["fem/c3.npy: content changed"])
        try folder.write()

        let checkpoint = model.appendingPathComponent(TrainingCheckpoint.fileName)
        let bytes = try Data(contentsOf: checkpoint)
        try bytes.prefix(bytes.count - 100).write(to: checkpoint)
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 4), modelDirectory: model, resume: true),
                               contains: ["checkpoint.bin", "truncated"])
        try Data("not a checkpoint at all".utf8).write(to: checkpoint)
        XCTAssertThrowsMessage(try TrainingRun.execute(dataset: data, settings: TestDataFolder.settings(epochs: 4), modelDirectory: model, resume: true),
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
                                                 modelDirectory: model, resume: false)
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
