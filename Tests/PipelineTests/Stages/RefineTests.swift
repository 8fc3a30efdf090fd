import XCTest
import Foundation
import NumericalFoundations
import PDE
import Surrogates
import Reporting
import _TestSupport
@testable import Pipeline

/// The refine loop on configs/smoke.toml's data (lhs-sample, blasius-solve, pollutant-fem in a
/// temporary folder): the candidates lie where the wind exists (each checked by a full Blasius solve),
/// a test sample is never acquired, an interrupted run ends with the bytes of an uninterrupted one,
/// and the study writes its tables.
final class RefineTests: XCTestCase {
    static let smoke = SmokeDataSet(prefix: "refine-test")
    static var config: String { SmokeDataSet.config }

    override class func tearDown() { smoke.remove() }

    func smokeData() throws -> URL { try Self.smoke.data() }

    static let settings = RefineSettings(initialSize: 6, batchSize: 3, budget: 12, poolDraws: 300, shortlist: 30, seed: 3, models: ["pod_gp"])

    func testCandidatesLieInTheFeasibleRegionAndExcludeGivenRows() throws {
        let config = try PipelineConfig.load(URL(fileURLWithPath: Self.config))
        let box = config.sampling.ranges, nu = config.wind.nu
        let feasibility = try UQStage.Feasibility(box: box, nu: nu)
        let pool = try CandidatePool(box: box, nu: nu, draws: 30, seed: 5, excluded: [], feasibility: feasibility)
        XCTAssertGreaterThan(pool.count, 10)
        XCTAssertLessThan(pool.count, 30, "the smoke box holds blow-off points: some draws must go")
        let solver = BlasiusSolver()
        func exists(_ row: ArraySlice<Double>) -> Bool {
            let b = row.startIndex
            let u0 = row[b + 3], uh = row[b + 4], uv = row[b + 5]
            return solver.solve(lambda: uh / u0, fw: -2 * uv / (nu * u0).squareRoot()).solution != nil
        }
        for i in 0..<pool.count {
            let row = pool.row(i)
            XCTAssertTrue(exists(row), "candidate \(i) = \(Array(row)) has no wind solution")
            for (j, r) in box.enumerated() { XCTAssertTrue(r.contains(row[row.startIndex + j]), "candidate \(i), column \(j)") }
        }
        // The same draws without three of the kept points given as held-out rows.
        let excluded = (0..<3).flatMap { Array(pool.row($0 * 7)) }
        let reduced = try CandidatePool(box: box, nu: nu, draws: 30, seed: 5, excluded: excluded, feasibility: feasibility)
        XCTAssertEqual(reduced.count, pool.count - 3)
        let kept = Set((0..<reduced.count).map { Array(reduced.row($0)) })
        for k in 0..<3 { XCTAssertFalse(kept.contains(Array(pool.row(k * 7)))) }
    }

