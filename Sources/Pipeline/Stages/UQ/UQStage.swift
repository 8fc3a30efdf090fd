import Foundation
import NumericalFoundations
import PDE
import Uncertainty
import Surrogates
import Reporting

/// The `uq` stage (`uq-propagate`): the input uncertainty of `[uq]` propagated through the trained
/// surrogate (Monte Carlo maps, Sobol indices per point and of the domain integral of c3), checked
/// against the finite-element samples. Method and choices: docs/uq.md.
public enum UQStage {
    public static let parameterNames = PollutantParameters.names

    /// The six inputs, in the column order of parameter rows and of `parameterNames`.
    enum Parameter: Int, CaseIterable {
        case k12, k3, d, u0, uh, uv

        static let count = allCases.count
        var name: String { parameterNames[rawValue] }
        /// This parameter's value in one parameter row (a slice of a row-major table).
        func value(in row: ArraySlice<Double>) -> Double { row[row.startIndex + rawValue] }
    }

    /// The input model of `[uq]` on the `[sampling]` box.
    public static func inputModel(_ config: PipelineConfig) throws -> InputModel {
        let box = config.sampling.ranges, uq = config.uq
        return try InputModel((0..<box.count).map { j -> InputDistribution in
            let a = box[j].lowerBound, b = box[j].upperBound
            switch uq.distributions[j] {
            case .uniform: return .uniform(lower: a, upper: b)
            case .normal: return .truncatedNormal(mean: uq.means[j], std: uq.stds[j], lower: a, upper: b)
            case .logUniform: return .logUniform(lower: a, upper: b)
            }
        })
    }

    /// The wind-existence indicator on parameter rows (K12, K3, D, U0, u_h, u_v), with a count of the
    /// rows that needed a full Blasius solve.
    public final class Feasibility: @unchecked Sendable {
        public let table: WindExistenceTable
        public let nu: Double
        public private(set) var fullSolves = 0
        public private(set) var calls = 0

        public init(box: [ClosedRange<Double>], nu: Double) throws {
            let u0 = box[Parameter.u0.rawValue], uh = box[Parameter.uh.rawValue]
            let lambdaMin = min(-1e-3, uh.lowerBound / u0.lowerBound, uh.lowerBound / u0.upperBound)
            table = try WindExistenceTable(lambdaMin: lambdaMin)
            self.nu = nu
        }

        public func callAsFunction(_ row: ArraySlice<Double>) -> Bool {
            let u0 = Parameter.u0.value(in: row), uh = Parameter.uh.value(in: row), uv = Parameter.uv.value(in: row)
            guard u0 > 0 else { return false }
            let answer = table.classify(lambda: uh / u0, fw: -2 * uv / (nu * u0).squareRoot())
            calls += 1
            if answer.solved { fullSolves += 1 }
            return answer.exists
        }
    }

    public struct Outcome {
        public var folder: URL
        public var files: [URL]
        public var seconds: [String: Double]
    }

