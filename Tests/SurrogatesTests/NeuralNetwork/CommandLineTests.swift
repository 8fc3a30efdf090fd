import XCTest
import _TestSupport
import NumericalFoundations
@testable import Surrogates
import Pipeline

/// The `train-dmd` executable end to end, on a data folder built in a temporary directory.
/// Skipped when the executable has not been built next to the tests (`swift build` builds it).
final class CommandLineTests: XCTestCase {
    struct Outcome { var status: Int32; var stderr: String }

    private func executable() throws -> URL {
        guard let folder = builtExecutableFolder(holding: "train-dmd", packageRoot: packageRoot(of: #filePath)) else {
            throw XCTSkip("train-dmd is not built (run swift build first)")
        }
        return folder.appendingPathComponent("train-dmd")
    }

    @discardableResult
    private func run(_ arguments: [String]) throws -> Outcome {
        let child = try runChild(try executable(), arguments)
        return Outcome(status: child.status, stderr: child.output)
    }

    func testTrainResumePredictAndErrors() throws {
        _ = try executable()
        let folder = try TestDataFolder()
        defer { folder.remove() }
        let config = folder.root.appendingPathComponent("tiny.toml")
        try """
        [network]
        hidden = [8]
        [training]
        epochs = 4
        batch_size = 8
        checkpoint_every = 2
        threads = 1
        learning_rate = 0.01
        """.write(to: config, atomically: true, encoding: .utf8)
        let common = ["--config", config.path, "--data-dir", folder.dataURL.path]

        // Without --no-dmd the run is DMD-accelerated (Algorithm 1, docs/dmd-training.md): model "dmd".
        let accelerated = try run(common + ["--set", "dmd.m=2", "--set", "dmd.s=2"])
        XCTAssertEqual(accelerated.status, 0, accelerated.stderr)
        let dmdModel = folder.dataURL.appendingPathComponent("models/dmd")
        for name in ["history.csv", "jumps.csv", "eigenvalues/jump_1_layer_0.npy", "eigenvalues/jump_2_layer_1.npy"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dmdModel.appendingPathComponent(name).path), name)
        }