    /// Every file of a run but the wall times (manifest.json, timings.json), by relative path.
    func contents(_ folder: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let base = folder.standardizedFileURL.path
        for case let url as URL in FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)! {
            let name = url.lastPathComponent
            guard !url.hasDirectoryPath, name != DataLayout.manifestFile, name != DataLayout.RefineRun.timingsFile, name != RefineStage.tableFile else { continue }
            out[String(url.standardizedFileURL.path.dropFirst(base.count))] = try Data(contentsOf: url)
        }
        return out
    }

    func testLoopResumesBitForBitAndNeverAcquiresATestSample() throws {
        let data = try smokeData()
        let config = try PipelineConfig.load(URL(fileURLWithPath: Self.config))
        let layout = DataLayout(data)
        let reference = layout.refine.run("reference"), resumed = layout.refine.run("resumed")
        let rounds = try RefineLoop.run(config: config, dataDirectory: data, run: reference, settings: Self.settings, threads: 1, notice: { _ in })
        XCTAssertEqual(rounds.map(\.evaluation.trainingSolves), [6, 9, 12])
        for round in rounds { XCTAssertTrue(round.evaluation.scores.allSatisfy { $0.testMedian.isFinite && $0.testP95.isFinite }) }

        // Stopped after round 1 (as SIGINT does between rounds), then resumed. The run starts from the
        // reference's candidate pool (its existence table costs seconds in a debug build).
        try FileManager.default.createDirectory(at: resumed.folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: reference.folder.appendingPathComponent(DataLayout.RefineRun.poolFile),
                                         to: resumed.folder.appendingPathComponent(DataLayout.RefineRun.poolFile))
        let stop = StopSignal()
        XCTAssertThrowsError(try RefineLoop.run(config: config, dataDirectory: data, run: resumed, settings: Self.settings, threads: 1, stop: stop,
                                                notice: { if $0.hasPrefix("refine: round 1 ") { stop.request() } }))
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumed.manifest(round: 2).path))
        _ = try RefineLoop.run(config: config, dataDirectory: data, run: resumed, settings: Self.settings, threads: 1, notice: { _ in })
        XCTAssertEqual(try contents(resumed.folder), try contents(reference.folder))

        // Killed inside round 2's FEM solves: its points were chosen (by round 1), nothing of the round
        // itself was written. The rerun solves, fits and scores it again, to the same bytes.
        let c3 = try Data(contentsOf: resumed.file(DataLayout.FEM.c3File, round: 2))
        for name in [DataLayout.manifestFile, DataLayout.RefineRun.evaluationFile, DataLayout.RefineRun.timingsFile, DataLayout.FEM.c3File,
                     DataLayout.FEM.statusFile, DataLayout.FEM.sensitivitiesFile] {
            try? FileManager.default.removeItem(at: resumed.file(name, round: 2))
        }
        var notes: [String] = []
        _ = try RefineLoop.run(config: config, dataDirectory: data, run: resumed, settings: Self.settings, threads: 2, notice: { notes.append($0) })
        XCTAssertEqual(try Data(contentsOf: resumed.file(DataLayout.FEM.c3File, round: 2)), c3)
        XCTAssertEqual(try contents(resumed.folder), try contents(reference.folder))
        XCTAssertTrue(notes.contains { $0.hasPrefix("refine: round 2 ") }, "round 2 was redone")

        // Round 1 redone (its manifest gone) chooses round 2's points again: the same ones, so round 2's
        // results still belong to them. Had round 2 been solved for other points (its chosen.npy says
        // so), the redone round refuses to pair them with its own choice, naming the folder.
        try FileManager.default.removeItem(at: resumed.manifest(round: 1))
        _ = try RefineLoop.run(config: config, dataDirectory: data, run: resumed, settings: Self.settings, threads: 1, notice: { _ in })
        XCTAssertEqual(try contents(resumed.folder), try contents(reference.folder))
        let chosenURL = resumed.file(DataLayout.RefineRun.chosenFile, round: 2)
        var solvedFor = try Npy.read(Int64.self, from: chosenURL).values
        solvedFor[0] = solvedFor[0] == 0 ? 1 : 0
        try Npy.write(solvedFor, shape: [solvedFor.count], to: chosenURL)
        try FileManager.default.removeItem(at: resumed.manifest(round: 1))
        XCTAssertThrowsError(try RefineLoop.run(config: config, dataDirectory: data, run: resumed, settings: Self.settings, threads: 1, notice: { _ in })) {
            XCTAssertTrue("\($0)".contains(resumed.round(2).path) && "\($0)".contains("other points"), "\($0)")
        }
        try Data(contentsOf: reference.file(DataLayout.RefineRun.chosenFile, round: 2)).write(to: chosenURL)
        _ = try RefineLoop.run(config: config, dataDirectory: data, run: resumed, settings: Self.settings, threads: 1, notice: { _ in })
        XCTAssertEqual(try contents(resumed.folder), try contents(reference.folder))

        // A rerun with other settings is refused, naming the folder.
        var other = Self.settings
        other.batchSize = 2
        XCTAssertThrowsError(try RefineLoop.run(config: config, dataDirectory: data, run: resumed, settings: other, threads: 1, notice: { _ in })) {
            XCTAssertTrue("\($0)".contains(resumed.folder.path), "\($0)")
        }

        // No test sample in the initial design nor among the acquired points.
        let dataset = try SurrogateDataset.load(layout: layout, inputScaler: InputScaler(ranges: config.sampling.ranges), parameterNames: PollutantParameters.names)
        let baseRows = try Npy.read(Int64.self, from: reference.file(DataLayout.RefineRun.baseRowsFile, round: 0)).values.map { Int($0) }
        XCTAssertTrue(Set(baseRows).isSubset(of: Set(dataset.trainIndices)))
        let testRows = Set(dataset.testIndices.map { Array(dataset.parameters[($0 * 6)..<(($0 + 1) * 6)]) })
        for r in 1...2 {
            let params = try Npy.read(Double.self, from: reference.file(DataLayout.RefineRun.paramsFile, round: r), expectedShape: [3, 6]).values
            for i in 0..<3 { XCTAssertFalse(testRows.contains(Array(params[(i * 6)..<((i + 1) * 6)])), "round \(r), point \(i)") }
            let status = try Npy.read(Int32.self, from: reference.file(DataLayout.FEM.statusFile, round: r)).values
            XCTAssertEqual(status, [0, 0, 0], "round \(r): every acquired point lies where the wind exists and is solved")
        }
        let chosen = try (1...2).flatMap { try Npy.read(Int64.self, from: reference.file(DataLayout.RefineRun.chosenFile, round: $0)).values }
        XCTAssertEqual(Set(chosen).count, 6, "no candidate acquired twice")
    }

    /// With `gp_output = "scale_shape"` the loop conditions the scale GP as well and scores it beside
    /// the shapes' modes: it runs its rounds, chooses distinct feasible points with finite positive
    /// scores, and scores every round.
    func testLoopRunsWithTheScaleShapeSplit() throws {
        let data = try smokeData()
        let config = try PipelineConfig.load(URL(fileURLWithPath: Self.config), overrides: ["surrogate.gp_output=scale_shape"])
        let run = DataLayout(data).refine.run("scale-shape")
        var settings = Self.settings
        settings.budget = 9
        let rounds = try RefineLoop.run(config: config, dataDirectory: data, run: run, settings: settings, threads: 1, notice: { _ in })
        XCTAssertEqual(rounds.map(\.evaluation.trainingSolves), [6, 9])
        for round in rounds { XCTAssertTrue(round.evaluation.scores.allSatisfy { $0.testMedian.isFinite && $0.testP95.isFinite }) }
        let scores = try Npy.read(Double.self, from: run.file(DataLayout.RefineRun.acquisitionFile, round: 1)).values
        XCTAssertEqual(scores.count, 3)
        XCTAssertTrue(scores.allSatisfy { $0.isFinite && $0 > 0 }, "\(scores)")
        XCTAssertEqual(Set(try Npy.read(Int64.self, from: run.file(DataLayout.RefineRun.chosenFile, round: 1)).values).count, 3)
        XCTAssertEqual(try Npy.read(Int32.self, from: run.file(DataLayout.FEM.statusFile, round: 1)).values, [0, 0, 0])
    }

    /// `--acquisition integrated_variance` and `integrated_log_variance`: parsed into the settings
    /// (recorded in run.json; the default leaves the field out, so runs recorded before the option
    /// resume), the loop runs with each, and an unknown criterion is refused naming the option.
    func testLoopRunsWithIntegratedCriteria() throws {
        let data = try smokeData()
        XCTAssertNil(try RefineDesignOptions.parse([]).settings(seed: 3).acquisition)
        XCTAssertThrowsError(try RefineDesignOptions.parse(["--acquisition", "greedy"])) { XCTAssertTrue("\($0)".contains("--acquisition"), "\($0)") }
        for (name, criterion) in [("integrated_variance", VarianceAcquisition.Criterion.integratedVariance),
                                  ("integrated_log_variance", .integratedLogVariance)] {
            let design = try RefineDesignOptions.parse(["--initial", "6", "--batch", "3", "--budget", "9", "--pool", "300", "--shortlist", "30",
                                                        "--acquisition", name])
            let settings = try design.settings(seed: 3)
            XCTAssertEqual(settings.acquisition, criterion)
            let run = DataLayout(data).refine.run(name)
            let rounds = try RefineLoop.run(config: try PipelineConfig.load(URL(fileURLWithPath: Self.config)), dataDirectory: data, run: run,
                                            settings: settings, threads: 1, notice: { _ in })
            XCTAssertEqual(rounds.map(\.evaluation.trainingSolves), [6, 9], name)
            let scores = try Npy.read(Double.self, from: run.file(DataLayout.RefineRun.acquisitionFile, round: 1)).values
            XCTAssertTrue(scores.allSatisfy { $0.isFinite && $0 > 0 }, "\(name): \(scores)")
            XCTAssertEqual(Set(try Npy.read(Int64.self, from: run.file(DataLayout.RefineRun.chosenFile, round: 1)).values).count, 3, name)
        }
    }

    /// `--hyperparameters initial_design`: recorded in run.json (the default leaves the field out); both
    /// arms of a seed write the initial design's POD-GP hyper-parameters, the same values; a later LHS
    /// point is the fit with those values held (its model's modes carry them exactly, and its scores are
    /// those of the study's point, bit for bit); the policy needs POD-GP, and a rerun of the label under
    /// the other policy is refused by name.
    func testHeldHyperparametersAreTheInitialDesignsInBothCurves() throws {
        XCTAssertNil(try RefineDesignOptions.parse([]).settings(seed: 1).hyperparameters)
        XCTAssertThrowsError(try RefineDesignOptions.parse(["--hyperparameters", "never"])) { XCTAssertTrue("\($0)".contains("--hyperparameters"), "\($0)") }
        var podNNOnly = try RefineDesignOptions.parse(["--hyperparameters", "initial_design", "--models", "pod_nn"]).settings(seed: 1)
        XCTAssertThrowsError(try podNNOnly.validate(trainingSamples: 200)) { XCTAssertTrue("\($0)".contains("pod_gp"), "\($0)") }
        podNNOnly.hyperparameters = nil
        XCTAssertNoThrow(try podNNOnly.validate(trainingSamples: 200))

        let (data, arguments) = try studyCopy("refine-held-test", label: "held")
        defer { try? FileManager.default.removeItem(at: data) }
        try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--hyperparameters", "initial_design"]))
        let layout = DataLayout(data)
        let adaptive = DataLayout.RefineRun(folder: RefineStudy.seedFolder(layout, "held", .adaptive, 1))
        let lhs = RefineStudy.seedFolder(layout, "held", .lhs, 1)
        let settings = try JSONDecoder().decode(RefineSettings.self, from: Data(contentsOf: adaptive.settings))
        XCTAssertEqual(settings.hyperparameters, .initialDesign)
        let adaptiveHeld = try Data(contentsOf: adaptive.file(RefineHyperparameters.file, round: 0))
        XCTAssertEqual(adaptiveHeld, try Data(contentsOf: lhs.appendingPathComponent(RefineHyperparameters.file)))
        let held = try RefineHyperparameters.read(from: lhs.appendingPathComponent(RefineHyperparameters.file))

        // The LHS point at 9 solves, refitted here with the held values.
        let (config, base, _, prepared) = try seedOneLHSPoint(layout, solves: 9)
        let fitted = try SurrogateFitStage.fit(.podGP, prepared: prepared, config: config, threads: 1, heldHyperparameters: held)
        let modes = try XCTUnwrap(SurrogateFitStage.modeHyperparameters(of: fitted.surrogate))
        XCTAssertEqual(Array(modes.prefix(held.count)), Array(held.prefix(modes.count)))
        let test = try SurrogateFitStage.relativeErrors(fitted.surrogate, rows: base.testIndices, dataset: base, threads: 1).errors
        let point = try JSONDecoder().decode(RefineStudy.LHSPoint.self, from: Data(contentsOf: lhs.appendingPathComponent("n_000009.json")))
        XCTAssertEqual(point.hyperparameters, .initialDesign)
        XCTAssertEqual(point.scores.first?.testMedian, test.median)
        XCTAssertEqual(point.scores.first?.testP95, test.percentile95)
        XCTAssertTrue(try Data(contentsOf: adaptive.manifest(round: 1)).count > 0)
        // Each point records the values it used: the held ones, in both curves.
        XCTAssertEqual(point.podGP?.modes.prefix(held.count).map { $0 }, Array(held.prefix(point.podGP?.modes.count ?? 0)))
        let round1 = try JSONDecoder().decode(RefineEvaluation.self, from: Data(contentsOf: adaptive.file(DataLayout.RefineRun.evaluationFile, round: 1)))
        XCTAssertEqual(round1.podGP?.modes.prefix(held.count).map { $0 }, Array(held.prefix(round1.podGP?.modes.count ?? 0)))

        // The label's points were made under the held policy: every round's is refused by name.
        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "lhs"]))) {
            XCTAssertTrue("\($0)".contains("hyper-parameter or conditioning policy"), "\($0)")
        }
        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "adaptive"]))) {
            XCTAssertTrue("\($0)".contains("other settings"), "\($0)")
        }
    }

    /// `--conditioning every_solve`: recorded in run.json (the default leaves the field out); a point's
    /// POD-GP test scores are those of the fitted model's GPs conditioned on every training solve —
    /// rebuilt here from `PODGaussianProcess.conditioned` on the fitting and validation rows — and its
    /// validation scores those of the fitting rows' model; a label's points are not continued under
    /// the other policy.
    func testEverySolveScoresTheModelConditionedOnAllSolves() throws {
        XCTAssertNil(try RefineDesignOptions.parse([]).settings(seed: 1).conditioning)
        XCTAssertThrowsError(try RefineDesignOptions.parse(["--conditioning", "all"])) { XCTAssertTrue("\($0)".contains("--conditioning"), "\($0)") }
        let (data, arguments) = try studyCopy("refine-every-solve-test", label: "all")
        defer { try? FileManager.default.removeItem(at: data) }
        try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--conditioning", "every_solve"]))
        let layout = DataLayout(data)
        let adaptive = DataLayout.RefineRun(folder: RefineStudy.seedFolder(layout, "all", .adaptive, 1))
        XCTAssertEqual(try JSONDecoder().decode(RefineSettings.self, from: Data(contentsOf: adaptive.settings)).conditioning, .everySolve)

        let (config, base, rows, prepared) = try seedOneLHSPoint(layout, solves: 9)
        let fitted = try XCTUnwrap(try SurrogateFitStage.fit(.podGP, prepared: prepared, config: config, threads: 1).surrogate as? ReducedOrderSurrogate)
        guard case .gaussianProcess(let model) = fitted.model else { return XCTFail("not a POD-GP") }
        let all = prepared.fitRows + prepared.validationRows
        XCTAssertEqual(all.sorted(), rows)
        var outputs = SurrogateFitStage.transformedOutputs(prepared, rows: all)
        let d = base.parameterWidth
        if let offset = try fitted.lowFidelityOffset(all.flatMap { base.parameters[($0 * d)..<(($0 + 1) * d)] }, rows: all.count, threads: 1) {
            for i in outputs.indices { outputs[i] -= offset[i] }
        }
        let gp = try model.conditioned(inputs: try SurrogateFitStage.scaledInputs(prepared, rows: all, for: .podGP, config: config),
                                       outputs: outputs, count: all.count, threads: 1)
        XCTAssertEqual(gp.processes.map(\.count), Array(repeating: 9, count: gp.rank))
        var description = fitted.description
        description.trainSamples = 9
        let rebuilt = try ReducedOrderSurrogate(description: description, model: .gaussianProcess(gp))
        if let source = fitted.descriptorSource { try rebuilt.attachDescriptorSource(source) }
        if let source = fitted.lowFidelitySource { try rebuilt.attachLowFidelitySource(source) }
        let test = try SurrogateFitStage.relativeErrors(rebuilt, rows: base.testIndices, dataset: base, threads: 1).errors
        let validation = try SurrogateFitStage.relativeErrors(fitted, rows: prepared.validationRows, dataset: base, threads: 1).errors
        let lhs = RefineStudy.seedFolder(layout, "all", .lhs, 1)
        let point = try JSONDecoder().decode(RefineStudy.LHSPoint.self, from: Data(contentsOf: lhs.appendingPathComponent("n_000009.json")))
        XCTAssertEqual(point.conditioning, .everySolve)
        let score = try XCTUnwrap(point.scores.first)
        XCTAssertEqual(score.testMedian, test.median)
        XCTAssertEqual(score.testP95, test.percentile95)
        XCTAssertEqual(score.validationMedian, validation.median)

        // The point keeps the hyper-parameters of the model fitted here (the conditioning does not change
        // them), and refine_hyperparameters.csv lists them by input, with the adaptive rounds'.
        let recorded = try XCTUnwrap(point.podGP)
        XCTAssertEqual(recorded.modes, model.processes.map(\.hyperparameters))
        XCTAssertEqual(recorded.inputs, fitted.inputNames + (fitted.descriptorInputs?.names ?? []))
        XCTAssertEqual(recorded.inputs.count, model.processes.first?.hyperparameters.dimension)
        let table = try String(contentsOf: layout.refine.studyHyperparameters, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(table.first, RefineStudy.hyperparameterHeader)
        let perMode = recorded.inputs.count + 2
        for (method, solves) in [("lhs", 6), ("lhs", 9), ("adaptive", 6), ("adaptive", 9)] {
            let rows = table.filter { $0.hasPrefix("all,\(method),1,\(solves),") }
            XCTAssertGreaterThanOrEqual(rows.count, perMode, "\(method) at \(solves) solves")
            XCTAssertEqual(rows.count % perMode, 0, "\(method) at \(solves) solves: whole modes")
        }
        let first = recorded.modes[0]
        for (k, name) in recorded.inputs.enumerated() {
            let row = try XCTUnwrap(table.first { $0.hasPrefix("all,lhs,1,9,1,length_scale:\(name),") })
            XCTAssertEqual(Double(try XCTUnwrap(row.split(separator: ",").last)) ?? .nan, first.lengthScales[k], accuracy: 1e-12 * first.lengthScales[k])
        }
        let adaptiveLast = try JSONDecoder().decode(RefineEvaluation.self, from: Data(contentsOf: adaptive.file(DataLayout.RefineRun.evaluationFile, round: 1)))
        XCTAssertEqual(adaptiveLast.podGP?.inputs, recorded.inputs)
        // The per-sample test errors are the rebuilt model's; the paired table compares both adaptive points with LHS.
        let perSample = try Npy.read(Double.self, from: RefineStudy.lhsTestErrors(lhs, solves: 9, model: "pod_gp")).values
        XCTAssertEqual(perSample.count, base.testIndices.count)
        for (k, e) in test.perSample.enumerated() {
            if let e { XCTAssertEqual(perSample[k], e) } else { XCTAssertTrue(perSample[k].isNaN) }
        }
        let adaptiveErrors = try Npy.read(Double.self, from: adaptive.file(DataLayout.RefineRun.testErrorsFile("pod_gp"), round: 1)).values
        XCTAssertEqual(try Metrics.median(adaptiveErrors.filter(\.isFinite)), adaptiveLast.scores.first?.testMedian)
        let paired = try String(contentsOf: layout.refine.studyPaired, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(paired.first, RefineStudy.pairedHeader)
        XCTAssertEqual(paired.dropFirst().map { $0.split(separator: ",")[5...6].joined(separator: "/") }, ["6/6", "6/6", "6/9", "6/9", "9/9", "9/9"])
        XCTAssertEqual(paired[1].split(separator: ",")[1], "adaptive")
        XCTAssertEqual(paired[1].split(separator: ",")[9], "1.0", "round 0 is the LHS point at 6 solves: ratio 1")
        XCTAssertTrue(FileManager.default.fileExists(atPath: layout.refine.study.appendingPathComponent("refine_paired.svg").path))

        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "lhs"]))) {
            XCTAssertTrue("\($0)".contains("hyper-parameter or conditioning policy"), "\($0)")
        }
        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "adaptive"]))) {
            XCTAssertTrue("\($0)".contains("other settings"), "\($0)")
        }
    }

    /// A copy of the smoke data (samples, wind, fem) for a study of its own, and the study's arguments:
    /// 6 initial solves, one batch of 3, seed 1, `label`.
    func studyCopy(_ prefix: String, label: String) throws -> (data: URL, arguments: [String]) {
        let data = try makeTemporaryFolder(prefix)
        for sub in ["samples", "wind", "fem"] {
            try FileManager.default.copyItem(at: try smokeData().appendingPathComponent(sub), to: data.appendingPathComponent(sub))
        }
        return (data, ["--config", Self.config, "--data-dir", data.path, "--initial", "6", "--batch", "3", "--budget", "9",
                       "--pool", "200", "--shortlist", "20", "--seeds", "1", "--threads", "1", "--label", label])
    }

    /// Seed 1's LHS point of `n` solves, prepared as the study prepares it.
    func seedOneLHSPoint(_ layout: DataLayout, solves n: Int) throws
        -> (config: PipelineConfig, base: SurrogateDataset, rows: [Int], prepared: SurrogateFitStage.Prepared) {
        let config = try PipelineConfig.load(URL(fileURLWithPath: Self.config))
        let scaler = try InputScaler(ranges: config.sampling.ranges)
        let base = try SurrogateDataset.load(layout: layout, inputScaler: scaler, parameterNames: PollutantParameters.names)
        let rows = Array(LearningCurve.nestedOrder(base.trainIndices, seed: 1).prefix(n)).sorted()
        let prepared = try SurrogateFitStage.prepare(config: config, dataset: base, inputScaler: scaler, trainingRows: rows,
                                                     sensitivities: layout.fem.sensitivities)
        return (config, base, rows, prepared)
    }

    func testStudyWritesBothCurves() throws {
        let data = try makeTemporaryFolder("refine-study-test")
        defer { try? FileManager.default.removeItem(at: data) }
        // Its own copy: the study writes refine/study beside the other test's runs.
        for sub in ["samples", "wind", "fem"] {
            try FileManager.default.copyItem(at: try smokeData().appendingPathComponent(sub), to: data.appendingPathComponent(sub))
        }
        let options = try RefineStudyOptions.parse(["--config", Self.config, "--data-dir", data.path, "--initial", "6", "--batch", "3", "--budget", "9",
                                                    "--pool", "200", "--shortlist", "20", "--seeds", "1", "--threads", "1"])
        try RefineStudy.run(options)
        let layout = DataLayout(data)
        let lines = try String(contentsOf: layout.refine.studyCSV, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1 + 4, "lhs and adaptive at 6 and 9 solves")
        XCTAssertEqual(Set(lines.dropFirst().map { $0.split(separator: ",")[1] }), ["lhs", "adaptive"])
        // Both curves start from the same initial subset, so their first points agree.
        let first = lines.dropFirst().filter { $0.split(separator: ",")[4] == "6" }.map { $0.split(separator: ",")[5] }
        XCTAssertEqual(first.count, 2)
        XCTAssertEqual(first[0], first[1])
        let curves = try String(contentsOf: layout.refine.studyCurves, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(curves.count, 3)
        XCTAssertTrue(FileManager.default.fileExists(atPath: layout.refine.study.appendingPathComponent("refine_study.svg").path))
        let savings = try String(contentsOf: layout.refine.studySavings, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(savings.count, 1 + 2, "median and p95 of pod_gp")
        // `evaluate`'s report finds the study and shows its figure and table.
        var metrics: [String: JSONValue] = [:]
        let blocks = try EvaluationReport.refineStudySection(dataPath: data.path, metrics: &metrics)
        XCTAssertEqual(blocks.first, .heading(2, "Adaptive sampling against LHS"))
        XCTAssertEqual(metrics["refine_study"]?["points"]?.number, 4)
        let tables = blocks.compactMap { block -> ReportTable? in if case .table(let t) = block { return t }; return nil }
        XCTAssertEqual(tables.count, 2, "the savings and the paired comparisons with the largest LHS design")
        XCTAssertEqual(tables.first?.rows.count, 2)
        XCTAssertEqual(tables.last?.rows.map { Array($0[4...6]) }, [["median", "6", "9"], ["p95", "6", "9"]])
        XCTAssertEqual(tables.last?.rows.map { $0[1] }, ["adaptive", "adaptive"])
        XCTAssertEqual(metrics["refine_study"]?["paired"]?.array?.count, 6, "6/6, 6/9, 9/9: median and p95")
        // Without a study the report has no such section.
        var none: [String: JSONValue] = [:]
        XCTAssertEqual(try EvaluationReport.refineStudySection(dataPath: try smokeData().path, metrics: &none), [])

        // The table outlives the folder: with the LHS curve's points lost, importing the table brings them back
        // to the same numbers (marked as imported), in the tables and in `evaluate`'s section.
        let saved = data.appendingPathComponent("committed_refine_study.csv")
        try FileManager.default.copyItem(at: layout.refine.studyCSV, to: saved)
        try FileManager.default.removeItem(at: layout.refine.study.appendingPathComponent("plain/lhs"))
        let replot = ["--config", Self.config, "--data-dir", data.path, "--replot"]
        try RefineStudy.run(try RefineStudyOptions.parse(replot + ["--import-table", saved.path]))
        func fields(_ url: URL) throws -> [[Substring]] {
            try String(contentsOf: url, encoding: .utf8).split(separator: "\n").dropFirst().map { Array($0.split(separator: ",", omittingEmptySubsequences: false)) }
        }
        let before = try fields(saved), after = try fields(layout.refine.studyCSV)
        XCTAssertEqual(Set(after.map { $0.prefix(12).joined(separator: ",") }), Set(before.map { $0.prefix(12).joined(separator: ",") }))
        XCTAssertEqual(after.filter { $0[1] == "lhs" }.map { $0[12] }, ["committed_refine_study.csv", "committed_refine_study.csv"])
        XCTAssertTrue(after.filter { $0[1] == "adaptive" }.allSatisfy { $0[12].isEmpty }, "the local adaptive curve is not replaced")
        XCTAssertTrue(before.allSatisfy { $0[10].count == 64 && $0[11].count == 64 }, "configuration and data digests recorded")
        var again: [String: JSONValue] = [:]
        _ = try EvaluationReport.refineStudySection(dataPath: data.path, metrics: &again)
        XCTAssertEqual(again["refine_study"]?["points"]?.number, 4)
        XCTAssertEqual(again["refine_study"]?["paired"]?.array?.count, 0, "imported points carry no per-sample errors")
        // A table of other data, or of another configuration under the same label, is refused by name.
        let text = try String(contentsOf: saved, encoding: .utf8)
        let dataDigest = String(before[0][11]), configDigest = String(before[0][10])
        let otherData = data.appendingPathComponent("other_data.csv")
        try text.replacingOccurrences(of: dataDigest, with: String(repeating: "a", count: 64)).write(to: otherData, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(replot + ["--import-table", otherData.path]))) {
            XCTAssertTrue("\($0)".contains("other_data.csv, line 2") && "\($0)".contains("other data"), "\($0)")
        }
        let otherConfig = data.appendingPathComponent("other_config.csv")
        try text.replacingOccurrences(of: configDigest, with: String(repeating: "b", count: 64)).write(to: otherConfig, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(replot + ["--import-table", otherConfig.path]))) {
            XCTAssertTrue("\($0)".contains("another configuration"), "\($0)")
        }
        // An imported curve of another configuration under a label of this folder is refused when the tables are written, too.
        try text.replacingOccurrences(of: configDigest, with: String(repeating: "c", count: 64)).write(to: layout.refine.studyImported, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(replot))) {
            XCTAssertTrue("\($0)".contains("label plain holds points of 2 configurations"), "\($0)")
        }
        let truncated = data.appendingPathComponent("truncated.csv")
        try String(text.dropLast(30)).write(to: truncated, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(replot + ["--import-table", truncated.path]))) {
            XCTAssertTrue("\($0)".contains("truncated.csv, line 5"), "\($0)")
        }
    }

    /// The ledger carries a study to another machine: exported mid-study (the adaptive run's last round
    /// and the LHS curve's last point not made yet), imported into another data folder with the same
    /// data, and continued there, it ends with the files of the study made in one go — the adaptive
    /// round imported without its FEM results is solved again to the recorded SHA-256. A ledger of other
    /// data, of another kernel, with a recorded FEM digest this machine does not reproduce, or over a
    /// differing file, is refused by name, and a finished round that lost its FEM results without a
    /// record is refused rather than silently solved again.
    func testLedgerContinuesTheStudyElsewhereBitForBit() throws {
        let root = try makeTemporaryFolder("refine-ledger-test")
        defer { try? FileManager.default.removeItem(at: root) }
        func dataCopy(_ name: String) throws -> URL {
            let data = root.appendingPathComponent(name, isDirectory: true)
            for sub in ["samples", "wind", "fem"] {
                try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: try smokeData().appendingPathComponent(sub), to: data.appendingPathComponent(sub))
            }
            return data
        }
        func study(_ data: URL, _ extra: [String] = []) throws {
            try RefineStudy.run(try RefineStudyOptions.parse(["--config", Self.config, "--data-dir", data.path, "--initial", "6", "--batch", "3",
                                                              "--budget", "12", "--pool", "200", "--shortlist", "20", "--seeds", "1",
                                                              "--threads", "1"] + extra))
        }
        let whole = try dataCopy("whole")
        try study(whole, ["--export-ledger", root.appendingPathComponent("ledger").path])
        let ledger = root.appendingPathComponent("ledger", isDirectory: true)
        let run = DataLayout.RefineRun(folder: ledger.appendingPathComponent("study/plain/adaptive/seed_1", isDirectory: true))
        let wholeRun = DataLayout.RefineRun(folder: RefineStudy.seedFolder(DataLayout(whole), "plain", .adaptive, 1))
        // The ledger holds no FEM result, only their digests.
        for r in 1...2 {
            XCTAssertFalse(FileManager.default.fileExists(atPath: run.file(DataLayout.FEM.c3File, round: r).path))
            let digests = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: run.file(RefineStudy.roundDigestsFile, round: r)))
            XCTAssertEqual(digests[DataLayout.FEM.c3File], try SHA256Digest.hex(ofFile: wholeRun.file(DataLayout.FEM.c3File, round: r)))
        }
        for r in 1...2 {
            try FileManager.default.copyItem(at: run.file(RefineStudy.roundDigestsFile, round: r), to: root.appendingPathComponent("ledger-whole-round\(r).json"))
        }
        // Mid-study: round 2 not finished (its points chosen by round 1, nothing solved), the LHS point at 12 not made.
        for name in [DataLayout.manifestFile, DataLayout.RefineRun.evaluationFile, DataLayout.RefineRun.timingsFile, RefineStudy.roundDigestsFile]
            + ["test_errors_pod_gp.npy"] {
            try? FileManager.default.removeItem(at: run.file(name, round: 2))
        }
        let lhsLedger = ledger.appendingPathComponent("study/plain/lhs/seed_1", isDirectory: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: lhsLedger.path) where file.hasPrefix("n_000012") {
            try FileManager.default.removeItem(at: lhsLedger.appendingPathComponent(file))
        }

        let continued = try dataCopy("continued")
        let again = root.appendingPathComponent("ledger-again", isDirectory: true)
        try study(continued, ["--import-ledger", ledger.path, "--export-ledger", again.path])
        // Exported again (after each point and round, and at the end), the continued study's ledger records the same FEM results.
        for r in 1...2 {
            let againRun = DataLayout.RefineRun(folder: again.appendingPathComponent("study/plain/adaptive/seed_1", isDirectory: true))
            XCTAssertEqual(try Data(contentsOf: againRun.file(RefineStudy.roundDigestsFile, round: r)),
                           try Data(contentsOf: root.appendingPathComponent("ledger-whole-round\(r).json")))
        }
        let continuedRun = DataLayout.RefineRun(folder: RefineStudy.seedFolder(DataLayout(continued), "plain", .adaptive, 1))
        var mine = try contents(continuedRun.folder)
        mine = mine.filter { !$0.key.hasSuffix(RefineStudy.roundDigestsFile) }
        XCTAssertEqual(mine, try contents(wholeRun.folder), "round 1 solved again, round 2 made here: the bytes of the study made in one go")
        func scores(_ data: URL) throws -> [[RefineScore]] {
            let folder = RefineStudy.seedFolder(DataLayout(data), "plain", .lhs, 1)
            return try [6, 9, 12].map { n in
                try JSONDecoder().decode(RefineStudy.LHSPoint.self, from: Data(contentsOf: folder.appendingPathComponent(String(format: "n_%06d.json", n)))).scores
            }
        }
        XCTAssertEqual(try scores(continued), try scores(whole))
        XCTAssertEqual(try String(contentsOf: DataLayout(continued).refine.studyCSV, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").prefix(9) },
                       try String(contentsOf: DataLayout(whole).refine.studyCSV, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").prefix(9) })
        // Importing it again changes nothing.
        try study(continued, ["--replot", "--import-ledger", ledger.path])

        // Refusals, each naming what differs.
        let setupURL = ledger.appendingPathComponent(RefineStudy.ledgerSetupFile)
        let setup = try JSONDecoder().decode(RefineStudy.LedgerSetup.self, from: Data(contentsOf: setupURL))
        func refused(_ edit: (inout RefineStudy.LedgerSetup) -> Void, _ expected: String) throws {
            var other = setup
            edit(&other)
            try JSONEncoder().encode(other).write(to: setupURL)
            XCTAssertThrowsError(try study(try dataCopy("refused-\(expected.count)"), ["--replot", "--import-ledger", ledger.path])) {
                XCTAssertTrue("\($0)".contains(expected) && "\($0)".contains(ledger.path), "\($0)")
            }
        }
        try refused({ $0.dataSHA256 = String(repeating: "a", count: 64) }, "data SHA-256")
        try refused({ $0.blasCore = "Prescott" }, "OPENBLAS_CORETYPE=Prescott")
        try JSONEncoder().encode(setup).write(to: setupURL)
        // A recorded FEM digest this machine does not reproduce: the restored round is refused, its results removed.
        let tampered = try dataCopy("tampered")
        let digestsURL = run.file(RefineStudy.roundDigestsFile, round: 1)
        let digests = try Data(contentsOf: digestsURL)
        var altered = try JSONDecoder().decode([String: String].self, from: digests)
        altered[DataLayout.FEM.c3File] = String(repeating: "0", count: 64)
        try JSONEncoder().encode(altered).write(to: digestsURL)
        XCTAssertThrowsError(try study(tampered, ["--import-ledger", ledger.path, "--methods", "adaptive"])) {
            XCTAssertTrue("\($0)".contains("does not reproduce the imported round") && "\($0)".contains("round_001"), "\($0)")
        }
        let tamperedRun = DataLayout.RefineRun(folder: RefineStudy.seedFolder(DataLayout(tampered), "plain", .adaptive, 1))
        XCTAssertFalse(FileManager.default.fileExists(atPath: tamperedRun.file(DataLayout.FEM.c3File, round: 1).path))
        try digests.write(to: digestsURL)
        // A file here that differs from the ledger's.
        let point = RefineStudy.seedFolder(DataLayout(continued), "plain", .lhs, 1).appendingPathComponent("n_000006.json")
        try (try Data(contentsOf: point) + Data(" ".utf8)).write(to: point)
        XCTAssertThrowsError(try study(continued, ["--replot", "--import-ledger", ledger.path])) {
            XCTAssertTrue("\($0)".contains("n_000006.json differs"), "\($0)")
        }
        // A finished round of this machine's own run that lost its FEM results, without a record to check a re-solve against.
        try FileManager.default.removeItem(at: wholeRun.file(DataLayout.FEM.c3File, round: 1))
        XCTAssertThrowsError(try study(whole, ["--methods", "adaptive"])) {
            XCTAssertTrue("\($0)".contains("round_001") && "\($0)".contains("c3.npy is missing"), "\($0)")
        }
    }

    /// The committed ledger of the refine seeds (docs/figures/refine-ledger-every-solve, written by
    /// scripts/refine-seeds.sh) continues only while today's code gives its configuration the digest its
    /// points and runs record: configs/large.toml with the script's `--set` keys. A change of the digest's
    /// rule, of a default or of the script would strand it; this says so here, not after hours of FEM.
    func testTheCommittedRefineLedgerIsTodaysConfiguration() throws {
        let root = packageRoot(of: #filePath)
        let ledger = root.appendingPathComponent("docs/figures/refine-ledger-every-solve", isDirectory: true)
        let setup = try JSONDecoder().decode(RefineStudy.LedgerSetup.self, from: Data(contentsOf: ledger.appendingPathComponent(RefineStudy.ledgerSetupFile)))
        XCTAssertEqual(setup.blasCore, "Haswell", "the long studies pin OPENBLAS_CORETYPE=Haswell")
        XCTAssertEqual(setup.dataSHA256.count, 64)
        let script = try String(contentsOf: root.appendingPathComponent("scripts/refine-seeds.sh"), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"--set (?:'([^']*)'|"([^"]*)"|(\S+))"#)
        let overrides = pattern.matches(in: script, range: NSRange(script.startIndex..., in: script)).compactMap { match -> String? in
            (1...3).compactMap { Range(match.range(at: $0), in: script).map { String(script[$0]) } }.first
        }.filter { !$0.contains("$") }
        XCTAssertEqual(overrides.count, 3, "the script's result-changing --set keys: \(overrides)")
        let config = try PipelineConfig.load(root.appendingPathComponent("configs/large.toml"), overrides: overrides)
        let digest = RefineLoop.configurationDigest(config)
        var checked = 0
        for case let url as URL in FileManager.default.enumerator(at: ledger, includingPropertiesForKeys: nil)! {
            let name = url.lastPathComponent
            if name.hasPrefix("n_"), name.hasSuffix(".json") {
                let point = try JSONDecoder().decode(RefineStudy.LHSPoint.self, from: Data(contentsOf: url))
                XCTAssertEqual(point.configurationSHA256, digest, url.path)
                checked += 1
            } else if name == DataLayout.RefineRun.settingsFile {
                let settings = try JSONDecoder().decode(RefineSettings.self, from: Data(contentsOf: url))
                XCTAssertEqual(settings.configurationSHA256, digest, url.path)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 0, "the ledger holds points or runs")
    }

    /// The oracle curve: from the same initial design as LHS (the same scores at 6 solves), its next
    /// design adds the 3 training samples outside the design on which the model at 6 solves is worst —
    /// checked against that model refitted by hand —, never a test sample; a rerun leaves its files as
    /// they were, a point whose recorded choice was altered is refused by name, and the tables and the
    /// paired comparison carry it as method `oracle`.
    func testOracleAddsTheWorstPredictedTrainingSamples() throws {
        let (data, arguments) = try studyCopy("refine-oracle-test", label: "oracle")
        defer { try? FileManager.default.removeItem(at: data) }
        try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "lhs,oracle"]))
        let layout = DataLayout(data)
        let folder = RefineStudy.seedFolder(layout, "oracle", .oracle, 1)
        func point(_ n: Int, _ method: RefineStudy.Method = .oracle) throws -> RefineStudy.LHSPoint {
            let url = RefineStudy.seedFolder(layout, "oracle", method, 1).appendingPathComponent(String(format: "n_%06d.json", n))
            return try JSONDecoder().decode(RefineStudy.LHSPoint.self, from: Data(contentsOf: url))
        }
        let (config, base, rows, prepared) = try seedOneLHSPoint(layout, solves: 6)
        let first = try point(6), last = try point(9)
        XCTAssertEqual(first.rows, rows)
        XCTAssertEqual(first.scores, try point(6, .lhs).scores, "the same initial design as the LHS curve")
        let fitted = try SurrogateFitStage.fit(.podGP, prepared: prepared, config: config, threads: 1).surrogate
        let pool = LearningCurve.nestedOrder(base.trainIndices, seed: 1).filter { !rows.contains($0) }
        let errors = try SurrogateFitStage.relativeErrors(fitted, rows: pool, dataset: base, threads: 1).errors.perSample
        let ranked = zip(pool, errors).compactMap { row, e in e.map { (row, $0) } }.sorted { $0.1 > $1.1 }
        let chosen = try XCTUnwrap(first.chosenNext)
        XCTAssertEqual(chosen, ranked.prefix(3).map(\.0))
        XCTAssertLessThanOrEqual(ranked[3].1, ranked[2].1)
        XCTAssertTrue(Set(chosen).isDisjoint(with: base.testIndices), "a test sample is never chosen")
        XCTAssertEqual(last.rows, (rows + chosen).sorted())
        XCTAssertNil(last.chosenNext, "the curve's last point chooses nothing")
        XCTAssertTrue(FileManager.default.fileExists(atPath: RefineStudy.lhsTestErrors(folder, solves: 9, model: "pod_gp").path))

        // Resume: nothing to do, the same bytes.
        let url6 = folder.appendingPathComponent("n_000006.json"), url9 = folder.appendingPathComponent("n_000009.json")
        let bytes = try [Data(contentsOf: url6), Data(contentsOf: url9)]
        try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "oracle"]))
        XCTAssertEqual(try [Data(contentsOf: url6), Data(contentsOf: url9)], bytes)
        // A point whose recorded choice no longer leads to its successor's design is refused, naming it.
        var altered = first
        altered.chosenNext = Array(pool.filter { !chosen.contains($0) }.prefix(3))
        try JSONEncoder().encode(altered).write(to: url6)
        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "oracle"]))) {
            XCTAssertTrue("\($0)".contains("n_000009.json") && "\($0)".contains("another design"), "\($0)")
        }
        try bytes[0].write(to: url6)

        let table = try String(contentsOf: layout.refine.studyCSV, encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(table.filter { $0.split(separator: ",")[1] == "oracle" }.count, 2)
        let paired = try String(contentsOf: layout.refine.studyPaired, encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(paired.filter { $0.split(separator: ",")[1] == "oracle" }.map { $0.split(separator: ",")[5...6].joined(separator: "/") },
                       ["6/6", "6/6", "6/9", "6/9", "9/9", "9/9"])
        XCTAssertEqual(RefineStudy.largestErrors(pool: [10, 11, 12, 13], errors: [0.2, nil, 0.5, 0.2], count: 3), [12, 10, 13],
                       "largest first, ties in pool order, undefined errors last")
        XCTAssertEqual(RefineStudy.largestErrors(pool: [10, 11], errors: [.nan, 0.1], count: 2), [11, 10])
    }

    /// `--oracle-share`: a hedged oracle takes round(share·K) of each batch by the error, the rest from
    /// the nested LHS order; the share is recorded, and a curve is not continued with another.
    func testHedgedOracleTakesTheRestOfEachBatchFromTheNestedOrder() throws {
        let (data, arguments) = try studyCopy("refine-hedge-test", label: "hedge")
        defer { try? FileManager.default.removeItem(at: data) }
        try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "oracle", "--oracle-share", "0.34"]))
        let layout = DataLayout(data)
        let folder = RefineStudy.seedFolder(layout, "hedge", .oracle, 1)
        let first = try JSONDecoder().decode(RefineStudy.LHSPoint.self, from: Data(contentsOf: folder.appendingPathComponent("n_000006.json")))
        let (config, base, rows, prepared) = try seedOneLHSPoint(layout, solves: 6)
        let fitted = try SurrogateFitStage.fit(.podGP, prepared: prepared, config: config, threads: 1).surrogate
        let pool = LearningCurve.nestedOrder(base.trainIndices, seed: 1).filter { !rows.contains($0) }
        let errors = try SurrogateFitStage.relativeErrors(fitted, rows: pool, dataset: base, threads: 1).errors.perSample
        let worst = zip(pool, errors).compactMap { row, e in e.map { (row, $0) } }.max { $0.1 < $1.1 }!.0
        // K = 3, share 0.34: one by the error, then the first two pool rows of the nested order.
        XCTAssertEqual(first.chosenNext, [worst] + Array(pool.filter { $0 != worst }.prefix(2)))
        XCTAssertEqual(first.oracleShare, 0.34)
        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "oracle"]))) {
            XCTAssertTrue("\($0)".contains("--oracle-share 0.34, not 1.0"), "\($0)")
        }
        XCTAssertThrowsError(try RefineStudyOptions.parse(arguments + ["--methods", "lhs", "--oracle-share", "0.5"])) {
            XCTAssertTrue("\($0)".contains("needs oracle in --methods"), "\($0)")
        }
        for bad in ["0", "1.5", "nan"] {
            XCTAssertThrowsError(try RefineStudyOptions.parse(arguments + ["--oracle-share", bad]), bad) {
                XCTAssertTrue("\($0)".contains("--oracle-share"), "\($0)")
            }
        }
    }

    /// `--swap-at`: each design (LHS, oracle) conditioned with each point's fitted hyper-parameters.
    /// The diagonal repeats the points; an off-diagonal cell equals POD-GP fitted here on the one
    /// design's rows with the other point's values held; the table's ratios are each cell against its
    /// design's own values; the swap resumes, and what it cannot do is refused by name.
    func testSwapConditionsEachDesignWithEachPointsValues() throws {
        let (data, arguments) = try studyCopy("refine-swap-test", label: "swap")
        defer { try? FileManager.default.removeItem(at: data) }
        try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "lhs,oracle"]))
        let layout = DataLayout(data)
        func point(_ method: RefineStudy.Method) throws -> RefineStudy.LHSPoint {
            let url = RefineStudy.seedFolder(layout, "swap", method, 1).appendingPathComponent("n_000009.json")
            return try JSONDecoder().decode(RefineStudy.LHSPoint.self, from: Data(contentsOf: url))
        }
        let lhs = try point(.lhs), oracle = try point(.oracle)
        let (config, base, lhsRows, _) = try seedOneLHSPoint(layout, solves: 9)
        let oracleRows = try XCTUnwrap(oracle.rows)
        XCTAssertNotEqual(oracleRows, lhsRows, "the two designs differ, or the swap would test nothing")
        let lhsValues = try XCTUnwrap(lhs.podGP).modes, oracleValues = try XCTUnwrap(oracle.podGP).modes
        XCTAssertNotEqual(lhsValues, oracleValues)

        try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "lhs,oracle", "--swap-at", "9"]))
        let folder = RefineStudy.swapFolder(layout, "swap", 1)
        let swapURL = RefineStudy.swapPointURL(folder, solves: 9)
        let swap = try JSONDecoder().decode(RefineStudy.SwapPoint.self, from: Data(contentsOf: swapURL))
        XCTAssertEqual(swap.cells.map { "\($0.design)/\($0.hyperparameters)" }, ["lhs/lhs", "lhs/oracle", "oracle/lhs", "oracle/oracle"])
        func cell(_ design: String, _ values: String) throws -> RefineStudy.SwapCell {
            try XCTUnwrap(swap.cells.first { $0.design == design && $0.hyperparameters == values })
        }
        // The diagonal: the point's own rows and values, conditioned afresh (the fit's α and the held
        // conditioning's may differ in the last bits, hence a relative 1e-9).
        for (design, own) in [("lhs", lhs), ("oracle", oracle)] {
            let score = try cell(design, design).score, stored = try XCTUnwrap(own.scores.first)
            XCTAssertEqual(score.testMedian, stored.testMedian, accuracy: 1e-9 * stored.testMedian, design)
            XCTAssertEqual(score.testP95, stored.testP95, accuracy: 1e-9 * stored.testP95, design)
        }
        // Off the diagonal: the oracle's rows with the LHS point's values, and the reverse, fitted here.
        let scaler = try InputScaler(ranges: config.sampling.ranges)
        for (design, rows, values, name) in [("oracle", oracleRows, lhsValues, "lhs"), ("lhs", lhsRows, oracleValues, "oracle")] {
            let prepared = try SurrogateFitStage.prepare(config: config, dataset: base, inputScaler: scaler, trainingRows: rows,
                                                         sensitivities: layout.fem.sensitivities)
            let fitted = try SurrogateFitStage.fit(.podGP, prepared: prepared, config: config, threads: 1, heldHyperparameters: values).surrogate
            let test = try SurrogateFitStage.relativeErrors(fitted, rows: base.testIndices, dataset: base, threads: 1).errors
            let c = try cell(design, name)
            XCTAssertEqual(c.score.testMedian, test.median, "\(design) design, \(name) values")
            XCTAssertEqual(c.score.testP95, test.percentile95, "\(design) design, \(name) values")
            XCTAssertEqual(c.heldModes, min(values.count, SurrogateFitStage.modeHyperparameters(of: fitted)?.count ?? -1))
            let saved = try Npy.read(Double.self, from: RefineStudy.swapTestErrors(folder, solves: 9, design: design, values: name), expectedShape: [nil]).values
            XCTAssertEqual(saved.count, base.testIndices.count)
        }
        // The table: one row per cell; the diagonal's ratio is 1 with the interval [1, 1], the others the cell's over its design's own.
        let rows = try String(contentsOf: layout.refine.studySwap, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(rows.first?.joined(separator: ","), RefineStudy.swapHeader)
        XCTAssertEqual(rows.count, 5)
        for row in rows.dropFirst() {
            let (design, values) = (String(row[3]), String(row[4]))
            let median = try XCTUnwrap(Double(row[8])), low = try XCTUnwrap(Double(row[9])), high = try XCTUnwrap(Double(row[10]))
            let expected = try cell(design, values).score.testMedian / cell(design, design).score.testMedian
            XCTAssertEqual(median, expected, accuracy: 1e-12 * expected, "\(design)/\(values)")
            if design == values { XCTAssertEqual([low, high], [1, 1]) } else { XCTAssertLessThanOrEqual(low, high) }
        }
        // Resume: nothing is redone, the same bytes.
        let bytes = try Data(contentsOf: swapURL)
        try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "lhs,oracle", "--swap-at", "9"]))
        XCTAssertEqual(try Data(contentsOf: swapURL), bytes)
        // Refused by name: an adaptive design, a solve count without points, with --replot.
        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "lhs,adaptive", "--swap-at", "9"]))) {
            XCTAssertTrue("\($0)".contains("lhs and oracle"), "\($0)")
        }
        XCTAssertThrowsError(try RefineStudy.run(try RefineStudyOptions.parse(arguments + ["--methods", "lhs,oracle", "--swap-at", "7"]))) {
            XCTAssertTrue("\($0)".contains("n_000007.json") && "\($0)".contains("no point at 7 solves"), "\($0)")
        }
        XCTAssertThrowsError(try RefineStudyOptions.parse(arguments + ["--swap-at", "9", "--replot"])) {
            XCTAssertTrue("\($0)".contains("--replot"), "\($0)")
        }
        XCTAssertThrowsError(try RefineStudyOptions.parse(arguments + ["--swap-at", "9,x"])) {
            XCTAssertTrue("\($0)".contains("\"x\""), "\($0)")
        }
    }

    /// `gp_prior_mean`: "sample" (the default) leaves the refine digest as it was before the key
    /// existed, so earlier runs resume; "gls" changes it; an unknown value is refused by name.
    func testPriorMeanKeyAndTheRefineDigest() throws {
        let gls = try checkKeyAddedAtItsDefault("gp_prior_mean", default: "sample", other: "gls", unknown: "median")
        XCTAssertEqual(gls.surrogate.gpPriorMean, .gls)
    }

    /// A `[surrogate]` key added after runs were recorded: set explicitly to its default it gives the
    /// refine digest of the config that omits it, `other` changes it, `unknown` is refused naming the
    /// key. Returns the config with `other`. (That the omitted key's digest is the one recorded before
    /// the key existed is `testTheCommittedRefineLedgerIsTodaysConfiguration`'s: it fails, 9 times,
    /// when the digest stops removing `input_warping = "none"`.)
    func checkKeyAddedAtItsDefault(_ key: String, default value: String, other: String, unknown: String,
                                   file: StaticString = #filePath, line: UInt = #line) throws -> PipelineConfig {
        let url = URL(fileURLWithPath: Self.config)
        let plain = try PipelineConfig.load(url), atDefault = try PipelineConfig.load(url, overrides: ["surrogate.\(key)=\(value)"])
        let changed = try PipelineConfig.load(url, overrides: ["surrogate.\(key)=\(other)"])
        XCTAssertEqual(RefineLoop.configurationDigest(plain), RefineLoop.configurationDigest(atDefault), file: file, line: line)
        XCTAssertNotEqual(RefineLoop.configurationDigest(plain), RefineLoop.configurationDigest(changed), file: file, line: line)
        XCTAssertThrowsError(try PipelineConfig.load(url, overrides: ["surrogate.\(key)=\(unknown)"]), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(key), "\($0)", file: file, line: line)
        }
        return changed
    }

    /// `input_warping`: "none" (the default) keeps the refine digest; "design_density" changes it and makes the prepared features warp to the fitting rows' design
    /// (the same warp `InputWarping` gives those rows' linear positions in the box — D, a log input,
    /// warped before its log map; the validation rows do not enter); an unknown value is refused by name.
    func testInputWarpingKeyTheRefineDigestAndThePreparedFeatures() throws {
        let warped = try checkKeyAddedAtItsDefault("input_warping", default: "none", other: "design_density", unknown: "kumaraswamy")
        XCTAssertEqual(warped.surrogate.inputWarping, .designDensity)
        let plain = try PipelineConfig.load(URL(fileURLWithPath: Self.config))
        let scaler = try InputScaler(ranges: warped.sampling.ranges)
        var g = SeededGenerator(seed: 3, stream: 0)
        let n = 60
        let parameters = (0..<(n * 6)).map { k -> Double in
            let j = k % 6, u = g.nextUniform()
            return scaler.lower[j] + (j == 2 ? u * u * u : u) * (scaler.upper[j] - scaler.lower[j])   // D crowded at its small end
        }
        let dataset = try SurrogateDataset(parameters: parameters, parameterWidth: 6, split: [UInt8](repeating: 0, count: n),
                                           observations: (0..<(n * 3)).map { Double($0 % 7) + 1 }, observationWidth: 3,
                                           status: [Int32](repeating: 0, count: n), inputScaler: scaler, parameterNames: PollutantParameters.names)
        let prepared = try SurrogateFitStage.prepare(config: warped, dataset: dataset, inputScaler: scaler)
        let unwarped = try SurrogateFitStage.prepare(config: plain, dataset: dataset, inputScaler: scaler)
        XCTAssertNil(unwarped.features.warping)
        XCTAssertEqual(prepared.fitRows, unwarped.fitRows)
        let positions = unwarped.features.linearPositions(prepared.fitRows.flatMap { parameters[($0 * 6)..<(($0 + 1) * 6)] })
        XCTAssertEqual(prepared.features.warping, try InputWarping(designDensityOf: positions, count: prepared.fitRows.count, width: 6))
        // D's warp stretches its crowded small end: the slope there is above 1, at the large end below.
        let w = try XCTUnwrap(prepared.features.warping)
        XCTAssertGreaterThan(w.slope(-0.9, column: 2), 1)
        XCTAssertLessThan(w.slope(0.9, column: 2), 1)
    }

    /// `input_warping = "likelihood"`: the prepared features carry the warp `InputWarping.fitToLikelihood`
    /// learns from the fitting rows' transformed fields (one definition, called by the fit stage), and on
    /// fields with a boundary layer at D's small end — an even design, which the design-density warp
    /// leaves alone — it stretches that end (slope above 1 at −0.9, below 1 at 0.9). The digest changes.
    func testLikelihoodInputWarpingLearnsWhereTheFieldsAreSharp() throws {
        let url = URL(fileURLWithPath: Self.config)
        let config = try PipelineConfig.load(url, overrides: ["surrogate.input_warping=likelihood"])
        XCTAssertNotEqual(RefineLoop.configurationDigest(config), RefineLoop.configurationDigest(try PipelineConfig.load(url)))
        let scaler = try InputScaler(ranges: config.sampling.ranges)
        var g = SeededGenerator(seed: 4, stream: 0)
        let n = 60
        let parameters = (0..<(n * 6)).map { k -> Double in
            let j = k % 6
            return scaler.lower[j] + g.nextUniform() * (scaler.upper[j] - scaler.lower[j])
        }
        func position(_ r: Int, _ j: Int) -> Double { (parameters[r * 6 + j] - scaler.lower[j]) / (scaler.upper[j] - scaler.lower[j]) }
        let observations = (0..<n).flatMap { r -> [Double] in
            (0..<3).map { j in exp(-15 * position(r, 2)) * Double(j + 1) + 0.3 * position(r, 0) * Double(j) + 1 }
        }
        let dataset = try SurrogateDataset(parameters: parameters, parameterWidth: 6, split: [UInt8](repeating: 0, count: n),
                                           observations: observations, observationWidth: 3,
                                           status: [Int32](repeating: 0, count: n), inputScaler: scaler, parameterNames: PollutantParameters.names)
        let prepared = try SurrogateFitStage.prepare(config: config, dataset: dataset, inputScaler: scaler)
        let plain = try InputFeatures(box: scaler, logarithmic: PollutantParameters.names.map { config.surrogate.logInputs.contains($0) })
        let fields = prepared.fitRows.flatMap { r in observations[(r * 3)..<((r + 1) * 3)].map { prepared.transform.apply($0) } }
        let direct = try InputWarping.fitToLikelihood(fields: fields, count: prepared.fitRows.count, pointCount: 3,
                                                      parameters: prepared.fitRows.flatMap { parameters[($0 * 6)..<(($0 + 1) * 6)] }, features: plain,
                                                      options: SurrogateFitStage.podGaussianProcessOptions(config, threads: 1))
        let w = try XCTUnwrap(prepared.features.warping)
        XCTAssertEqual(w, direct.warping)
        print("likelihood warp of a boundary layer in D: a \(w.a), b \(w.b); NLML \(direct.stationaryNegativeLogLikelihood) → \(direct.warpedObjective)")
        XCTAssertGreaterThan(w.slope(-0.9, column: 2), 1)
        XCTAssertLessThan(w.slope(0.9, column: 2), 1)
        // A refine point records the fitted model's warp with its hyper-parameters; a point file
        // written before the field existed reads back without one.
        let fitted = try SurrogateFitStage.fit(.podGP, prepared: prepared, config: config, threads: 1)
        let record = try XCTUnwrap(FittedHyperparameters(fitted.surrogate))
        XCTAssertEqual(record.inputWarping, w)
        let encoded = try JSONEncoder().encode(record)
        XCTAssertEqual(try JSONDecoder().decode(FittedHyperparameters.self, from: encoded), record)
        var earlier = try XCTUnwrap(JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        earlier.removeValue(forKey: "inputWarping")
        let old = try JSONDecoder().decode(FittedHyperparameters.self, from: JSONSerialization.data(withJSONObject: earlier))
        XCTAssertNil(old.inputWarping)
        XCTAssertEqual(old.modes, record.modes)
        // refine_hyperparameters.csv lists the warp's shapes by parameter, as mode `warp`.
        let score = RefineScore(model: "pod_gp", testMedian: 0, testP95: 0, validationMedian: 0, validationP95: 0)
        let table = RefineStudy.hyperparameterTable([RefineStudy.Point(label: "w", method: "lhs", model: "pod_gp", seed: 1, solves: 48,
                                                                       score: score, seconds: 0, podGP: record)])
        for (m, name) in PollutantParameters.names.enumerated() {
            XCTAssertTrue(table.contains("w,lhs,1,48,warp,a:\(name),\(w.a[m])\n"), name)
            XCTAssertTrue(table.contains("w,lhs,1,48,warp,b:\(name),\(w.b[m])\n"), name)
        }
    }

    /// The paired comparison on hand-made per-sample errors. Adaptive errors half of LHS's on every
    /// sample: every resample's ratio is exactly 0.5, so the interval is [0.5, 0.5] — an unpaired
    /// bootstrap would spread it. The same values paired in another order: the estimate is 1 and the
    /// interval has width around it. Each adaptive point is compared with the LHS point of its size and
    /// with the LHS curve's largest; per-sample files of different lengths are refused by name.
    func testPairedComparisonResamplesTestSamplesInPairs() throws {
        let folder = try makeTemporaryFolder("refine-paired-test")
        defer { try? FileManager.default.removeItem(at: folder) }
        let lhs = (0..<101).map { 0.001 * Double(1 + ($0 * 37) % 101) }   // 0.001 … 0.101, shuffled
        func file(_ name: String, _ values: [Double]) throws -> URL {
            let url = folder.appendingPathComponent(name)
            try Npy.write(values, shape: [values.count], to: url)
            return url
        }
        func point(_ method: String, _ n: Int, _ errors: URL) -> RefineStudy.Point {
            RefineStudy.Point(label: "a", method: method, model: "pod_gp", seed: 3, solves: n,
                              score: RefineScore(model: "pod_gp", testMedian: 0, testP95: 0, validationMedian: 0, validationP95: 0), seconds: 1,
                              testErrors: errors)
        }
        let points = [point("lhs", 6, try file("l6.npy", lhs)), point("lhs", 12, try file("l12.npy", lhs.reversed())),
                      point("adaptive", 6, try file("a6.npy", lhs.map { 0.5 * $0 })), point("adaptive", 9, try file("a9.npy", lhs))]
        let c = try RefineStudy.pairedComparisons(points)
        XCTAssertEqual(c.map { "\($0.solves)/\($0.lhsSolves) \($0.statistic)" },
                       ["6/6 median", "6/6 p95", "6/12 median", "6/12 p95", "9/12 median", "9/12 p95"])
        let halved = c[0]
        XCTAssertEqual(halved.method, "adaptive")
        XCTAssertEqual(halved.error, 0.5 * (try Metrics.median(lhs)), accuracy: 1e-15)
        XCTAssertEqual(halved.lhsError, 0.051, accuracy: 1e-15)
        XCTAssertEqual(halved.samples, 101)
        for k in [0, 1] {
            XCTAssertEqual(c[k].ratio, 0.5, accuracy: 1e-12)
            XCTAssertEqual(c[k].ratioLow, 0.5, accuracy: 1e-12)
            XCTAssertEqual(c[k].ratioHigh, 0.5, accuracy: 1e-12)
        }
        // Same values, other pairing: ratio 1, an interval of positive width around it.
        for k in [4, 5] {
            XCTAssertEqual(c[k].ratio, 1, accuracy: 1e-12)
            XCTAssertLessThan(c[k].ratioLow, 1)
            XCTAssertGreaterThan(c[k].ratioHigh, 1)
        }
        XCTAssertEqual(try RefineStudy.pairedComparisons(points), c, "seeded: the same intervals again")
        let more = try RefineStudy.pairedComparisons(points + [point("adaptive", 3, try file("a3.npy", lhs.map { 2 * $0 }))])
        XCTAssertEqual(more.count, c.count + 2)
        XCTAssertEqual(Array(more.suffix(c.count)), c, "a point joining the study leaves the other intervals as they were")
        // An oracle point is compared with LHS as an adaptive one is, under its own method.
        let withOracle = try RefineStudy.pairedComparisons(points + [point("oracle", 6, try file("o6.npy", lhs.map { 0.25 * $0 }))])
        let oracle = withOracle.filter { $0.method == "oracle" }
        XCTAssertEqual(oracle.map { "\($0.solves)/\($0.lhsSolves) \($0.statistic)" }, ["6/6 median", "6/6 p95", "6/12 median", "6/12 p95"])
        XCTAssertEqual(oracle[0].ratio, 0.25, accuracy: 1e-12)
        XCTAssertEqual(withOracle.filter { $0.method == "adaptive" }, c)
        // The figure draws the equal-size comparisons: one curve (6 solves) with its band, and the line ratio = 1.
        let figure = try XCTUnwrap(RefineStudy.pairedFigure(c))
        XCTAssertEqual(figure.panels.count, 2)
        guard case .xy(let median) = figure.panels[0].content else { return XCTFail("not an x–y panel") }
        XCTAssertEqual(median.series.count, 3)
        XCTAssertEqual(median.series[1], .line(LineSeries("a adaptive pod_gp seed 3", x: [6], y: [c[0].ratio], color: RGBColor.palette[0])))
        XCTAssertFalse(try figure.svg().isEmpty)
        XCTAssertNil(RefineStudy.pairedFigure(c.filter { $0.lhsSolves == 12 }), "no equal-size comparison: no figure")
        let short = [points[0], point("adaptive", 6, try file("short.npy", Array(lhs.prefix(50))))]
        XCTAssertThrowsError(try RefineStudy.pairedComparisons(short)) { XCTAssertTrue("\($0)".contains("short.npy"), "\($0)") }
    }

    /// The savings on hand-made curves: LHS medians over three seeds, adaptive's first point at or below them.
    func testSavingsTakeTheFirstAdaptivePointAtOrBelowTheLastLHSError() {
        func point(_ method: String, _ seed: UInt64, _ n: Int, _ median: Double, _ p95: Double) -> RefineStudy.Point {
            RefineStudy.Point(label: "a", method: method, model: "pod_gp", seed: seed, solves: n,
                              score: RefineScore(model: "pod_gp", testMedian: median, testP95: p95, validationMedian: 0, validationP95: 0), seconds: 1)
        }
        var points: [RefineStudy.Point] = []
        // LHS at 400 solves: medians 0.030, 0.010, 0.020 over the seeds → 0.020; p95 0.3, 0.1, 0.2 → 0.2.
        for (seed, m, q) in [(1, 0.030, 0.3), (2, 0.010, 0.1), (3, 0.020, 0.2)] as [(UInt64, Double, Double)] {
            points.append(point("lhs", seed, 200, 0.05, 0.5))
            points.append(point("lhs", seed, 400, m, q))
        }
        // Adaptive: median 0.025 at 200 (above), 0.019 at 300 (below: reached); p95 never at or below 0.2.
        for seed: UInt64 in [1, 2] {
            points.append(point("adaptive", seed, 200, 0.025, 0.4))
            points.append(point("adaptive", seed, 300, seed == 1 ? 0.018 : 0.020, 0.25))
        }
        let savings = RefineStudy.savings(points)
        XCTAssertEqual(savings.count, 2)
        let median = savings.first { $0.statistic == "median" }!, p95 = savings.first { $0.statistic == "p95" }!
        XCTAssertEqual(median.lhsSolves, 400)
        XCTAssertEqual(median.lhsError, 0.020, accuracy: 1e-15)
        XCTAssertEqual(median.lhsSeeds, 3)
        XCTAssertEqual(median.adaptiveSolves, 300)
        XCTAssertEqual(median.ratio!, 0.75, accuracy: 1e-15)
        XCTAssertEqual(p95.lhsError, 0.2, accuracy: 1e-15)
        XCTAssertNil(p95.adaptiveSolves)
        XCTAssertNil(p95.ratio)
        XCTAssertEqual(p95.adaptiveLargest, 300)
        // The LHS curve's own first point at or below its last error: the last one here (0.05 > 0.020 at 200) ...
        XCTAssertEqual(median.lhsFirstSolves, 400)
        // ... and an earlier one where the curve is flat: at 200 solves all three seeds are at 0.01, below 400's median 0.020.
        let flat = points.map { p -> RefineStudy.Point in
            var p = p
            if p.method == "lhs", p.solves == 200 { p.score.testMedian = 0.01 }
            return p
        }
        XCTAssertEqual(RefineStudy.savings(flat).first { $0.statistic == "median" }?.lhsFirstSolves, 200)
        XCTAssertEqual(RefineStudy.savingsCSV(RefineStudy.savings(flat)).split(separator: "\n")[1].split(separator: ",").last, "200")
        // A label with only an LHS curve has no savings row.
        XCTAssertEqual(RefineStudy.savings(points.filter { $0.method == "lhs" }), [])
    }
}