    /// Reads the inputs, runs the study and writes DATA/uq/. `record` receives inputs, outputs and details.
    public static func run(config: PipelineConfig, data: URL, record: inout StageRecord, threadsOverride: Int? = nil) throws -> Outcome {
        let uq = config.uq
        let threads = threadsOverride ?? uq.threads
        var timer = LapTimer()
        let layout = DataLayout(data)
        let study = try readInputs(layout: layout, modelName: uq.model, record: &record)
        timer.lap("read")

        let (feasibility, indicatorCheck) = try checkFeasibility(config: config, study: study)
        timer.lap("existence_table")
        let indicator: FeasibilityIndicator? = uq.region == .feasible ? { feasibility($0) } : nil
        let inputs = try inputModel(config)
        let model = study.model
        let surrogate = rowTolerant(model, outputs: study.outputs, threads: threads)

        let mc = try propagateMonteCarlo(uq: uq, inputs: inputs, study: study, indicator: indicator, surrogate: surrogate)
        timer.lap("monte_carlo")
        let sobol = try analyseSobol(uq: uq, inputs: inputs, study: study, indicator: indicator, outsideMean: mc.mean, surrogate: surrogate)
        timer.lap("sobol")

        let femComparison = try compareWithFEM(uq: uq, study: study, mc: mc, indicatorCheck: indicatorCheck, threads: threads)
        timer.lap("fem_comparison")

        let folder = layout.uq.folder
        let figures = folder.appendingPathComponent("figures")
        try FileManager.default.createDirectory(at: figures, withIntermediateDirectories: true)
        var files: [URL] = []
        try writeMaps(mc: mc, sobol: sobol, outputs: study.outputs, to: folder, files: &files)
        let integralStats = integralStatistics(mc)
        let scalar = sobol.scalar!
        try writeSobolIntegral(uq: uq, sobol: sobol, scalar: scalar, integralStats: integralStats, to: folder, files: &files)
        try writeSobolIntegralCSV(scalar, to: folder, files: &files)
        let femURL = folder.appendingPathComponent("fem_comparison.json")
        try AtomicFile.write(femComparison.jsonText(), to: femURL); files.append(femURL)

        let testMaps = study.testRows.count >= 2 ? sampleMaps(rows: study.testRows, values: study.c3.values, outputs: study.outputs) : nil
        let figureFiles = try UQFigures.write(grid: study.grid, mc: mc, femTest: testMaps.map { ($0.mean, $0.std) }, scalar: scalar,
                                              indicator: sobol.indicator, to: figures)
        files += figureFiles
        timer.lap("write")
        let seconds = timer.seconds

        let reportURL = layout.uq.report
        try AtomicFile.write(UQReport.markdown(config: config, mc: mc, sobol: sobol, femComparison: femComparison,
                                               integral: integralStats, seconds: seconds, feasibility: feasibility,
                                               modelName: uq.model), to: reportURL)
        files.append(reportURL)
        for f in files { record.output(f) }
        recordDetails(mc: mc, sobol: sobol, feasibility: feasibility, seconds: seconds, modelName: uq.model, record: &record)
        return Outcome(folder: folder, files: files, seconds: seconds)
    }

    /// `model` as the propagation's batch model. A batch the model cannot predict whole (a multi-fidelity
    /// model's coarse solve that fails for one parameter set, say) is predicted row by row, and the rows
    /// that fail are reported to the propagation (`ModelRowFailures`), which skips and counts them
    /// instead of losing the study to one parameter set.
    static func rowTolerant(_ model: FieldSurrogate, outputs p: Int, threads: Int) -> BatchModel {
        { x, rows in
            do { return try model.predict(parameters: x, rows: rows, threads: threads) } catch {
                let d = rows > 0 ? x.count / rows : 0
                var values = [Double](repeating: 0, count: rows * p), failures: [Int: String] = [:]
                for r in 0..<rows {
                    do {
                        let y = try model.predict(parameters: Array(x[(r * d)..<((r + 1) * d)]), rows: 1, threads: 1)
                        guard y.count == p else { throw StageError("the surrogate returned \(y.count) values for one row; expected \(p)") }
                        values.replaceSubrange((r * p)..<((r + 1) * p), with: y)
                    } catch {
                        failures[r] = "\(error)"
                    }
                }
                if failures.isEmpty { return values }
                throw ModelRowFailures(values: values, failures: failures)
            }
        }
    }

    /// Wall-clock seconds of each step, each measured from the end of the one before.
    private struct LapTimer {
        var seconds: [String: Double] = [:]
        private var last = monotonicSeconds()
        mutating func lap(_ name: String) { let now = monotonicSeconds(); seconds[name] = now - last; last = now }
    }

    /// What the study reads: the surrogate, the observation grid with its quadrature, and the dataset.
    private struct StudyInputs {
        var model: FieldSurrogate
        /// Observation points: the width of every output map.
        var outputs: Int
        var params: NDArray<Double>
        var samples: Int
        var split: [UInt8]
        var c3: NDArray<Double>
        var femStatus: [Int32]
        var windStatus: [Int32]
        /// Trapezoid weights of the observation grid, and the grid's axes.
        var weights: [Double]
        var grid: (x: [Double], y: [Double])
        var integral: (ArraySlice<Double>) -> Double
        /// Samples of the test split the FEM solved, and all samples it solved.
        var testRows: [Int] { (0..<samples).filter { split[$0] == 1 && femStatus[$0] == 0 } }
        var solvedRows: [Int] { (0..<samples).filter { femStatus[$0] == 0 } }
    }

