import XCTest
import Foundation
import NumericalFoundations
import PDE
import Surrogates
import _TestSupport
@testable import Pipeline

/// The wind's descriptors as POD inputs (`[surrogate] gp_input_features` or `podnn_input_features = "parameters+wind"`) on
/// configs/smoke.toml's data: the provider gives the wind stage's summary, a fitted model
/// round-trips through its folder, and a model fitted with them refuses to predict without them.
final class WindDescriptorTests: XCTestCase {
    static let smoke = SmokeDataSet(prefix: "wind-descriptors-test")
    static var config: String { SmokeDataSet.config }

    override class func tearDown() { smoke.remove() }

    func smokeData() throws -> URL { try Self.smoke.data() }

    /// The provider's descriptors of every sample equal wind/summary.npy's row bit for bit (tolerance
    /// 0: the same `WindBatch.solveSample` with the same solver settings, a deterministic scalar
    /// integration per sample); a sample without a profile is a failure naming its status, and
    /// `values` names the parameter set. The source rebuilt from a model file's record agrees too.
    func testProviderGivesTheWindStagesSummary() throws {
        let data = try smokeData()
        let config = try PipelineConfig.load(URL(fileURLWithPath: Self.config))
        let layout = DataLayout(data)
        let params = try Npy.read(Double.self, from: layout.samples.params, expectedShape: [nil, 6])
        let summary = try Npy.read(Double.self, from: layout.wind.summary, expectedShape: [params.rows, 4])
        let status = try Npy.read(Int32.self, from: layout.wind.status, expectedShape: [params.rows]).values
        let provider = WindDescriptors(wind: config.wind)
        let solved = try provider.solve(parameters: params.values, rows: params.rows)
        var compared = 0, without: Int?
        for i in 0..<params.rows {
            switch solved[i] {
            case .success(let v):
                XCTAssertTrue(WindStatus(rawValue: status[i])?.hasProfile ?? false, "sample \(i)")
                XCTAssertEqual(v, Array(summary.values[(4 * i)..<(4 * i + 4)]), "sample \(i)")
                compared += 1
            case .failure(let e):
                XCTAssertFalse(WindStatus(rawValue: status[i])?.hasProfile ?? true, "sample \(i): \(e)")
                XCTAssertTrue(e.description.contains(WindStatus(rawValue: status[i])?.label ?? "?"), e.description)
                without = without ?? i
            }
        }
        XCTAssertGreaterThan(compared, 10)
        let blownOff = try XCTUnwrap(without, "the smoke box holds blow-off samples")
        let row = Array(params.values[(6 * blownOff)..<(6 * blownOff + 6)])
        let good = try XCTUnwrap(solved.firstIndex { if case .success = $0 { return true } else { return false } })
        let goodRow = Array(params.values[(6 * good)..<(6 * good + 6)])
        XCTAssertThrowsError(try provider.values(parameters: goodRow + row, rows: 2, threads: 1)) {
            XCTAssertTrue("\($0)".contains("parameter set 1"), "\($0)")
            XCTAssertTrue("\($0)".contains("where the wind exists"), "\($0)")
        }
        let recorded = try DescriptorInputs(source: WindDescriptors.sourceName, names: provider.names, settings: provider.settings,
                                            values: try provider.values(parameters: goodRow, rows: 1, threads: 1), rows: 1)
        XCTAssertEqual(try WindDescriptors(recorded: recorded).values(parameters: goodRow, rows: 1, threads: 1),
                       Array(summary.values[(4 * good)..<(4 * good + 4)]))
        var foreign = recorded; foreign.source = "elsewhere"
        XCTAssertThrowsError(try WindDescriptors(recorded: foreign)) { XCTAssertTrue("\($0)".contains("elsewhere"), "\($0)") }
    }

