import Foundation
import NumericalFoundations
import PDE
import Uncertainty

/// `uq-propagate fem-reference`: a plain finite-element Monte Carlo of the `[uq]` input distribution on
/// the feasible region — the reference the surrogate's uncertainty maps are measured against.
///
/// Rows are drawn one after the other from stream 5 of `[uq] seed` (six uniforms per row, as the
/// surrogate's Monte Carlo draws them) and kept when the wind similarity solution exists: first the
/// surrogate study's own indicator (`UQStage.Feasibility`, the wind stage's rule made fast), then the
/// wind stage's solve itself (`WindBatch.solveSample`, no clamping), which gives the profile (a row
/// whose solve yields none is rejected too and counted). The first N kept rows are solved by the FEM batch (`BatchRunner`: chunked, atomic
/// checkpoints, a rerun resumes, `[fem] threads` solvers); a sample whose solve fails is recorded and
/// left out of the maps. The per-point mean and standard deviation of c3 over the converged samples get
/// percentile bootstrap intervals (`MapBootstrap`, stream 6 of the seed). Method: docs/uq.md.
public enum FEMReference {
    static let drawStream: UInt64 = 5
    static let bootstrapStream: UInt64 = 6

    /// Feasible rows of the input distribution, with their wind profiles.
    struct FeasibleDraws {
        var rows: [Double] = []
        var windStatus: [WindStatus] = []
        var profiles: [BlasiusProfile?] = []
        /// Rows drawn in all, and those rejected by the indicator or by the wind solve.
        var draws = 0
        var rejectedByIndicator = 0
        var rejectedBySolve = 0
        var count: Int { windStatus.count }
    }

    /// The first `count` rows of stream `drawStream` of `seed` that have a wind profile. Rows the
    /// indicator accepts are solved in rounds on all cores (`WindBatch.solveAll`); the kept rows are in
    /// draw order, so the result is the same as solving one row after the other.
    static func drawFeasible(count: Int, inputs: InputModel, feasibility: UQStage.Feasibility, wind: WindSettings,
                             seed: UInt64) throws -> FeasibleDraws {
        var generator = SeededGenerator(seed: seed, stream: drawStream)
        var out = FeasibleDraws()
        let solver = BlasiusSolver(tolerance: wind.tolerance, profilePoints: wind.profilePoints)
        _ = BlasiusSolver.blowOffSuction
        let maxDraws = max(1_000_000, 1000 * count)
        while out.count < count {
            var candidates: [Double] = [], similarity: [SimilarityParameters] = []
            while similarity.count < count - out.count {
                guard out.draws < maxDraws else {
                    throw StageError("uq-propagate fem-reference: \(out.count + similarity.count) feasible rows in \(out.draws) draws: the feasible region has (almost) no probability under [uq]")
                }
                let row = inputs.sample(rows: 1, generator: &generator)
                out.draws += 1
                guard feasibility(row[...]) else { out.rejectedByIndicator += 1; continue }
                let p = UQStage.Parameter.self
                candidates += row
                similarity.append(try SimilarityParameters(U0: row[p.u0.rawValue], uh: row[p.uh.rawValue], uv: row[p.uv.rawValue], nu: wind.nu))
            }
            // Only a solution at the row's own parameters counts: no `clamp` (it would solve another row).
            let outcomes = try WindBatch.solveAll(similarity, solver: solver, policy: .skip)
            for (k, o) in outcomes.enumerated() {
                guard o.status == .solved, let solution = o.solution else { out.rejectedBySolve += 1; continue }
                out.rows += candidates[(6 * k)..<(6 * k + 6)]
                out.windStatus.append(o.status)
                out.profiles.append(solution.profile)
            }
        }
        return out
    }

    /// What a run produced: the folder's files and the numbers for the summary line.
    public struct Outcome {
        public var files: [URL]
        public var converged: Int
        public var failed: Int
        public var solveSeconds: Double
    }