    /// DATA/models/NAME with the sources its inputs need (any surrogate of the project: the paper's
    /// network, the tuned one, POD-GP, POD-NN, the ensemble), its description files recorded as inputs.
    static func loadModel(_ name: String, layout: DataLayout, record: inout StageRecord) throws -> (model: FieldSurrogate, folder: URL) {
        let folder = layout.models.model(name).folder
        let model = try SurrogateLoader.loadWithPipelineSources(from: folder)
        for f in [SurrogateModel.descriptionFile, ReducedOrderSurrogate.descriptionFile, "rom.json"]
        where FileManager.default.fileExists(atPath: folder.appendingPathComponent(f).path) {
            try record.input(folder.appendingPathComponent(f))
        }
        return (model, folder)
    }

    private static func readInputs(layout: DataLayout, modelName: String, record: inout StageRecord) throws -> StudyInputs {
        let (model, modelFolder) = try loadModel(modelName, layout: layout, record: &record)
        let pointsURL = layout.fem.points
        let points = try Npy.read(Double.self, from: pointsURL, expectedShape: [nil, 2])
        let p = points.rows
        guard model.inputWidth == Parameter.count, model.outputWidth == p else {
            throw StageError("\(modelFolder.path): the model maps \(model.inputWidth) inputs to \(model.outputWidth) outputs; expected 6 → \(p) (fem/points.npy)")
        }
        let paramsURL = layout.samples.params, splitURL = layout.samples.split
        let c3URL = layout.fem.c3, femStatusURL = layout.fem.status
        let params = try Npy.read(Double.self, from: paramsURL, expectedShape: [nil, Parameter.count])
        let n = params.rows
        let split = try Npy.read(UInt8.self, from: splitURL, expectedShape: [n]).values
        let c3 = try Npy.read(Double.self, from: c3URL, expectedShape: [n, p])
        let femStatus = try Npy.read(Int32.self, from: femStatusURL, expectedShape: [n]).values
        let windURL = layout.wind.status
        let windStatus = try Npy.read(Int32.self, from: windURL, expectedShape: [n]).values
        for f in [pointsURL, paramsURL, splitURL, c3URL, femStatusURL, windURL] { try record.input(f) }
        let weights: [Double]
        do { weights = try Quadrature.tensorTrapezoidWeights(points: points.values) } catch let e as UQError {
            throw StageError("\(pointsURL.path): \(e.description)")
        }
        let grid = try Quadrature.tensorGrid(points: points.values)
        return StudyInputs(model: model, outputs: p, params: params, samples: n, split: split,
                           c3: c3, femStatus: femStatus, windStatus: windStatus, weights: weights, grid: grid,
                           integral: Quadrature.weightedSum(weights))
    }

    /// The feasibility indicator, checked against the wind stage on the dataset's own samples.
    private static func checkFeasibility(config: PipelineConfig, study: StudyInputs) throws -> (Feasibility, JSONValue) {
        let feasibility = try Feasibility(box: config.sampling.ranges, nu: config.wind.nu)
        let n = study.samples
        var agree = 0, disagreements: [JSONValue] = []
        for i in 0..<n {
            let exists = feasibility(study.params.row(i))
            let solved = study.windStatus[i] == WindStatus.solved.rawValue
            if exists == solved { agree += 1 } else if disagreements.count < 20 {
                disagreements.append(["sample": .number(Double(i)), "indicator": .bool(exists), "wind_status": .number(Double(study.windStatus[i]))])
            }
        }
        let indicatorCheck: JSONValue = ["samples": .number(Double(n)), "agree": .number(Double(agree)), "disagreements": .array(disagreements),
                                         "table_nodes": .number(Double(feasibility.table.fwNodes.count)),
                                         "table_interpolation_error": .number(feasibility.table.interpolationError)]
        return (feasibility, indicatorCheck)
    }