    /// `train-dmd fit` of POD-GP and POD-NN with the descriptors: the folder records them, the model
    /// loaded with the pipeline's source predicts the test split with the bits the fit wrote, the
    /// loaded model without a source refuses with a message naming the descriptors, and a blow-off θ
    /// is an error naming the parameter set.
    func testFittedModelRoundTripsAndRefusesWithoutDescriptors() throws {
        let data = try smokeData()
        let config = try PipelineConfig.load(URL(fileURLWithPath: Self.config),
                                             overrides: ["surrogate.gp_input_features=parameters+wind", "surrogate.podnn_input_features=parameters+wind",
                                                         "surrogate.podnn_derivative_weight=0"])
        let outcomes = try SurrogateFitStage.run(config: config, dataDirectory: data, models: [.podGP, .podNN], threads: 1) { _ in }
        XCTAssertEqual(outcomes.count, 2)
        let layout = DataLayout(data)
        let params = try Npy.read(Double.self, from: layout.samples.params, expectedShape: [nil, 6])
        for outcome in outcomes {
            let folder = outcome.folder
            let test = try Npy.read(Int64.self, from: folder.appendingPathComponent(TrainingRun.testIndicesFile)).values.map { Int($0) }
            let written = try Npy.read(Double.self, from: folder.appendingPathComponent(TrainingRun.predictionsFile))
            let testParameters = test.flatMap { params.values[($0 * 6)..<(($0 + 1) * 6)] }
            let loaded = try SurrogateLoader.load(from: folder, descriptorSources: WindDescriptors.factory)
            XCTAssertEqual(loaded.descriptorInputs?.names, WindDescriptors.descriptorNames)
            XCTAssertEqual(try loaded.predict(parameters: testParameters, rows: test.count, threads: 1), written.values, "\(folder.lastPathComponent): bit for bit")
            let fit = try JSONValue.parse(Data(contentsOf: folder.appendingPathComponent(SurrogateFitStage.fitFile)))
            XCTAssertEqual(fit["inputs"], .array((PollutantParameters.names + WindDescriptors.descriptorNames).map { .string($0) }))

            let blind = try SurrogateLoader.load(from: folder)
            XCTAssertThrowsError(try blind.predict(parameters: testParameters, rows: test.count, threads: 1)) {
                XCTAssertTrue("\($0)".contains("wall_curvature"), "\($0)")
                XCTAssertTrue("\($0)".contains("nothing computes them"), "\($0)")
            }
            // u_v = 0.2 with U0 = 0.01 blows the boundary layer off (f_w ≪ f_w*).
            XCTAssertThrowsError(try loaded.predict(parameters: [5, 5, 0.1, 0.01, 0, 0.2], rows: 1, threads: 1)) {
                XCTAssertTrue("\($0)".contains("parameter set 0"), "\($0)")
                XCTAssertTrue("\($0)".contains("no_solution_blow_off"), "\($0)")
            }
            try checkStagesPredictTheFitsBits(data: data, model: folder.lastPathComponent, parameters: testParameters, rows: test.count,
                                              written: written.values)
        }
    }

    /// `train-dmd predict` gives the bits the fit wrote for the test split, and `pollutant-serve`'s
    /// model its first row.
    func checkStagesPredictTheFitsBits(data: URL, model: String, parameters: [Double], rows: Int, written: [Double]) throws {
        let folder = try makeTemporaryFolder("wind-descriptors-predict")
        defer { try? FileManager.default.removeItem(at: folder) }
        let params = folder.appendingPathComponent("params.npy"), out = folder.appendingPathComponent("c3.npy")
        try Npy.write(parameters, shape: [rows, 6], to: params)
        try PredictStage.run(try PredictOptions.parse(["--model", DataLayout(data).models.model(model).folder.path, "--params", params.path,
                                                       "--out", out.path]))
        XCTAssertEqual(try Npy.read(Double.self, from: out).values, written, "train-dmd predict \(model)")
        // By its name under --data-dir, and as the default model when the configuration's best names it.
        try PredictStage.run(try PredictOptions.parse(["--model", model, "--config", Self.config, "--data-dir", data.path, "--params", params.path,
                                                       "--out", out.path]))
        XCTAssertEqual(try Npy.read(Double.self, from: out).values, written, "train-dmd predict --model \(model)")
        try PredictStage.run(try PredictOptions.parse(["--config", Self.config, "--data-dir", data.path, "--set", "surrogate.best=\(model)",
                                                       "--params", params.path, "--out", out.path]))
        XCTAssertEqual(try Npy.read(Double.self, from: out).values, written, "train-dmd predict (best = \(model))")
        XCTAssertThrowsError(try PredictStage.run(try PredictOptions.parse(["--model", "no_such_model", "--data-dir", data.path, "--params", params.path]))) {
            XCTAssertTrue("\($0)".contains("models/no_such_model"), "\($0)")
        }
        let catalog = try ServeCatalog.load(try ServeOptions.parse(["--config", Self.config, "--data-dir", data.path]))
        let served = try XCTUnwrap(catalog.model(model) as? SurrogateServedModel, "served \(model); skipped: \(catalog.skipped)")
        // One row alone: the BLAS kernels of another matrix shape may sum in another order (relative 1e-12).
        let p = written.count / rows
        let one = try served.surrogate.predict(parameters: Array(parameters[0..<6]), rows: 1, threads: 1)
        for j in 0..<p { XCTAssertEqual(one[j], written[j], accuracy: 1e-12 * abs(written[j]), "served \(model), point \(j)") }
    }

