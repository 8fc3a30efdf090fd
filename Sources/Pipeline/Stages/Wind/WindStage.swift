import Foundation
import NumericalFoundations
import PDE

/// The pipeline's `wind` stage (`blasius-solve batch`): the generalized Blasius profile of every
/// sample of samples/params.npy, written to wind/ with the counts per status in its manifest
/// (docs/blasius.md). The mathematics is Blasius's `WindBatch`; this runner adds the configuration,
/// the data folder's files and the manifest.
public enum WindStage {
    /// Loads the configuration, locks wind/ and runs the stage: the executable's one call.
    public static func run(_ options: StageOptions) throws {
        let config = try options.loadConfig()
        let layout = DataLayout(options.dataURL)
        let lock = try options.lockOutput(layout.wind.folder)
        defer { lock.release() }
        try run(config: config, layout: layout)
    }

    /// Solves every sample of `layout.samples.params` and writes `layout.wind` (the caller holds the lock).
    public static func run(config: PipelineConfig, layout: DataLayout) throws {
        let wind = config.wind
        var record = StageRecord(stage: "blasius-solve", config: config, seed: nil)
        let paramsURL = layout.samples.params
        let (paramsBytes, paramsFile) = try Provenance.read(paramsURL)
        let params = try Npy.decode(paramsBytes, as: Double.self, path: paramsURL.path)
        guard params.shape.first.map({ $0 > 0 }) ?? false else {
            throw StageError("\(paramsURL.path) holds no samples (shape \(Npy.shapeString(params.shape))): run lhs-sample with sampling.n_samples ≥ 1")
        }
        record.input(paramsFile)
        let similarity = try WindBatch.similarityParameters(table: params.values, shape: params.shape,
                                                            box: config.sampling.ranges, nu: wind.nu, source: paramsURL.path)
        let n = similarity.count
        let (outcomes, solveSeconds) = try solveSamples(similarity, wind: wind, paramsPath: paramsURL.path)

        let arrays = try WindArrays(outcomes, samples: n, params: params.values, profilePoints: wind.profilePoints, nu: wind.nu)
        let out = layout.wind
        try arrays.write(to: out, record: &record)

        let times = outcomes.map(\.seconds).sorted()
        let median = times.isEmpty ? 0 : times[times.count / 2]
        recordDetails(outcomes, wind: wind, solveSeconds: solveSeconds, sortedTimes: times, record: &record)
        try record.finish(manifestAt: out.manifest)

        let line = WindStatus.allCases.map { status in "\(status.label) \(outcomes.filter { $0.status == status }.count)" }.joined(separator: ", ")
        note("blasius-solve: \(n) samples in \(String(format: "%.2f", solveSeconds)) s (median \(String(format: "%.2f", median * 1e3)) ms, worst \(String(format: "%.2f", (times.last ?? 0) * 1e3)) ms per sample): \(line) → \(out.folder.path)")
    }

    /// Every sample solved on the worker threads, with the wall time of the whole batch.
    private static func solveSamples(_ similarity: [SimilarityParameters], wind: WindSettings,
                                     paramsPath: String) throws -> (outcomes: [WindSampleOutcome], seconds: Double) {
        let policy = NoSolutionPolicy(wind)
        let solver = BlasiusSolver(tolerance: wind.tolerance, profilePoints: wind.profilePoints)
        _ = BlasiusSolver.blowOffSuction   // computed once, before the workers start

        let progress = ProgressReporter("blasius-solve", total: similarity.count)
        let started = monotonicSeconds()
        let outcomes: [WindSampleOutcome]
        do {
            outcomes = try WindBatch.solveAll(similarity, solver: solver, policy: policy) { _ in progress.advance() }
        } catch let error as WindBatchError {
            throw StageError("blasius-solve: \(paramsPath): \(error.message)")
        }
        return (outcomes, monotonicSeconds() - started)
    }

    /// The arrays of wind/, rows of zeros where there is no profile.
    private struct WindArrays {
        let samples: Int, profilePoints: Int
        var profiles: [Double], summary: [Double], status: [Int32], logCurvature: [Double]
        /// The parameter rows with u_v replaced where the policy clamped f_w.
        var effective: [Double]

