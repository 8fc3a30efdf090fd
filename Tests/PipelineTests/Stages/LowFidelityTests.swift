import XCTest
import Foundation
import NumericalFoundations
import PDE
import Surrogates
import _TestSupport
@testable import Pipeline

/// The multi-fidelity POD-GP (`[surrogate] gp_low_fidelity_mesh`) on configs/smoke.toml's data: the
/// coarse-mesh source is the FEM stage itself on that mesh, its record rebuilds it, a fitted model
/// round-trips through `train-dmd predict`, and the key's bad values are refused by name.
final class LowFidelityTests: XCTestCase {
    static let smoke = SmokeDataSet(prefix: "low-fidelity-test")
    override class func tearDown() { smoke.remove() }

    /// On the configuration's own mesh (24 × 16) the source gives fem/c3.npy: the same discretization
    /// and Newton settings, the wind solved in-process by the wind stage's `WindBatch.solveSample`.
    /// Asserted to 1e-9 relative per sample (measured: bit for bit); the source rebuilt from its record
    /// after a JSON round trip gives the same bits; a parameter set without a wind profile fails,
    /// naming its row; the caller's BLAS thread count is put back.
    func testSourceOnTheConfiguredMeshIsTheFEMStage() throws {
        let data = try Self.smoke.data()
        let config = try PipelineConfig.load(URL(fileURLWithPath: SmokeDataSet.config))
        let layout = DataLayout(data)
        let params = try Npy.read(Double.self, from: layout.samples.params, expectedShape: [nil, 6])
        let c3 = try Npy.read(Double.self, from: layout.fem.c3, expectedShape: [params.rows, nil])
        let status = try Npy.read(Int32.self, from: layout.fem.status, expectedShape: [params.rows]).values
        let solved = (0..<params.rows).filter { status[$0] == 0 }
        XCTAssertGreaterThan(solved.count, 5)
        let mesh = config.fem.problem.mesh
        let source = try CoarseFEMSource(config: config, nx: mesh.nx, ny: mesh.ny)
        let p = c3.shape[1]
        XCTAssertEqual(source.pointCount, p)
        let callerBLASThreads = BLASThreads.current
        defer { BLASThreads.set(callerBLASThreads) }
        BLASThreads.set(2)
        let before = BLASThreads.current  // 2 where OpenBLAS allows it
        let fields = try source.fields(parameters: solved.flatMap { params.values[($0 * 6)..<(($0 + 1) * 6)] }, rows: solved.count, threads: 2)
        XCTAssertEqual(BLASThreads.current, before, "the solvers run with one BLAS thread each; the caller's setting is put back")
        for (k, row) in solved.enumerated() {
            let a = Array(fields[(k * p)..<((k + 1) * p)]), b = Array(c3.values[(row * p)..<((row + 1) * p)])
            let difference = zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
            let norm = b.map { $0 * $0 }.reduce(0, +).squareRoot()
            XCTAssertLessThanOrEqual(difference, 1e-9 * norm, "sample \(row)")
        }
        let encoded = try JSONEncoder().encode(source.record)
        let rebuilt = try CoarseFEMSource(recorded: try JSONDecoder().decode(LowFidelityInputs.self, from: encoded))
        let first = Array(params.values[(solved[0] * 6)..<(solved[0] * 6 + 6)])
        XCTAssertEqual(try rebuilt.fields(parameters: first, rows: 1, threads: 1), Array(fields[0..<p]))
        if let without = (0..<params.rows).first(where: { status[$0] != 0 }) {
            let bad = first + Array(params.values[(without * 6)..<(without * 6 + 6)])
            XCTAssertThrowsError(try source.fields(parameters: bad, rows: 2, threads: 1)) { e in
                XCTAssertTrue("\(e)".contains("parameter set 1 (K12 = "), "\(e)")
            }
        }
        XCTAssertThrowsError(try CoarseFEMSource(recorded: LowFidelityInputs(source: "other", summary: "", settings: .object([:]))))
    }