    /// The refine loop's candidates with the descriptors: each kept candidate's input row is its
    /// scaled parameters and scaled descriptors; a candidate without a wind (here a blow-off θ) is left
    /// out, and the taken ones too.
    func testRefineCandidatesCarryTheirDescriptors() throws {
        let data = try smokeData()
        let config = try PipelineConfig.load(URL(fileURLWithPath: Self.config), overrides: ["surrogate.gp_input_features=parameters+wind"])
        let prepared = try SurrogateFitStage.prepare(config: config, dataDirectory: data)
        let descriptors = try XCTUnwrap(prepared.descriptors)
        let fit = prepared.fitRows[0], other = prepared.fitRows[1], taken = prepared.fitRows[2]
        let rows = [fit, taken, other].map { Array(prepared.dataset.parameters[($0 * 6)..<(($0 + 1) * 6)]) }
        let folder = try makeTemporaryFolder("wind-descriptors-pool")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("pool.npy")
        try Npy.write(rows[0] + rows[1] + [5, 5, 0.1, 0.01, 0, 0.2] + rows[2], shape: [4, 6], to: url)
        let pool = try CandidatePool(reading: url, draws: 4)
        let (available, inputs, latent) = try RefineLoop.candidateInputs(pool: pool, excluding: [1], prepared: prepared, config: config)
        XCTAssertEqual(available, [0, 3])
        XCTAssertNil(latent, "no low-fidelity model configured")
        let expected = try SurrogateFitStage.scaledInputs(prepared, rows: [fit, other], for: .podGP, config: config)
        XCTAssertEqual(inputs, expected)
        XCTAssertEqual(inputs.count, 2 * (6 + descriptors.inputs.width))
    }