        init(_ outcomes: [WindSampleOutcome], samples n: Int, params: [Double], profilePoints k: Int, nu: Double) throws {
            samples = n; profilePoints = k
            profiles = [Double](repeating: 0, count: n * k * 4)
            summary = [Double](repeating: 0, count: n * 4)
            status = [Int32](repeating: 0, count: n)
            logCurvature = [Double](repeating: 0, count: n)
            effective = params
            for (i, o) in outcomes.enumerated() {
                status[i] = o.status.rawValue
                guard o.status.hasProfile, let s = o.solution else { continue }
                let rows = s.profile.rows
                guard rows.count == k * 4 else { throw StageError("internal: sample \(i) has \(rows.count / 4) profile nodes, expected \(k)") }
                profiles.replaceSubrange((i * k * 4)..<((i + 1) * k * 4), with: rows)
                summary.replaceSubrange((i * 4)..<(i * 4 + 4), with: [s.lambda, s.fw, s.wallCurvature, s.displacement])
                // ln|f''(0)| is −∞ only at λ = 1 (f'' ≡ 0); store the most negative double instead of −∞.
                logCurvature[i] = s.logWallCurvature.isFinite ? s.logWallCurvature : -Double.greatestFiniteMagnitude
                if o.status == .clamped {
                    effective[i * 6 + WindBatch.uvColumn] = SimilarityParameters.transpirationVelocity(
                        fw: o.effective.fw, U0: params[i * 6 + WindBatch.u0Column], nu: nu)
                }
            }
        }

        func write(to out: DataLayout.Wind, record: inout StageRecord) throws {
            let n = samples, k = profilePoints
            let files: [(URL, () throws -> Void)] = [
                (out.profiles, { try Npy.write(profiles, shape: [n, k, 4], to: out.profiles) }),
                (out.summary, { try Npy.write(summary, shape: [n, 4], to: out.summary) }),
                (out.status, { try Npy.write(status, shape: [n], to: out.status) }),
                (out.logWallCurvature, { try Npy.write(logCurvature, shape: [n], to: out.logWallCurvature) }),
                (out.effectiveParams, { try Npy.write(effective, shape: [n, 6], to: out.effectiveParams) }),
            ]
            for (url, write) in files {
                try write()
                record.output(url)
            }
        }
    }

    /// Manifest: counts per status, per-sample shots/time, reasons, timing figures.
    private static func recordDetails(_ outcomes: [WindSampleOutcome], wind: WindSettings, solveSeconds: Double, sortedTimes times: [Double],
                                      record: inout StageRecord) {
        var counts: [String: JSONValue] = [:]
        for s in WindStatus.allCases { counts[s.label] = JSONValue(outcomes.filter { $0.status == s }.count) }
        let median = times.isEmpty ? 0 : times[times.count / 2]
        var unsolved: [JSONValue] = []
        for (i, o) in outcomes.enumerated() where o.status != .solved {
            var entry: [String: JSONValue] = ["sample": JSONValue(i), "status": JSONValue(Int(o.status.rawValue)),
                                              "label": JSONValue(o.status.label), "lambda": JSONValue(o.requested.lambda),
                                              "fw": JSONValue(o.requested.fw), "reason": JSONValue(o.reason ?? "")]
            if let lc = o.criticalLambda { entry["critical_lambda"] = JSONValue(lc) }
            if o.status == .clamped { entry["effective_fw"] = JSONValue(o.effective.fw) }
            unsolved.append(.object(entry))
        }
        record.detail("status_codes", .object(Dictionary(uniqueKeysWithValues: WindStatus.allCases.map { ($0.label, JSONValue(Int($0.rawValue))) })))
        record.detail("counts", .object(counts))
        record.detail("no_solution_policy", JSONValue(wind.noSolution.rawValue))
        record.detail("blow_off_fw", JSONValue(BlasiusSolver.blowOffSuction))
        record.detail("iterations", .array(outcomes.map { JSONValue($0.shots) }))
        record.detail("iterations_meaning", "shots per sample: integrations of the shooting system (Newton and bracketing steps, η_max continuation, the two profile passes, existence checks, clamping)")
        record.detail("seconds", .array(outcomes.map { JSONValue($0.seconds) }))
        record.detail("branch", .array(outcomes.map { JSONValue($0.solution?.branch.rawValue ?? "none") }))
        record.detail("samples_without_own_profile", .array(unsolved))
        record.detail("solve_wall_seconds", JSONValue(solveSeconds))
        record.detail("sample_seconds_median", JSONValue(median))
        record.detail("sample_seconds_max", JSONValue(times.last ?? 0))
        record.detail("profile_points", JSONValue(wind.profilePoints))
    }
}