    /// The coarse source's ∂c3/∂θ: on the configuration's own mesh they are the FEM stage's
    /// fem/dc3_dtheta.npy (the same tangent equation; 1e-9 relative per sample), and on a 12 × 8 mesh
    /// the low-fidelity latent Jacobians (`lowFidelityJacobians`: the cut at 0, log(c + δ), the input
    /// scaling) match central differences of the source's own latent fields along each parameter
    /// (step 1e-4 relative: measured ≤ 7e-8 of each column's norm, from the truncation and Newton's
    /// 1e-10 residual; asserted at 1e-5), a point below the cut has none; the discrepancy Jacobians are the fine minus the coarse where both exist.
    func testCoarseSensitivitiesAreTheFEMStagesAndTheLatentJacobiansItsDifferences() throws {
        let data = try Self.smoke.data()
        let config = try PipelineConfig.load(URL(fileURLWithPath: SmokeDataSet.config))
        let layout = DataLayout(data)
        let params = try Npy.read(Double.self, from: layout.samples.params, expectedShape: [nil, 6])
        let status = try Npy.read(Int32.self, from: layout.fem.status, expectedShape: [params.rows]).values
        let p = try Npy.read(Double.self, from: layout.fem.c3, expectedShape: [params.rows, nil]).shape[1]
        let fine = try Npy.read(Double.self, from: layout.fem.sensitivities, expectedShape: [params.rows, p, 6]).values
        let rows = Array((0..<params.rows).filter { status[$0] == 0 }.prefix(4))
        let mesh = config.fem.problem.mesh
        let source = try CoarseFEMSource(config: config, nx: mesh.nx, ny: mesh.ny)
        let solved = try source.fieldsWithSensitivities(parameters: rows.flatMap { params.values[($0 * 6)..<(($0 + 1) * 6)] }, rows: rows.count, threads: 2)
        for (k, row) in rows.enumerated() {
            let a = try solved.sensitivities[k].get(), b = Array(fine[(row * p * 6)..<((row + 1) * p * 6)])
            XCTAssertLessThanOrEqual(relativeError(a, b), 1e-9, "sample \(row)")
        }

        let coarseConfig = try PipelineConfig.load(URL(fileURLWithPath: SmokeDataSet.config), overrides: ["surrogate.gp_low_fidelity_mesh=[12, 8]"])
        let prepared = try SurrogateFitStage.prepare(config: coarseConfig, dataDirectory: data)
        let coarse = try CoarseFEMSource(config: coarseConfig, nx: 12, ny: 8)
        let picked = Array(prepared.fitRows.prefix(2))
        let theta = picked.map { Array(prepared.dataset.parameters[($0 * 6)..<(($0 + 1) * 6)]) }
        let both = try coarse.fieldsWithSensitivities(parameters: theta.flatMap { $0 }, rows: 2, threads: 2)
        let jacobians = SurrogateFitStage.lowFidelityJacobians(prepared, rows: picked, fields: both.values, sensitivities: both.sensitivities.map { try? $0.get() })
        XCTAssertEqual(jacobians.available, [true, true])
        // Below the cut the latent field is constant: a point moved below 0 loses its derivatives, and only it.
        var undershoot = both.values
        undershoot[p + 3] = -1e-6
        let cut = SurrogateFitStage.lowFidelityJacobians(prepared, rows: picked, fields: undershoot, sensitivities: both.sensitivities.map { try? $0.get() })
        XCTAssertEqual(Array(cut.values[((p + 3) * 6)..<((p + 4) * 6)]), [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(cut.values.enumerated().filter { $0.offset / 6 != p + 3 }.map(\.element),
                       jacobians.values.enumerated().filter { $0.offset / 6 != p + 3 }.map(\.element))
        for (slot, t) in theta.enumerated() {
            for j in 0..<6 {
                let h = 1e-4 * max(abs(t[j]), j == 5 ? 0.01 : 0.1)
                var up = t, down = t
                up[j] += h; down[j] -= h
                let fields = try coarse.fields(parameters: up + down, rows: 2, threads: 2)
                let latent = ReducedOrderSurrogate.lowFidelityLatent(fields, transform: prepared.transform)
                let factor = prepared.features.parameterPerScaledInput(t[j], column: j)
                let differences = (0..<p).map { (latent[$0] - latent[p + $0]) / (2 * h) * factor }
                let column = (0..<p).map { jacobians.values[(slot * p + $0) * 6 + j] }
                XCTAssertLessThanOrEqual(relativeError(column, differences), 1e-5, "row \(picked[slot]), \(PollutantParameters.names[j])")
            }
        }
        let fineJacobians = FieldJacobians(values: jacobians.values.map { 2 * $0 }, available: [true, false])
        let discrepancy = SurrogateFitStage.discrepancyJacobians(fine: fineJacobians, lowFidelity: jacobians)
        XCTAssertEqual(discrepancy.available, [true, false])
        XCTAssertEqual(Array(discrepancy.values.prefix(p * 6)), Array(jacobians.values.prefix(p * 6)))
        XCTAssertTrue(discrepancy.values.suffix(p * 6).allSatisfy { $0 == 0 })
    }

    /// `lowFidelityCorrection` with Jacobians for a leading part of its rows (POD-NN's fit rows, not
    /// its validation rows): the offsets are those of a values-only solve of every row and the
    /// Jacobians those of a solve with sensitivities of every row, cut to the leading part (bit for bit).
    func testCorrectionSolvesTheTangentOnlyForTheLeadingRows() throws {
        let config = try PipelineConfig.load(URL(fileURLWithPath: SmokeDataSet.config), overrides: ["surrogate.podnn_low_fidelity_mesh=[12, 8]"])
        let prepared = try SurrogateFitStage.prepare(config: config, dataDirectory: try Self.smoke.data())
        let rows = Array(prepared.fitRows.prefix(3)) + Array(prepared.validationRows.prefix(2))
        func correction(_ jacobianRows: Int) throws -> (offset: [Double], jacobians: FieldJacobians?) {
            let c = try XCTUnwrap(try SurrogateFitStage.lowFidelityCorrection(prepared, for: .podNN, rows: rows, config: config, threads: 2,
                                                                               jacobianRows: jacobianRows) { _ in })
            return (c.offset, c.jacobians)
        }
        let valuesOnly = try correction(0), leading = try correction(3), every = try correction(rows.count)
        XCTAssertNil(valuesOnly.jacobians)
        XCTAssertEqual(leading.offset, valuesOnly.offset)
        XCTAssertEqual(every.offset, valuesOnly.offset)
        let all = try XCTUnwrap(every.jacobians), part = try XCTUnwrap(leading.jacobians)
        XCTAssertEqual(part.available, Array(all.available.prefix(3)))
        XCTAssertEqual(part.values, Array(all.values.prefix(part.values.count)))
        XCTAssertEqual(part.values.count * rows.count, all.values.count * 3)
    }

    /// A POD-GP correcting the 12 × 8 solve: the folder records the low-fidelity model, `train-dmd
    /// predict` gives the fit's own bits, and the fit.json names it.
    func testCorrectedModelFitsAndPredictsTheFitsBits() throws {
        try checkCorrectedModelFitsAndPredicts(.podGP, key: "gp_low_fidelity_mesh")
    }

    /// The same for POD-NN (`podnn_low_fidelity_mesh`), early-stopped on the validation rows' discrepancies.
    func testCorrectedPODNNFitsAndPredictsTheFitsBits() throws {
        try checkCorrectedModelFitsAndPredicts(.podNN, key: "podnn_low_fidelity_mesh")
    }

    /// Both with the derivatives of the discrepancy (the fine sensitivities minus the 12 × 8 solve's):
    /// the fit uses every fit row's gradients and predicts its own bits.
    func testCorrectedModelsWithDerivativesFitAndPredictTheFitsBits() throws {
        let samples = try checkCorrectedModelFitsAndPredicts(.podGP, key: "gp_low_fidelity_mesh", overrides: ["surrogate.gp_derivative_modes=2"])
        let fitRows = try SurrogateFitStage.prepare(config: try PipelineConfig.load(URL(fileURLWithPath: SmokeDataSet.config)), dataDirectory: try Self.smoke.data()).fitRows
        XCTAssertEqual(samples, fitRows.count)
        XCTAssertEqual(try checkCorrectedModelFitsAndPredicts(.podNN, key: "podnn_low_fidelity_mesh", overrides: ["surrogate.podnn_derivative_weight=0.3"]),
                       fitRows.count)
    }

    /// Fits `kind` correcting the 12 × 8 solve, checks its record and that `predict` gives the fit's
    /// bits; the number of samples whose gradients the fit used (fit.json), if any.
    @discardableResult
    func checkCorrectedModelFitsAndPredicts(_ kind: SurrogateSettings.Model, key: String, overrides: [String] = []) throws -> Int? {
        let data = try Self.smoke.data()
        let config = try PipelineConfig.load(URL(fileURLWithPath: SmokeDataSet.config), overrides: ["surrogate.\(key)=[12, 8]"] + overrides)
        let scratch = try makeTemporaryFolder("low-fidelity-predict")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outcomes = try SurrogateFitStage.run(config: config, dataDirectory: data, models: [kind], threads: 2) { _ in }
        let folder = try XCTUnwrap(outcomes.first?.folder)
        let description = try JSONValue.parse(Data(contentsOf: folder.appendingPathComponent(ReducedOrderSurrogate.descriptionFile)))
        XCTAssertEqual(description["low_fidelity"]?["source"], .string(CoarseFEMSource.sourceName))
        XCTAssertEqual(description["low_fidelity"]?["settings"]?["fem"]?["nx"], JSONValue(12))
        let fit = try JSONValue.parse(Data(contentsOf: folder.appendingPathComponent(SurrogateFitStage.fitFile)))
        XCTAssertNotNil(fit["validation_relative_l2"]?["median"]?.number)
        let params = try Npy.read(Double.self, from: DataLayout(data).samples.params, expectedShape: [nil, 6])
        let test = try Npy.read(Int64.self, from: folder.appendingPathComponent(TrainingRun.testIndicesFile)).values.map { Int($0) }
        let written = try Npy.read(Double.self, from: folder.appendingPathComponent(TrainingRun.predictionsFile)).values
        let paramsFile = scratch.appendingPathComponent("params.npy"), out = scratch.appendingPathComponent("c3.npy")
        try Npy.write(test.flatMap { params.values[($0 * 6)..<(($0 + 1) * 6)] }, shape: [test.count, 6], to: paramsFile)
        try PredictStage.run(try PredictOptions.parse(["--model", folder.path, "--params", paramsFile.path, "--out", out.path]))
        XCTAssertEqual(try Npy.read(Double.self, from: out).values, written)
        XCTAssertTrue(written.allSatisfy { $0.isFinite })
        return fit["gradient_samples"]?.number.map { Int($0) }
    }

    /// `gp_low_fidelity_mesh`: off by default; [nx, ny]; its refusals (not two values, below 2, with the
    /// split, not coarser than [fem]'s mesh), each naming the key and the way out; with derivatives it is accepted.
    func testLowFidelityMeshKeyIsValidated() throws {
        let derivatives = try PipelineConfig.parse("[surrogate]\ngp_low_fidelity_mesh = [24, 16]\ngp_derivative_modes = 2\npodnn_low_fidelity_mesh = [24, 16]\npodnn_derivative_weight = 1\n").surrogate
        XCTAssertEqual([derivatives.gpDerivativeModes, derivatives.lowFidelityMesh(of: .podNN).count], [2, 2])
        XCTAssertEqual(try PipelineConfig.parse("").surrogate.gpLowFidelityMesh, [])
        XCTAssertEqual(try PipelineConfig.parse("[surrogate]\ngp_low_fidelity_mesh = [24, 16]\n").surrogate.gpLowFidelityMesh, [24, 16])
        let nn = try PipelineConfig.parse("[surrogate]\npodnn_low_fidelity_mesh = [24, 16]\n").surrogate
        XCTAssertEqual([nn.lowFidelityMesh(of: .podNN), nn.lowFidelityMesh(of: .podGP), nn.lowFidelityMesh(of: .tuned)], [[24, 16], [], []])
        for (text, fragments) in [("gp_low_fidelity_mesh = [24]", ["surrogate.gp_low_fidelity_mesh", "[nx, ny]"]),
                                  ("gp_low_fidelity_mesh = [24, 1]", ["surrogate.gp_low_fidelity_mesh"]),
                                  ("gp_low_fidelity_mesh = [24, 16]\ngp_output = \"scale_shape\"", ["surrogate.gp_low_fidelity_mesh", "gp_output = \"field\""]),
                                  ("gp_low_fidelity_mesh = [120, 80]", ["surrogate.gp_low_fidelity_mesh", "not coarser", "120 × 80"]),
                                  ("gp_low_fidelity_mesh = [200, 16]", ["surrogate.gp_low_fidelity_mesh", "not coarser"]),
                                  ("podnn_low_fidelity_mesh = [24, 16, 2]", ["surrogate.podnn_low_fidelity_mesh", "[nx, ny]"]),
                                  ("podnn_low_fidelity_mesh = [120, 80]", ["surrogate.podnn_low_fidelity_mesh", "not coarser"])] {
            XCTAssertThrowsError(try PipelineConfig.parse("[surrogate]\n" + text + "\n", file: "t.toml")) { e in
                for f in fragments + ["t.toml"] { XCTAssertTrue("\(e)".contains(f), "'\(e)' lacks '\(f)'") }
            }
        }
    }

    /// The refine loop with a multi-fidelity POD-GP: a candidate's low-fidelity field is the source's
    /// (through the cut transform), one without a wind profile is left out, and the loop runs a round
    /// with finite positive scores on distinct, solved points.
    func testRefineLoopRunsWithTheLowFidelityModel() throws {
        let data = try Self.smoke.data()
        let config = try PipelineConfig.load(URL(fileURLWithPath: SmokeDataSet.config), overrides: ["surrogate.gp_low_fidelity_mesh=[12, 8]"])
        let prepared = try SurrogateFitStage.prepare(config: config, dataDirectory: data)
        let rows = prepared.fitRows.prefix(3).map { Array(prepared.dataset.parameters[($0 * 6)..<(($0 + 1) * 6)]) }
        let folder = try makeTemporaryFolder("low-fidelity-pool")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("pool.npy")
        try Npy.write(rows[0] + rows[1] + [5, 5, 0.1, 0.01, 0, 0.2] + rows[2], shape: [4, 6], to: url)
        let pool = try CandidatePool(reading: url, draws: 4)
        let (available, _, latent) = try RefineLoop.candidateInputs(pool: pool, excluding: [1], prepared: prepared, config: config, threads: 2)
        XCTAssertEqual(available, [0, 3], "the taken row and the one without a wind profile are left out")
        let source = try CoarseFEMSource(config: config, nx: 12, ny: 8)
        let fields = try source.fields(parameters: rows[0] + rows[2], rows: 2, threads: 1)
        XCTAssertEqual(try XCTUnwrap(latent), ReducedOrderSurrogate.lowFidelityLatent(fields, transform: prepared.transform))

        let run = DataLayout(data).refine.run("low-fidelity")
        let settings = RefineSettings(initialSize: 6, batchSize: 3, budget: 9, poolDraws: 300, shortlist: 30, seed: 3, models: ["pod_gp"])
        let rounds = try RefineLoop.run(config: config, dataDirectory: data, run: run, settings: settings, threads: 2, notice: { _ in })
        XCTAssertEqual(rounds.map(\.evaluation.trainingSolves), [6, 9])
        for round in rounds { XCTAssertTrue(round.evaluation.scores.allSatisfy { $0.testMedian.isFinite && $0.testP95.isFinite }) }
        let scores = try Npy.read(Double.self, from: run.file(DataLayout.RefineRun.acquisitionFile, round: 1)).values
        XCTAssertTrue(scores.count == 3 && scores.allSatisfy { $0.isFinite && $0 > 0 }, "\(scores)")
        XCTAssertEqual(Set(try Npy.read(Int64.self, from: run.file(DataLayout.RefineRun.chosenFile, round: 1)).values).count, 3)
        XCTAssertEqual(try Npy.read(Int32.self, from: run.file(DataLayout.FEM.statusFile, round: 1)).values, [0, 0, 0])
    }
}