        let trained = try run(common + ["--no-dmd"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stderr.contains("2 samples without a FEM solution left out"), trained.stderr)
        let plain = folder.dataURL.appendingPathComponent("models/plain")
        for name in ["model.json", "layer_0_weights.npy", "layer_0_bias.npy", "layer_1_weights.npy", "layer_1_bias.npy",
                     "input_lower.npy", "input_upper.npy", "output_mean.npy", "output_std.npy", "history.csv",
                     "predictions_test.npy", "test_indices.npy", "checkpoint.bin", "manifest.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: plain.appendingPathComponent(name).path), name)
        }
        let history = try String(contentsOf: plain.appendingPathComponent("history.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(history.count, 6, "header, epoch 0 and 4 epochs")
        XCTAssertTrue(history[0].hasPrefix("epoch,train_mse,test_mse,train_mse_physical,test_mse_physical,wall_seconds"))
        let manifest = try Manifest.read(from: plain.appendingPathComponent("manifest.json"))
        XCTAssertEqual(manifest.stage, "train-dmd")
        XCTAssertEqual(manifest.inputs.count, 4)
        XCTAssertEqual(manifest.details["epochs_completed"]?.number, 4)

        // Interrupted after epoch 2 and resumed: the same weights as the uninterrupted run.
        XCTAssertEqual(try run(common + ["--no-dmd", "--name", "part", "--stop-after", "3"]).status, 0)
        let resumed = try run(common + ["--no-dmd", "--name", "part", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming from epoch 3 of 4"), resumed.stderr)
        let part = folder.dataURL.appendingPathComponent("models/part")
        for name in ["layer_0_weights.npy", "layer_1_weights.npy", "layer_1_bias.npy", "predictions_test.npy"] {
            XCTAssertEqual(try Data(contentsOf: part.appendingPathComponent(name)), try Data(contentsOf: plain.appendingPathComponent(name)), name)
        }

        let otherArchitecture = try run(common + ["--no-dmd", "--resume", "--set", "network.hidden=[16]", "--epochs", "6"])
        XCTAssertNotEqual(otherArchitecture.status, 0)
        XCTAssertTrue(otherArchitecture.stderr.contains("6→8→5 (softsign), now 6→16→5"), otherArchitecture.stderr)
        let missing = try run(common + ["--no-dmd", "--resume", "--name", "never"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no checkpoint to resume from"), missing.stderr)

        // predict: a text file with a header, one set inside the box and one outside it.
        let sets = folder.root.appendingPathComponent("sets.csv")
        try "K12,K3,D,U0,u_h,u_v\n10, 5, 0.2, 1.0, 0.0, -0.1\n10, 5, 0.2, 3.0, 0.0, -0.1  # U0 too large\n"
            .write(to: sets, atomically: true, encoding: .utf8)
        let out = folder.root.appendingPathComponent("c3.npy")
        let predicted = try run(["predict", "--model", plain.path, "--params", sets.path, "--out", out.path])
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        XCTAssertTrue(predicted.stderr.contains("parameter set 1: U0 = 3.0 lies outside the training range"), predicted.stderr)
        let c3 = try Npy.read(Double.self, from: out, expectedShape: [2, 5])
        let surrogate = try SurrogateModel.load(from: plain)
        XCTAssertEqual(c3.values, try surrogate.predict(parameters: [10, 5, 0.2, 1.0, 0.0, -0.1, 10, 5, 0.2, 3.0, 0.0, -0.1], rows: 2))

        // Written in blocks (here of one and of two rows, bounded memory whatever N), the rows come out
        // in order: the same predictions as one call (to rounding: a GEMM of other sizes may sum in
        // another order), for .npy and .csv alike.
        let many = folder.root.appendingPathComponent("many.csv")
        var manySets: [[Double]] = []
        for k in 0..<5 {
            let x = Double(k)
            manySets.append([10 + x, 5, 0.1 + 0.05 * x, 1.0, 0.02 * x, -0.1])
        }
        let lines: [String] = manySets.map { set in set.map { "\($0)" }.joined(separator: ",") }
        try lines.joined(separator: "\n").write(to: many, atomically: true, encoding: .utf8)
        let whole = try surrogate.predict(parameters: manySets.flatMap { $0 }, rows: 5)
        for (block, name) in [(1, "blocks1.npy"), (2, "blocks2.npy"), (2, "blocks2.csv")] {
            let blockOut = folder.root.appendingPathComponent(name)
            try PredictStage.run(try PredictOptions.parse(["--model", plain.path, "--params", many.path, "--out", blockOut.path]), rowsPerBlock: block)
            let written: [Double]
            if name.hasSuffix(".npy") {
                written = try Npy.read(Double.self, from: blockOut, expectedShape: [5, 5]).values
            } else {
                written = try String(contentsOf: blockOut, encoding: .utf8).split(whereSeparator: { $0 == "," || $0 == "\n" }).map { Double($0)! }
            }
            XCTAssertEqual(written.count, whole.count, name)
            for (a, b) in zip(written, whole) { XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, abs(b)), name) }
        }

        // NaN in a .npy input: one error naming the file and the parameter, before any warning.
        let nanSets = folder.root.appendingPathComponent("nan.npy")
        try Npy.write([10, 5, 0.2, Double.nan, 0.0, -0.1], shape: [1, 6], to: nanSets)
        let nan = try run(["predict", "--model", plain.path, "--params", nanSets.path, "--out", out.path])
        XCTAssertNotEqual(nan.status, 0)
        XCTAssertTrue(nan.stderr.contains("nan.npy") && nan.stderr.contains("U0 = nan is not a finite number"), nan.stderr)
        XCTAssertFalse(nan.stderr.contains("warning"), nan.stderr)
        // Text that is not UTF-8 is called that, not a missing file.
        let latin1 = folder.root.appendingPathComponent("latin1.csv")
        try Data([0x31, 0x30, 0xE9, 0x0A]).write(to: latin1)
        let notUTF8 = try run(["predict", "--model", plain.path, "--params", latin1.path, "--out", out.path])
        XCTAssertTrue(notUTF8.stderr.contains("is not UTF-8 text"), notUTF8.stderr)

        // Blow-off: u_v = 0.1 > 0.619·sqrt(1e-5·1.0) with u_h ≤ 0 has no wind solution.
        try "10 5 0.2 1.0 -0.1 0.1\n".write(to: sets, atomically: true, encoding: .utf8)
        let blown = try run(["predict", "--model", plain.path, "--params", sets.path, "--out", out.path])
        XCTAssertEqual(blown.status, 0, blown.stderr)
        XCTAssertTrue(blown.stderr.contains("no wind solution (blow-off"), blown.stderr)
        try "10 5 0.2 1.0 -0.1\n".write(to: sets, atomically: true, encoding: .utf8)
        let short = try run(["predict", "--model", plain.path, "--params", sets.path, "--out", out.path])
        XCTAssertNotEqual(short.status, 0)
        XCTAssertTrue(short.stderr.contains("line 1 has 5 values; expected 6"), short.stderr)
    }
}