    /// `gp_input_features` and `podnn_input_features`: defaults, the wind, bad values named, and the
    /// derivative-informed fits (which take ∂c3/∂θ through the parameters only) refused beside the wind.
    func testInputFeaturesKeysAreValidated() throws {
        let d = try PipelineConfig.parse("").surrogate
        XCTAssertEqual([d.gpInputFeatures, d.podnnInputFeatures], [.parameters, .parameters])
        let wind = try PipelineConfig.parse("[surrogate]\ngp_input_features = \"parameters+wind\"\npodnn_input_features = \"parameters+wind\"\n").surrogate
        XCTAssertEqual([wind.inputFeatures(of: .podGP), wind.inputFeatures(of: .podNN), wind.inputFeatures(of: .tuned)], [.parametersWind, .parametersWind, .parameters])
        for (text, fragments) in [("gp_input_features = \"wind\"", ["surrogate.gp_input_features", "parameters+wind"]),
                                  ("podnn_input_features = 3", ["surrogate.podnn_input_features"]),
                                  ("gp_input_features = \"parameters+wind\"\ngp_derivative_modes = 2", ["surrogate.gp_input_features", "gp_derivative_modes = 0"]),
                                  ("podnn_input_features = \"parameters+wind\"\npodnn_derivative_weight = 0.3", ["surrogate.podnn_input_features", "podnn_derivative_weight = 0"])] {
            XCTAssertThrowsError(try PipelineConfig.parse("[surrogate]\n" + text + "\n", file: "t.toml")) { e in
                for f in fragments + ["t.toml"] { XCTAssertTrue("\(e)".contains(f), "'\(e)' lacks '\(f)'") }
            }
        }
        // Each model's own key: POD-GP with the wind beside a derivative-informed POD-NN.
        let mixed = try PipelineConfig.parse("[surrogate]\ngp_input_features = \"parameters+wind\"\npodnn_derivative_weight = 0.3\n").surrogate
        XCTAssertEqual([mixed.inputFeatures(of: .podGP), mixed.inputFeatures(of: .podNN)], [.parametersWind, .parameters])
    }
    /// `gp_output = "scale_shape"` (with the wind's descriptors, as configs/large.toml): the fit writes
    /// the scale GP into the folder, `train-dmd predict` gives the fit's bits, the predictions are
    /// positive where the fields are, and the uncertainty files exist.
    func testScaleShapeSplitFitsAndPredictsTheFitsBits() throws {
        let data = try smokeData()
        let config = try PipelineConfig.load(URL(fileURLWithPath: Self.config),
                                             overrides: ["surrogate.gp_input_features=parameters+wind", "surrogate.gp_output=scale_shape"])
        let models = try makeTemporaryFolder("scale-shape-predict")
        defer { try? FileManager.default.removeItem(at: models) }
        let outcomes = try SurrogateFitStage.run(config: config, dataDirectory: data, models: [.podGP], threads: 1) { _ in }
        let folder = try XCTUnwrap(outcomes.first?.folder)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("gp_scale_alpha.npy").path))
        let rom = try JSONValue.parse(Data(contentsOf: folder.appendingPathComponent("rom.json")))
        XCTAssertNotNil(rom["scale_process"]?["length_scales"])
        let fit = try JSONValue.parse(Data(contentsOf: folder.appendingPathComponent(SurrogateFitStage.fitFile)))
        XCTAssertNotNil(fit["validation_relative_l2"]?["median"]?.number)
        let params = try Npy.read(Double.self, from: DataLayout(data).samples.params, expectedShape: [nil, 6])
        let test = try Npy.read(Int64.self, from: folder.appendingPathComponent(TrainingRun.testIndicesFile)).values.map { Int($0) }
        let written = try Npy.read(Double.self, from: folder.appendingPathComponent(TrainingRun.predictionsFile)).values
        let testParameters = test.flatMap { params.values[($0 * 6)..<(($0 + 1) * 6)] }
        let paramsFile = models.appendingPathComponent("params.npy"), out = models.appendingPathComponent("c3.npy")
        try Npy.write(testParameters, shape: [test.count, 6], to: paramsFile)
        try PredictStage.run(try PredictOptions.parse(["--model", folder.path, "--params", paramsFile.path, "--out", out.path]))
        XCTAssertEqual(try Npy.read(Double.self, from: out).values, written)
        XCTAssertTrue(written.allSatisfy { $0.isFinite })
    }

    /// `gp_output`: the default, the split, and its refusals (identity transform, gradient-enhanced modes), each named.
    func testGPOutputKeyIsValidated() throws {
        XCTAssertEqual(try PipelineConfig.parse("").surrogate.gpOutput, .field)
        XCTAssertEqual(try PipelineConfig.parse("[surrogate]\ngp_output = \"scale_shape\"\n").surrogate.gpOutput, .scaleShape)
        for (text, fragments) in [("gp_output = \"shape\"", ["surrogate.gp_output", "scale_shape"]),
                                  ("gp_output = \"scale_shape\"\noutput_transform = \"identity\"", ["surrogate.gp_output", "output_transform = \"log\""]),
                                  ("gp_output = \"scale_shape\"\ngp_derivative_modes = 2", ["surrogate.gp_output", "gp_derivative_modes = 0"])] {
            XCTAssertThrowsError(try PipelineConfig.parse("[surrogate]\n" + text + "\n", file: "t.toml")) { e in
                for f in fragments + ["t.toml"] { XCTAssertTrue("\(e)".contains(f), "'\(e)' lacks '\(f)'") }
            }
        }
    }
}
