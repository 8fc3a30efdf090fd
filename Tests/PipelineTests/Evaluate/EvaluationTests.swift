import XCTest
import PDE
import Foundation
import NumericalFoundations
import Surrogates
@testable import Pipeline

final class EvaluationTests: XCTestCase {
    /// A tiny dataset on disk (N samples, a 4 × 3 observation grid) with two short trainings, then the
    /// whole evaluate stage: files exist, metrics agree with an independent computation from the
    /// trainer's own test predictions, and the report holds its sections.
    func testReportFromTinyDataset() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("evaluate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let config = try PipelineConfig.parse("""
            [sampling]
            n_samples = 30
            [fem]
            observation_nx = 4
            observation_ny = 3
            [network]
            hidden = [8]
            [training]
            epochs = 4
            batch_size = 8
            [evaluate]
            field_samples = 2
            """)
        let n = 30, nx = 4, ny = 3, p = nx * ny
        let ranges = config.sampling.ranges
        var params: [Double] = [], c3: [Double] = [], split: [UInt8] = [], status: [Int32] = []
        for i in 0..<n {
            let u = (0..<6).map { j in Double((i * (j + 3) + j) % n) / Double(n - 1) }
            params += zip(u, ranges).map { $0.1.lowerBound + $0.0 * ($0.1.upperBound - $0.1.lowerBound) }
            for k in 0..<p { c3.append(0.1 + 0.05 * sin(Double(k) * 0.3 + 2 * u[0]) * (1 + u[3])) }
            split.append(i % 4 == 0 ? 1 : 0)
            status.append(i == 5 ? 3 : 0)  // one failed FEM sample: excluded everywhere
        }
        var points: [Double] = []
        for j in 0..<ny { for i in 0..<nx { points += [0.1 + 0.2 * Double(i), 0.05 + 0.3 * Double(j)] } }
        try Npy.write(params, shape: [n, 6], to: data.appendingPathComponent("samples/params.npy"))
        try Npy.write(split, shape: [n], to: data.appendingPathComponent("samples/split.npy"))
        try Npy.write(c3, shape: [n, p], to: data.appendingPathComponent("fem/c3.npy"))
        try Npy.write(status, shape: [n], to: data.appendingPathComponent("fem/status.npy"))
        try Npy.write(points, shape: [p, 2], to: data.appendingPathComponent("fem/points.npy"))

        let scaler = try InputScaler(ranges: ranges)
        let dataset = try SurrogateDataset.load(layout: DataLayout(data), inputScaler: scaler, parameterNames: PollutantParameters.names)
        // A third run diverges in epoch 3 (a hook reporting a divergence): the report must say so.
        struct Blowup: DivergenceError { var description: String }
        final class Wrecker: TrainingHook {
            func afterEpoch(_ trainer: TrainerAccess) throws -> [String: Double] {
                if trainer.completedEpochs == 3 { throw Blowup(description: "test blow-up") }
                return [:]
            }
        }
        for (name, seed) in [("plain", UInt64(1)), ("dmd", UInt64(2)), ("blown", UInt64(3))] {
            var settings = TrainingRunSettings(hiddenWidths: [8], networkSeed: seed,
                                               trainer: TrainerOptions(batchSize: 8, threads: 1), epochs: 4, checkpointEvery: 2,
                                               inputRanges: ranges, inputNames: PollutantParameters.names)
            settings.stopOnDivergence = true
            _ = try TrainingRun.execute(dataset: dataset, settings: settings, modelDirectory: data.appendingPathComponent("models/\(name)"),
                                        resume: .never, hook: name == "blown" ? Wrecker() : nil)
        }

        // Jump columns written by hand into two histories (as the DMD hook writes them), with known
        // ratios: dmd jumps at epochs 2 (train ×0.5, test ×0.8) and 4 (train ×2, test ×1); blown at 2 (×0.25).
        func addJumps(_ name: String, _ jumps: [Int: (Double, Double)]) throws {
            let url = data.appendingPathComponent("models/\(name)/history.csv")
            var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
            lines[0] += ",jump,train_mse_before,train_mse_after,test_mse_before,test_mse_after"
            for i in 1..<lines.count {
                if let (train, test) = jumps[i - 1] { lines[i] += ",1,1.0,\(train),2.0,\(2 * test)" } else { lines[i] += ",0,,,," }
            }
            try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        }
        try addJumps("dmd", [2: (0.5, 0.8), 4: (2.0, 1.0)])
        try addJumps("blown", [2: (0.25, 0.5)])

        let inputs = try EvaluationInputs.load(data: data, modelNames: ["plain", "dmd", "blown"])
        XCTAssertEqual(inputs.models.map(\.name), ["plain", "dmd", "blown"])
        XCTAssertFalse(inputs.trainIndices.contains(5)); XCTAssertFalse(inputs.testIndices.contains(5))
        let folder = data.appendingPathComponent("report")
        let out = try EvaluationReport.write(inputs: inputs, config: config, configPath: "test.toml", dataPath: data.path, to: folder, threads: 1)

        // Independent check: the test MSE from the trainer's own predictions_test.npy and test_indices.npy.
        let predictions = try Npy.read(Double.self, from: data.appendingPathComponent("models/plain/predictions_test.npy"))
        let indices = try Npy.read(Int64.self, from: data.appendingPathComponent("models/plain/test_indices.npy")).values.map { Int($0) }
        XCTAssertEqual(indices, inputs.testIndices)
        var sum = 0.0
        for (r, i) in indices.enumerated() { for k in 0..<p { let d = predictions.values[r * p + k] - c3[i * p + k]; sum += d * d } }
        let mse = sum / Double(indices.count * p)
        let reported = try XCTUnwrap(out.metrics["models"]?["plain"]?["test_mse_physical"]?.number)
        // float32 network: the two prediction paths agree to float rounding of c3 ≈ 0.1 (relative 1e-5 is ample).
        XCTAssertEqual(reported, mse, accuracy: 1e-5 * mse + 1e-12)
        XCTAssertEqual(out.metrics["dataset"]?["fem_failed_or_skipped"]?.number, 1)

        for f in ["report.md", "report.html", "metrics.json", "figures/loss_curves.svg", "figures/time_per_epoch.svg",
                  "figures/field_1.svg", "figures/field_2.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(f).path), "missing \(f)")
        }
        let markdown = try String(contentsOf: folder.appendingPathComponent("report.md"), encoding: .utf8)
        for section in ["## Setup", "## Accuracy", "## Paper vs this run", "## Figures", "## Reproduce"] {
            XCTAssertTrue(markdown.contains(section), "report.md lacks \(section)")
        }
        XCTAssertNotNil(try JSONValue.parse(Data(contentsOf: folder.appendingPathComponent("metrics.json")))["comparison"])
        XCTAssertFalse(markdown.contains("## Paired acceleration study"), "no verdict folder, no section")
        XCTAssertEqual(out.metrics["models"]?["blown"]?["diverged"]?["epoch"]?.number, 3)
        XCTAssertEqual(out.metrics["models"]?["blown"]?["epochs"]?.number, 2, "the model and history of the last good epoch")
        XCTAssertNil(out.metrics["models"]?["plain"]?["diverged"])
        // Several accelerated runs: one row each, statistics from the hand-made ratios.
        let dmdTraining = out.metrics["dmd_runs"]?["dmd"]?["training"]
        XCTAssertEqual(dmdTraining?["mean_relative_error"]?.number, 1.25)
        XCTAssertEqual(dmdTraining?["median_relative_error"]?.number, 1.25)
        XCTAssertEqual(dmdTraining?["share_helped"]?.number, 0.5)
        XCTAssertEqual(out.metrics["dmd_runs"]?["dmd"]?["test"]?["mean_relative_error"]?.number ?? 0, 0.9, accuracy: 1e-15)
        XCTAssertEqual(out.metrics["dmd_runs"]?["blown"]?["training"]?["mean_relative_error"]?.number, 0.25)
        XCTAssertNil(out.metrics["dmd_runs"]?["plain"])
        XCTAssertTrue(markdown.contains("## DMD runs compared"), markdown)
        XCTAssertTrue(markdown.contains("| dmd | 2 | 50 | 1.25 | 1.25 | 0.9 |"), markdown)
        XCTAssertTrue(markdown.contains("**blown diverged** in epoch 3 of 4 and stopped there: test blow-up."), markdown)
    }

    /// The best pair of a sweep: the lowest finite value, NaN (not run) and +∞ (diverged) skipped.
    func testSweepBestPair() {
        let sweep = EvaluationInputs.Sweep(mValues: [2, 4], sValues: [5, 10, 15],
                                           training: [[0.9, .nan, 0.7], [.infinity, 0.8, 0.75]],
                                           test: [[.nan, .nan, .nan], [.infinity, .nan, .nan]])
        let best = sweep.best(test: false)
        XCTAssertEqual(best?.m, 2); XCTAssertEqual(best?.s, 15); XCTAssertEqual(best?.value, 0.7)
        XCTAssertNil(sweep.best(test: true))
    }

    func testMissingDatasetFileIsNamed() {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("evaluate-missing-\(UUID().uuidString)")
        XCTAssertThrowsError(try EvaluationInputs.load(data: data, modelNames: ["plain"])) { error in
            XCTAssertTrue("\(error)".contains("samples/params.npy"), "\(error)")
        }
    }

    func testModelSelection() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("select-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        try FileManager.default.createDirectory(at: data.appendingPathComponent("models/plain"), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: data.appendingPathComponent("models/plain/\(SurrogateModel.descriptionFile)"))
        let byDefault = try EvaluationInputs.selectModels(nil, data: data)
        XCTAssertEqual(byDefault.names, ["plain", "dmd"])
        XCTAssertEqual(byDefault.missing, ["dmd"])
        XCTAssertEqual(try EvaluationInputs.selectModels(" plain ", data: data).names, ["plain"])
        func message(_ list: String) -> String {
            do { _ = try EvaluationInputs.selectModels(list, data: data); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(message("plain,plain"), "--models \"plain,plain\": model plain is named twice; expected each model once")
        XCTAssertEqual(message("plain, dmd"), "--models: \(data.path)/models/dmd holds no trained model (no model.json); expected a folder written by train-dmd")
        XCTAssertEqual(message("plain,"), "--models \"plain,\": an empty model name; expected names separated by commas, e.g. plain,dmd")
        XCTAssertEqual(message("../x"), "--models \"../x\": ../x is not a folder name under \(data.path)/models")
    }
}
