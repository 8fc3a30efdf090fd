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
            let u0 = box[3], uh = box[4]
            let lambdaMin = min(-1e-3, uh.lowerBound / u0.lowerBound, uh.lowerBound / u0.upperBound)
            table = try WindExistenceTable(lambdaMin: lambdaMin)
            self.nu = nu
        }

        public func callAsFunction(_ row: ArraySlice<Double>) -> Bool {
            let s = row.startIndex
            let u0 = row[s + 3], uh = row[s + 4], uv = row[s + 5]
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
        var seconds: [String: Double] = [:]
        var t = monotonicSeconds()
        func lap(_ name: String) { let now = monotonicSeconds(); seconds[name] = now - t; t = now }

        // Inputs.
        let layout = DataLayout(data)
        let modelFolder = layout.models.model(uq.model).folder
        // Any surrogate of the project: the paper's network, the tuned one, POD-GP or POD-NN.
        let model = try SurrogateLoader.load(from: modelFolder)
        for f in [SurrogateModel.descriptionFile, ReducedOrderSurrogate.descriptionFile, "rom.json"]
        where FileManager.default.fileExists(atPath: modelFolder.appendingPathComponent(f).path) {
            try record.input(modelFolder.appendingPathComponent(f))
        }
        let pointsURL = layout.fem.points
        let points = try Npy.read(Double.self, from: pointsURL, expectedShape: [nil, 2])
        let p = points.rows
        guard model.inputWidth == 6, model.outputWidth == p else {
            throw StageError("\(modelFolder.path): the model maps \(model.inputWidth) inputs to \(model.outputWidth) outputs; expected 6 → \(p) (fem/points.npy)")
        }
        let paramsURL = layout.samples.params, splitURL = layout.samples.split
        let c3URL = layout.fem.c3, femStatusURL = layout.fem.status
        let params = try Npy.read(Double.self, from: paramsURL, expectedShape: [nil, 6])
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
        let integral = Quadrature.weightedSum(weights)
        lap("read")

        // The feasibility indicator, checked against the wind stage on the dataset's own samples.
        let feasibility = try Feasibility(box: config.sampling.ranges, nu: config.wind.nu)
        var agree = 0, disagreements: [JSONValue] = []
        for i in 0..<n {
            let exists = feasibility(params.row(i))
            let solved = windStatus[i] == WindStatus.solved.rawValue
            if exists == solved { agree += 1 } else if disagreements.count < 20 {
                disagreements.append(["sample": .number(Double(i)), "indicator": .bool(exists), "wind_status": .number(Double(windStatus[i]))])
            }
        }
        lap("existence_table")
        let indicatorCheck: JSONValue = ["samples": .number(Double(n)), "agree": .number(Double(agree)), "disagreements": .array(disagreements),
                                         "table_nodes": .number(Double(feasibility.table.fwNodes.count)),
                                         "table_interpolation_error": .number(feasibility.table.interpolationError)]
        let indicator: FeasibilityIndicator? = uq.region == .feasible ? { feasibility($0) } : nil
        let inputs = try inputModel(config)
        let surrogate: BatchModel = { x, rows in try model.predict(parameters: x, rows: rows, threads: threads) }

        // Monte Carlo.
        let mcProgress = ProgressReporter("uq-propagate: Monte Carlo", total: uq.samples)
        var mcDone = 0
        let mc = try MonteCarlo.propagate(inputs: inputs, outputs: p,
                                          settings: MonteCarloSettings(samples: uq.samples, batch: uq.batch, seed: uq.seed,
                                                                       quantileSample: uq.quantileSample),
                                          indicator: indicator, scalar: integral,
                                          progress: { done, _ in mcProgress.advance(by: done - mcDone); mcDone = done }, model: surrogate)
        lap("monte_carlo")
        // Sobol.
        let group = 8
        let sobolProgress = ProgressReporter("uq-propagate: Sobol design", total: uq.sobolN * group)
        var sobolDone = 0
        let sobol = try Sobol.analyse(inputs: inputs, outputs: p,
                                      settings: SobolSettings(baseSamples: uq.sobolN, batch: uq.batch, seed: uq.seed, bootstrap: uq.bootstrap),
                                      indicator: indicator, outside: indicator == nil ? nil : mc.mean, scalar: integral,
                                      progress: { done, _ in sobolProgress.advance(by: done - sobolDone); sobolDone = done }, model: surrogate)
        lap("sobol")

        // The finite-element check.
        let testRows = (0..<n).filter { split[$0] == 1 && femStatus[$0] == 0 }
        let solvedRows = (0..<n).filter { femStatus[$0] == 0 }
        func maps(_ rows: [Int], _ values: [Double]) -> (mean: [Double], std: [Double], m4: [Double]) {
            var m = StreamingMoments(outputs: p)
            var flat: [Double] = []; flat.reserveCapacity(rows.count * p)
            for r in rows { flat += values[(r * p)..<((r + 1) * p)] }
            m.add(flat, rows: rows.count)
            var m4 = [Double](repeating: 0, count: p)
            for k in 0..<rows.count { for j in 0..<p { let e = flat[k * p + j] - m.mean[j]; m4[j] += e * e * e * e } }
            return (m.mean, m.standardDeviation, m4.map { $0 / Double(max(rows.count, 1)) })
        }
        // Maps are fields over the domain: their differences are measured in the trapezoid-weighted
        // L2 norm (Quadrature.relativeWeightedL2, which says why it is not the per-sample metric).
        func norm(_ v: [Double]) -> Double { Quadrature.weightedL2Norm(v, weights: weights) }
        func relative(_ a: [Double], _ b: [Double]) -> Double { Quadrature.relativeWeightedL2(a, from: b, weights: weights) }
        func comparison(_ name: String, _ rows: [Int]) -> JSONValue {
            guard rows.count >= 2 else { return ["samples": .number(Double(rows.count)), "note": "fewer than 2 FEM samples: no comparison"] }
            let fem = maps(rows, c3.values)
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
                    "fem_integral_mean": .number(integral(fem.mean[...])), "name": .string(name)]
        }
        // The surrogate on the FEM test samples themselves: its own error, free of sampling error.
        var onTest: JSONValue = .null
        if testRows.count >= 2 {
            var x: [Double] = []
            for r in testRows { x += params.row(r) }
            let predicted = try model.predict(parameters: x, rows: testRows.count, threads: threads)
            let sur = maps(Array(0..<testRows.count), predicted), fem = maps(testRows, c3.values)
            onTest = ["samples": .number(Double(testRows.count)), "relative_l2_mean": .number(relative(sur.mean, fem.mean)),
                      "relative_l2_std": .number(relative(sur.std, fem.std))]
        }
        let comparable = uq.region == .feasible && uq.distributions.allSatisfy { $0 == .uniform }
        let femComparison: JSONValue = [
            "norm": "L2 over the observation grid with the trapezoid weights: ||a − b|| / ||b||",
            "comparable": .bool(comparable),
            "note": .string(comparable ? "the FEM samples are a Latin hypercube over the box restricted to where the wind exists: the same distribution as region = feasible with uniform inputs"
                            : "the [uq] distribution or region differs from the FEM design's (uniform on the feasible part of the box): differences include that change"),
            "surrogate_samples": .number(Double(mc.samples)),
            "fem_test": comparison("test", testRows),
            "fem_all_solved": comparison("all solved", solvedRows),
            "surrogate_on_fem_test_samples": onTest,
            "indicator_check": indicatorCheck]
        lap("fem_comparison")

        // Outputs.
        let folder = layout.uq.folder
        let figures = folder.appendingPathComponent("figures")
        try FileManager.default.createDirectory(at: figures, withIntermediateDirectories: true)
        var files: [URL] = []
        func npy(_ name: String, _ values: [Double], _ shape: [Int]) throws {
            let url = folder.appendingPathComponent(name); try Npy.write(values, shape: shape, to: url); files.append(url)
        }
        try npy("mean.npy", mc.mean, [p]); try npy("std.npy", mc.standardDeviation, [p])
        try npy("q05.npy", mc.quantiles[0], [p]); try npy("q95.npy", mc.quantiles[1], [p])
        try npy("sobol_first.npy", sobol.first, [6, p]); try npy("sobol_total.npy", sobol.total, [6, p])
        func indicesJSON(_ s: ScalarSobol) -> JSONValue {
            .array((0..<6).map { i in
                ["parameter": .string(PollutantParameters.names[i]), "first": .number(s.indices.first[i]),
                 "first_low": .number(s.firstInterval[i].lowerBound), "first_high": .number(s.firstInterval[i].upperBound),
                 "total": .number(s.indices.total[i]),
                 "total_low": .number(s.totalInterval[i].lowerBound), "total_high": .number(s.totalInterval[i].upperBound)]
            })
        }
        let integralStats: JSONValue = {
            guard let v = mc.scalar else { return .null }
            var m = StreamingMoments(outputs: 1); m.add(v, rows: v.count)
            return ["mean": .number(m.mean[0]), "std": .number(m.standardDeviation[0]),
                    "q05": .number(sampleQuantile(v, 0.05)), "q95": .number(sampleQuantile(v, 0.95))]
        }()
        let scalar = sobol.scalar!
        var sobolJSON: [String: JSONValue] = [
            "quantity": "integral of c3 over the observation grid (trapezoid rule)",
            "quantity_definition": .string(uq.region == .feasible ? "Y = ∫c3 where the wind exists, its Monte Carlo mean on the feasible region elsewhere (no variance of its own)" : "Y = ∫c3 of the surrogate over the whole box"),
            "estimators": "first order: Saltelli et al. 2010 Table 2 (b); total: Jansen 1999; percentile bootstrap",
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
        var csv = "parameter,first,first_low,first_high,total,total_low,total_high\n"
        for i in 0..<6 {
            csv += PollutantParameters.names[i] + "," + [scalar.indices.first[i], scalar.firstInterval[i].lowerBound, scalar.firstInterval[i].upperBound,
                                         scalar.indices.total[i], scalar.totalInterval[i].lowerBound, scalar.totalInterval[i].upperBound]
                .map { String(format: "%.6g", $0) }.joined(separator: ",") + "\n"
        }
        let csvURL = folder.appendingPathComponent("sobol_integral.csv")
        try AtomicFile.write(csv, to: csvURL); files.append(csvURL)
        let femURL = folder.appendingPathComponent("fem_comparison.json")
        try AtomicFile.write(femComparison.jsonText(), to: femURL); files.append(femURL)

        // Figures.
        let testMaps = testRows.count >= 2 ? maps(testRows, c3.values) : nil
        let figureFiles = try UQFigures.write(grid: grid, mc: mc, femTest: testMaps.map { ($0.mean, $0.std) }, scalar: scalar,
                                              indicator: sobol.indicator, to: figures)
        files += figureFiles
        lap("write")

        let reportURL = layout.uq.report
        try AtomicFile.write(UQReport.markdown(config: config, mc: mc, sobol: sobol, femComparison: femComparison,
                                               integral: integralStats, seconds: seconds, feasibility: feasibility,
                                               modelName: uq.model), to: reportURL)
        files.append(reportURL)
        for f in files { record.output(f) }
        record.detail("seconds", .object(seconds.mapValues { .number($0) }))
        record.detail("monte_carlo", ["samples": .number(Double(mc.samples)), "draws": .number(Double(mc.draws)),
                                      "infeasible_fraction": .number(mc.infeasibleFraction),
                                      "infeasible_standard_error": .number(mc.infeasibleStandardError),
                                      "quantile_rows": .number(Double(mc.quantileRows))])
        record.detail("sobol", ["design_rows": .number(Double(sobol.designRows)), "model_evaluations": .number(Double(sobol.modelEvaluations))])
        record.detail("existence_full_solves", .number(Double(feasibility.fullSolves)))
        record.detail("existence_calls", .number(Double(feasibility.calls)))
        record.detail("model", .string(uq.model))
        return Outcome(folder: folder, files: files, seconds: seconds)
    }
}