    private static func propagateMonteCarlo(uq: UQSettings, inputs: InputModel, study: StudyInputs, indicator: FeasibilityIndicator?,
                                            surrogate: BatchModel) throws -> MonteCarloResult {
        let mcProgress = ProgressReporter("uq-propagate: Monte Carlo", total: uq.samples)
        var mcDone = 0
        return try MonteCarlo.propagate(inputs: inputs, outputs: study.outputs,
                                        settings: MonteCarloSettings(samples: uq.samples, batch: uq.batch, seed: uq.seed,
                                                                     quantileSample: uq.quantileSample),
                                        indicator: indicator, scalar: study.integral,
                                        progress: { done, _ in mcProgress.advance(by: done - mcDone); mcDone = done }, model: surrogate)
    }

    private static func analyseSobol(uq: UQSettings, inputs: InputModel, study: StudyInputs, indicator: FeasibilityIndicator?,
                                     outsideMean: [Double], surrogate: BatchModel) throws -> SobolResult {
        // Design rows per base sample: A, B and one A_B^(i) per parameter.
        let group = Parameter.count + 2
        let sobolProgress = ProgressReporter("uq-propagate: Sobol design", total: uq.sobolN * group)
        var sobolDone = 0
        return try Sobol.analyse(inputs: inputs, outputs: study.outputs,
                                 settings: SobolSettings(baseSamples: uq.sobolN, design: uq.sobolDesign, batch: uq.batch, seed: uq.seed, bootstrap: uq.bootstrap),
                                 indicator: indicator, outside: indicator == nil ? nil : outsideMean, scalar: study.integral,
                                 progress: { done, _ in sobolProgress.advance(by: done - sobolDone); sobolDone = done }, model: surrogate)
    }

    /// Per-point mean, standard deviation and fourth central moment of the given sample rows of a
    /// row-major table of maps.
    private static func sampleMaps(rows: [Int], values: [Double], outputs p: Int) -> (mean: [Double], std: [Double], m4: [Double]) {
        var m = StreamingMoments(outputs: p)
        var flat: [Double] = []; flat.reserveCapacity(rows.count * p)
        for r in rows { flat += values[(r * p)..<((r + 1) * p)] }
        m.add(flat, rows: rows.count)
        var m4 = [Double](repeating: 0, count: p)
        for k in 0..<rows.count { for j in 0..<p { let e = flat[k * p + j] - m.mean[j]; m4[j] += e * e * e * e } }
        return (m.mean, m.standardDeviation, m4.map { $0 / Double(max(rows.count, 1)) })
    }