    /// Draws, solves and writes `layout.uqFEMReference` (the caller holds its lock). `observe` sees every
    /// sample's record as it finishes (from the solver threads).
    static func run(config: PipelineConfig, layout: DataLayout, stop: StopSignal?, record: inout StageRecord,
                    observe: (@Sendable (SampleRecord) -> Void)? = nil) throws -> Outcome {
        let uq = config.uq, folder = layout.uqFEMReference
        var timer = monotonicSeconds()
        func lap() -> Double { let now = monotonicSeconds(); defer { timer = now }; return now - timer }
        let feasibility = try UQStage.Feasibility(box: config.sampling.ranges, nu: config.wind.nu)
        let draws = try drawFeasible(count: uq.referenceSamples, inputs: try UQStage.inputModel(config), feasibility: feasibility,
                                     wind: config.wind, seed: uq.seed)
        let drawSeconds = lap()
        let n = draws.count
        try FileManager.default.createDirectory(at: folder.folder, withIntermediateDirectories: true)
        let paramsData = Npy.encode(draws.rows, shape: [n, 6])
        try AtomicFile.write(paramsData, to: folder.params)
        let parameters = try (0..<n).map { try PollutantParameters(row: draws.rows[(6 * $0)..<(6 * $0 + 6)]) }
        let inputs = BatchInputs(parameters: parameters, windStatus: draws.windStatus, profiles: draws.profiles)
        let discretization = try PollutantDiscretization(settings: config.fem)
        var settings = BatchSettings(fem: config.fem, wind: config.wind)
        settings.sensitivities = nil
        let paramsRecord = Manifest.InputFile(path: folder.params.path, sha256: SHA256Digest.hex(of: paramsData), bytes: paramsData.count)
        let fingerprint = SHA256Digest.hex(of: Data((PollutantStage.fingerprint(config: config, inputs: [paramsRecord]) + " c3 only").utf8))
        let progress = ProgressReporter("uq-propagate fem-reference", total: n)
        let failed = FailureCount()
        let result = try BatchRunner.run(inputs: inputs, discretization: discretization, settings: settings, range: 0..<n,
                                         checkpoints: folder.checkpoints, fingerprint: fingerprint, stop: stop, progress: { r in
            observe?(r)
            if r.status != .converged { failed.increment() }
            progress.advance(detail: failed.value > 0 ? "\(failed.value) failed" : "")
        }, log: note)
        let solveSeconds = lap()
        let p = discretization.observation.count
        let converged = (0..<n).filter { result.records[$0].status == .converged }
        guard converged.count >= 2 else {
            throw StageError("uq-propagate fem-reference: only \(converged.count) of \(n) samples converged; the manifest lists why (rerun after fixing [fem])")
        }
        var values: [Double] = []; values.reserveCapacity(converged.count * p)
        for i in converged { values += result.c3[(i * p)..<((i + 1) * p)] }
        let bootstrap: MapBootstrap
        do {
            bootstrap = try MapBootstrap(values: values, rows: converged.count, outputs: p, resamples: uq.referenceBootstrap,
                                         seed: uq.seed, stream: bootstrapStream)
        } catch let e as UQError { throw StageError("uq-propagate fem-reference: \(e.description)") }
        let c3Data = Npy.encode(result.c3, shape: [n, p])
        var files = [folder.params]
        try AtomicFile.write(c3Data, to: folder.c3); files.append(folder.c3)
        try Npy.write(result.statusCodes, shape: [n], to: folder.status); files.append(folder.status)
        try Npy.write(discretization.observationPoints, shape: [p, 2], to: folder.points); files.append(folder.points)
        try writeMaps(bootstrap, folder: folder, files: &files)
        record.detail("c3_sha256", .string(SHA256Digest.hex(of: c3Data)))
        record.detail("params_sha256", .string(paramsRecord.sha256))
        record.detail("samples", ["requested": .number(Double(n)), "converged": .number(Double(converged.count)),
                                  "failed": .number(Double(n - converged.count)), "draws": .number(Double(draws.draws)),
                                  "rejected_by_indicator": .number(Double(draws.rejectedByIndicator)),
                                  "rejected_by_wind_solve": .number(Double(draws.rejectedBySolve))])
        record.detail("failures", .array(result.records.filter { $0.status != .converged }.map {
            ["sample": .number(Double($0.sample)), "status": .string($0.status.label), "reason": .string($0.reason ?? "")]
        }))
        record.detail("bootstrap", ["resamples": .number(Double(uq.referenceBootstrap)), "confidence": .number(bootstrap.confidence),
                                    "seed": .number(Double(uq.seed)), "stream": .number(Double(bootstrapStream))])
        record.detail("draw_stream", .number(Double(drawStream)))
        record.detail("seconds", ["draw_and_wind": .number(drawSeconds), "fem": .number(solveSeconds), "bootstrap_and_write": .number(lap())])
        record.detail("restored_chunks", .number(Double(result.restoredChunks)))
        record.detail("solved_in_this_run", .number(Double(result.solvedNow)))
        try? FileManager.default.removeItem(at: folder.checkpoints)
        return Outcome(files: files, converged: converged.count, failed: n - converged.count, solveSeconds: solveSeconds)
    }

    /// mean.npy, std.npy (P) and their intervals mean_interval.npy, std_interval.npy (2 × P: low, high).
    private static func writeMaps(_ b: MapBootstrap, folder: DataLayout.UQFEMReference, files: inout [URL]) throws {
        let p = b.outputs
        func intervals(_ r: [ClosedRange<Double>]) -> [Double] { r.map(\.lowerBound) + r.map(\.upperBound) }
        try Npy.write(b.mean, shape: [p], to: folder.mean); files.append(folder.mean)
        try Npy.write(b.standardDeviation, shape: [p], to: folder.std); files.append(folder.std)
        try Npy.write(intervals(b.meanIntervals), shape: [2, p], to: folder.meanInterval); files.append(folder.meanInterval)
        try Npy.write(intervals(b.standardDeviationIntervals), shape: [2, p], to: folder.stdInterval); files.append(folder.stdInterval)
    }
}