    /// The Monte Carlo maps against the FEM samples' maps, and the surrogate on the FEM test samples.
    private static func compareWithFEM(uq: UQSettings, study: StudyInputs, mc: MonteCarloResult, indicatorCheck: JSONValue,
                                       threads: Int) throws -> JSONValue {
        let p = study.outputs, weights = study.weights
        let testRows = study.testRows, solvedRows = study.solvedRows
        // Maps are fields over the domain: their differences are measured in the trapezoid-weighted
        // L2 norm (Quadrature.relativeWeightedL2, which says why it is not the per-sample metric).
        func norm(_ v: [Double]) -> Double { Quadrature.weightedL2Norm(v, weights: weights) }
        func relative(_ a: [Double], _ b: [Double]) -> Double { Quadrature.relativeWeightedL2(a, from: b, weights: weights) }
        func comparison(_ name: String, _ rows: [Int]) -> JSONValue {
            guard rows.count >= 2 else { return ["samples": .number(Double(rows.count)), "note": "fewer than 2 FEM samples: no comparison"] }
            let fem = sampleMaps(rows: rows, values: study.c3.values, outputs: p)
            let k = Double(rows.count)
            // Sampling error of the FEM maps from k samples (iid formulas; the LHS design is usually better):
            // SE(mean) = s/√k, SE(std) ≈ √((m4 − s⁴)/k)/(2s).
            let seMean = fem.std.map { $0 / k.squareRoot() }
            let seStd = (0..<p).map { j -> Double in
                let s = fem.std[j]; return s > 0 ? (max(fem.m4[j] - s * s * s * s, 0) / k).squareRoot() / (2 * s) : 0
            }
            return ["samples": .number(k),
                    "relative_l2_mean": .number(relative(mc.mean, fem.mean)),
                    "relative_l2_std": .number(relative(mc.standardDeviation, fem.std)),
                    "fem_sampling_error_relative_l2_mean": .number(norm(seMean) / max(norm(fem.mean), 1e-300)),
                    "fem_sampling_error_relative_l2_std": .number(norm(seStd) / max(norm(fem.std), 1e-300)),
                    "fem_integral_mean": .number(study.integral(fem.mean[...])), "name": .string(name)]
        }
        // The surrogate on the FEM test samples themselves: its own error, free of sampling error.
        var onTest: JSONValue = .null
        if testRows.count >= 2 {
            var x: [Double] = []
            for r in testRows { x += study.params.row(r) }
            let predicted = try study.model.predict(parameters: x, rows: testRows.count, threads: threads)
            let sur = sampleMaps(rows: Array(0..<testRows.count), values: predicted, outputs: p)
            let fem = sampleMaps(rows: testRows, values: study.c3.values, outputs: p)
            onTest = ["samples": .number(Double(testRows.count)), "relative_l2_mean": .number(relative(sur.mean, fem.mean)),
                      "relative_l2_std": .number(relative(sur.std, fem.std))]
        }
        let comparable = uq.region == .feasible && uq.distributions.allSatisfy { $0 == .uniform }
        return [
            "norm": "L2 over the observation grid with the trapezoid weights: ||a − b|| / ||b||",
            "comparable": .bool(comparable),
            "note": .string(comparable ? "the FEM samples are a Latin hypercube over the box restricted to where the wind exists: the same distribution as region = feasible with uniform inputs"
                            : "the [uq] distribution or region differs from the FEM design's (uniform on the feasible part of the box): differences include that change"),
            "surrogate_samples": .number(Double(mc.samples)),
            "fem_test": comparison("test", testRows),
            "fem_all_solved": comparison("all solved", solvedRows),
            "surrogate_on_fem_test_samples": onTest,
            "indicator_check": indicatorCheck]
    }

    /// The Monte Carlo maps (mean, standard deviation, 5 % and 95 % quantiles) and the per-point Sobol indices.
    private static func writeMaps(mc: MonteCarloResult, sobol: SobolResult, outputs p: Int, to folder: URL, files: inout [URL]) throws {
        func npy(_ name: String, _ values: [Double], _ shape: [Int]) throws {
            let url = folder.appendingPathComponent(name); try Npy.write(values, shape: shape, to: url); files.append(url)
        }
        try npy("mean.npy", mc.mean, [p]); try npy("std.npy", mc.standardDeviation, [p])
        try npy("q05.npy", mc.quantiles[0], [p]); try npy("q95.npy", mc.quantiles[1], [p])
        try npy("sobol_first.npy", sobol.first, [Parameter.count, p]); try npy("sobol_total.npy", sobol.total, [Parameter.count, p])
    }

    /// Moments and quantiles of the Monte Carlo samples of the domain integral (null when none were kept).
    private static func integralStatistics(_ mc: MonteCarloResult) -> JSONValue {
        guard let v = mc.scalar else { return .null }
        var m = StreamingMoments(outputs: 1); m.add(v, rows: v.count)
        return ["mean": .number(m.mean[0]), "std": .number(m.standardDeviation[0]),
                "q05": .number(sampleQuantile(v, 0.05)), "q95": .number(sampleQuantile(v, 0.95))]
    }

    private static func indicesJSON(_ s: ScalarSobol) -> JSONValue {
        .array(Parameter.allCases.map { parameter in
            let i = parameter.rawValue
            return ["parameter": .string(parameter.name), "first": .number(s.indices.first[i]),
                    "first_low": .number(s.firstInterval[i].lowerBound), "first_high": .number(s.firstInterval[i].upperBound),
                    "total": .number(s.indices.total[i]),
                    "total_low": .number(s.totalInterval[i].lowerBound), "total_high": .number(s.totalInterval[i].upperBound)]
        })
    }

    /// sobol_integral.json: the Sobol indices of the domain integral of c3 (and of the existence indicator).
    private static func writeSobolIntegral(uq: UQSettings, sobol: SobolResult, scalar: ScalarSobol, integralStats: JSONValue,
                                           to folder: URL, files: inout [URL]) throws {
        var sobolJSON: [String: JSONValue] = [
            "quantity": "integral of c3 over the observation grid (trapezoid rule)",
            "quantity_definition": .string(uq.region == .feasible ? "Y = ∫c3 where the wind exists, its Monte Carlo mean on the feasible region elsewhere (no variance of its own)" : "Y = ∫c3 of the surrogate over the whole box"),
            "estimators": "first order: Saltelli et al. 2010 Table 2 (b); total: Jansen 1999; percentile bootstrap",
            "design": .string(uq.sobolDesign.rawValue),
            "base_samples": .number(Double(uq.sobolN)), "design_rows": .number(Double(sobol.designRows)),
            "model_evaluations": .number(Double(sobol.modelEvaluations)), "bootstrap": .number(Double(uq.bootstrap)),
            "confidence": .number(scalar.confidence), "variance": .number(scalar.indices.variance), "mean": .number(scalar.indices.mean),
            "indices": indicesJSON(scalar), "region": .string(uq.region.rawValue), "monte_carlo_integral": integralStats]
        if let ind = sobol.indicator {
            sobolJSON["existence_indicator"] = ["quantity": "1_F, the existence of the wind similarity solution",
                                                "mean": .number(ind.indices.mean), "indices": indicesJSON(ind)]
        }
        let sobolURL = folder.appendingPathComponent("sobol_integral.json")
        try AtomicFile.write(JSONValue.object(sobolJSON).jsonText(), to: sobolURL); files.append(sobolURL)
    }

    /// sobol_integral.csv: one row per parameter, the indices of the domain integral with their intervals.
    private static func writeSobolIntegralCSV(_ scalar: ScalarSobol, to folder: URL, files: inout [URL]) throws {
        var csv = "parameter,first,first_low,first_high,total,total_low,total_high\n"
        for parameter in Parameter.allCases {
            let i = parameter.rawValue
            csv += parameter.name + "," + [scalar.indices.first[i], scalar.firstInterval[i].lowerBound, scalar.firstInterval[i].upperBound,
                                           scalar.indices.total[i], scalar.totalInterval[i].lowerBound, scalar.totalInterval[i].upperBound]
                .map { String(format: "%.6g", $0) }.joined(separator: ",") + "\n"
        }
        let csvURL = folder.appendingPathComponent("sobol_integral.csv")
        try AtomicFile.write(csv, to: csvURL); files.append(csvURL)
    }

    private static func recordDetails(mc: MonteCarloResult, sobol: SobolResult, feasibility: Feasibility, seconds: [String: Double],
                                      modelName: String, record: inout StageRecord) {
        record.detail("seconds", .object(seconds.mapValues { .number($0) }))
        record.detail("monte_carlo", ["samples": .number(Double(mc.samples)), "draws": .number(Double(mc.draws)),
                                      "infeasible_fraction": .number(mc.infeasibleFraction),
                                      "infeasible_standard_error": .number(mc.infeasibleStandardError),
                                      "quantile_rows": .number(Double(mc.quantileRows)),
                                      "failed_evaluations": .number(Double(mc.failures.count)),
                                      "failures": .array(mc.failures.examples.map { .string($0) })])
        record.detail("sobol", ["design_rows": .number(Double(sobol.designRows)), "model_evaluations": .number(Double(sobol.modelEvaluations)),
                                "failed_evaluations": .number(Double(sobol.failures.count)), "dropped_base_rows": .number(Double(sobol.droppedBaseSamples)),
                                "failures": .array(sobol.failures.examples.map { .string($0) })])
        record.detail("existence_full_solves", .number(Double(feasibility.fullSolves)))
        record.detail("existence_calls", .number(Double(feasibility.calls)))
        record.detail("model", .string(modelName))
    }
}
