import Foundation
import NumericalFoundations
import PDE
import Surrogates
import Reporting

/// The paper's reported figures, for the "paper vs this run" table (the paper in ../shared/seed/).
public enum PaperFigures {
    /// "outperforms … by approximately two decades in both the training and validation sets" (Fig. 4).
    public static let mseRatioAt3000 = 100.0
    public static let chosenM = 14
    public static let chosenS = 55
    /// Wall time with DMD / without: measured 1.41, predicted by operation counts 1.07.
    public static let measuredOverhead = 1.41
    public static let predictedOverhead = 1.07
}

/// Metrics of one trained model on the FEM data.
public struct ModelEvaluation {
    public var name: String
    public var accuracy: ModelAccuracy
    public var epochs: Int
    public var wallSeconds: Double
    public var finalTrainMSE: Double
    public var finalTestMSE: Double
    /// Test-set predictions in physical units, rows in `testIndices` order.
    public var testPredictions: NDArray<Double>
}

/// Builds `metrics.json`, the figures and the report of the `evaluate` stage.
public enum EvaluationReport {
    public struct Output {
        public var metrics: JSONValue
        public var report: ReportOutput
    }

    public static func evaluate(_ model: EvaluationInputs.TrainedModel, inputs: EvaluationInputs, threads: Int) throws -> ModelEvaluation {
        func rows(_ indices: [Int]) -> NDArray<Double> {
            var v: [Double] = []; v.reserveCapacity(indices.count * inputs.c3.rowLength)
            for i in indices { v.append(contentsOf: inputs.c3.row(i)) }
            return NDArray(shape: [indices.count, inputs.c3.rowLength], values: v)
        }
        func predict(_ indices: [Int]) throws -> NDArray<Double> {
            var p: [Double] = []; p.reserveCapacity(indices.count * 6)
            for i in indices { p.append(contentsOf: inputs.params.row(i)) }
            let values = try model.model.predict(parameters: p, rows: indices.count, threads: threads)
            return NDArray(shape: [indices.count, model.model.layout.outputWidth], values: values)
        }
        let train = inputs.trainIndices, test = inputs.testIndices
        guard !train.isEmpty, !test.isEmpty else {
            throw StageError("the dataset has \(train.count) usable training and \(test.count) test samples; the report needs both")
        }
        let testPredictions = try predict(test)
        let accuracy = try ModelAccuracy(trainPredicted: try predict(train), trainTruth: rows(train),
                                         testPredicted: testPredictions, testTruth: rows(test),
                                         outputScale: model.model.outputScaler.standardDeviation)
        let h = model.history
        return ModelEvaluation(name: model.name, accuracy: accuracy, epochs: h.epochs.last ?? 0, wallSeconds: h.wallSeconds.last ?? 0,
                               finalTrainMSE: h.trainMSE.last ?? .nan, finalTestMSE: h.testMSE.last ?? .nan, testPredictions: testPredictions)
    }

    /// "reached by the DMD run at epoch E after T s (the plain run first at epoch E′, T′ s: speed-up X×)" or "never reached by the DMD run".
    static func reachText(_ reach: RunComparison.Reach, plain: RunComparison.Reach, speedup: Double?) -> String {
        guard case .reached(let epoch, let seconds) = reach else { return "never reached by the DMD run" }
        var text = "reached by the DMD run at epoch \(epoch) after \(fmt(seconds, 4)) s"
        if case .reached(let plainEpoch, let plainSeconds) = plain {
            text += " (the plain run first at epoch \(plainEpoch), \(fmt(plainSeconds, 4)) s: speed-up \(fmt(speedup))×)"
        }
        return text
    }

    /// The table cell form: "epoch E, T s (speed-up X×)" or "never".
    static func reachCell(_ reach: RunComparison.Reach, speedup: Double?) -> String {
        guard case .reached(let epoch, let seconds) = reach else { return "never" }
        return "epoch \(epoch), \(fmt(seconds, 4)) s (speed-up \(fmt(speedup))×)"
    }

    static func fmt(_ x: Double?, _ digits: Int = 3) -> String {
        guard let x, x.isFinite else { return "—" }
        if x != 0 && (abs(x) < 1e-3 || abs(x) >= 1e5) { return String(format: "%.\(digits - 1)e", x) }
        return String(format: "%.\(digits)g", x)
    }

    /// Writes metrics.json, the figures, report.md and report.html into `folder`.
    public static func write(inputs: EvaluationInputs, config: PipelineConfig, configPath: String, dataPath: String,
                             to folder: URL, threads: Int = 2) throws -> Output {
        guard !inputs.models.isEmpty else {
            throw StageError("no trained model under \(dataPath)/models (expected plain/ and dmd/ from train-dmd)")
        }
        let evaluations = try inputs.models.map { try evaluate($0, inputs: inputs, threads: threads) }
        let plain = inputs.models.first { $0.name == "plain" }, dmd = inputs.models.first { $0.name == "dmd" }

        var metrics: [String: JSONValue] = [:]
        metrics["models"] = modelMetrics(evaluations, inputs: inputs)
        if !inputs.missingModels.isEmpty { metrics["missing_models"] = .array(inputs.missingModels.map { .string($0) }) }
        metrics["dataset"] = datasetMetrics(inputs)

        var dmdStats: DMDStatistics? = nil, comparison: RunComparison? = nil
        if let dmd, dmd.history.hasJumpColumn { dmdStats = try DMDStatistics(history: dmd.history); metrics["dmd"] = dmdStats!.json }
        if let plain, let dmd { comparison = try RunComparison(plain: plain.history, dmd: dmd.history); metrics["comparison"] = comparison!.json }
        var breakdowns: [(label: String, breakdown: TimeBreakdown)] = []
        for m in inputs.models { breakdowns.append((m.name, try TimeBreakdown(history: m.history))) }
        metrics["time_per_epoch"] = .object(Dictionary(breakdowns.map { ($0.label, $0.breakdown.json) }, uniquingKeysWith: { first, _ in first }))

        var blocks = setupSection(inputs: inputs, config: config, configPath: configPath, dataPath: dataPath)
        blocks += accuracySection(evaluations, inputs: inputs)
        if let stats = dmdStats { blocks += dmdJumpsSection(stats, comparison: comparison) }
        blocks += try dmdRunsSection(inputs: inputs, plain: plain, metrics: &metrics)
        blocks += paperComparisonSection(evaluations, inputs: inputs, dmdSettings: config.dmd, comparison: comparison, metrics: &metrics)
        blocks += try surrogatesSection(inputs: inputs, config: config, dataPath: dataPath, threads: threads, metrics: &metrics)
        blocks += try figuresSection(inputs: inputs, evaluations: evaluations, config: config, dmd: dmd, breakdowns: breakdowns, metrics: &metrics)
        blocks += try pairedStudySection(dataPath: dataPath, metrics: &metrics)
        blocks += try refineStudySection(dataPath: dataPath, metrics: &metrics)
        blocks += reproduceSection(configPath: configPath, dataPath: dataPath)

        let document = ReportDocument(title: "DMD-accelerated training of the pollutant surrogate", blocks: blocks)
        let report = try ReportWriter.write(document, to: folder)
        let metricsJSON = JSONValue.object(metrics)
        try AtomicFile.write(metricsJSON.jsonText(), to: folder.appendingPathComponent("metrics.json"))
        return Output(metrics: metricsJSON, report: report)
    }

    /// metrics.json "models": each model's accuracy, epochs, wall time, final history losses and divergence.
    private static func modelMetrics(_ evaluations: [ModelEvaluation], inputs: EvaluationInputs) -> JSONValue {
        var models: [String: JSONValue] = [:]
        for evaluation in evaluations {
            var modelMetrics = evaluation.accuracy.json.object ?? [:]
            modelMetrics["epochs"] = JSONValue(evaluation.epochs)
            modelMetrics["wall_seconds"] = JSONValue(evaluation.wallSeconds)
            modelMetrics["final_history_train_mse_scaled"] = JSONValue(evaluation.finalTrainMSE)
            modelMetrics["final_history_test_mse_scaled"] = JSONValue(evaluation.finalTestMSE)
            if let divergence = inputs.models.first(where: { $0.name == evaluation.name })?.model.description.divergence {
                modelMetrics["diverged"] = .object(["epoch": JSONValue(divergence.epoch), "message": .string(divergence.message)])
            }
            models[evaluation.name] = .object(modelMetrics)
        }
        return .object(models)
    }

    /// metrics.json "dataset": sample counts, used and unusable.
    private static func datasetMetrics(_ inputs: EvaluationInputs) -> JSONValue {
        var dataset: [String: JSONValue] = [
            "samples": JSONValue(inputs.split.count), "train_used": JSONValue(inputs.trainIndices.count), "test_used": JSONValue(inputs.testIndices.count),
            "outputs": JSONValue(inputs.c3.rowLength),
            "fem_failed_or_skipped": JSONValue(inputs.femStatus.filter { $0 != 0 }.count),
        ]
        if let w = inputs.windStatus { dataset["wind_without_solution"] = JSONValue(w.filter { $0 != 0 }.count) }
        return .object(dataset)
    }

    /// "Setup": missing models, configuration, samples, network and DMD settings.
    private static func setupSection(inputs: EvaluationInputs, config: PipelineConfig, configPath: String, dataPath: String) -> [ReportBlock] {
        let dmdSettings = config.dmd
        let sampleCount = inputs.split.count
        return [.heading(2, "Setup"), .bulletList(inputs.missingModels.map { name in
            RichText([.strong("Model \(name) is missing"),
                      .text(": \(dataPath)/models/\(name) holds no trained model, so this report covers only "
                            + inputs.models.map(\.name).joined(separator: ", ") + " (run train-dmd" + (name == "plain" ? " --no-dmd" : name == "dmd" ? "" : " --name \(name)") + ").")])
        } + [
            RichText("Configuration: \(configPath); data folder: \(dataPath)."),
            RichText("Samples: \(sampleCount) Latin-hypercube parameter sets (K12, K3, D, U0, u_h, u_v); used for training \(inputs.trainIndices.count), for testing \(inputs.testIndices.count); without a usable FEM solution \(inputs.femStatus.filter { $0 != 0 }.count)"
                     + (inputs.windStatus.map { ", of which without a Blasius similarity solution \($0.filter { $0 != 0 }.count)" } ?? "") + "."),
            RichText("Network: " + (inputs.models.first.map { $0.model.layout.widths.map(String.init).joined(separator: " → ") } ?? "?")
                     + ", \(config.network.activation.rawValue), \(config.network.precision.rawValue); Adam lr \(config.training.learningRate), batch \(config.training.batchSize), \(config.training.epochs) epochs."),
            RichText("DMD (Algorithm 1): m = \(dmdSettings.m), s = \(dmdSettings.s), tol = \(dmdSettings.tol), SVD by \(dmdSettings.svd.rawValue), \(dmdSettings.modes.rawValue) modes, Adam moments \(dmdSettings.moments.rawValue); safeguards: clamp |λ| \(dmdSettings.clampEigenvalues ? "on" : "off"), relaxation ω = \(dmdSettings.relaxation), guarded jump \(dmdSettings.guarded ? "on" : "off"), annealing \(dmdSettings.annealing.rawValue)."),
        ])]
    }

    /// "Accuracy": the error table of the final parameters, and which models diverged.
    private static func accuracySection(_ evaluations: [ModelEvaluation], inputs: EvaluationInputs) -> [ReportBlock] {
        var blocks: [ReportBlock] = [.heading(2, "Accuracy")]
        var rows: [[String]] = []
        for e in evaluations {
            let r = e.accuracy.testRelativeL2
            rows.append([e.name, "\(e.epochs)", fmt(e.accuracy.trainScaledMSE), fmt(e.accuracy.testScaledMSE),
                         fmt(e.accuracy.trainMSE), fmt(e.accuracy.testMSE), fmt(r.median), fmt(r.percentile95),
                         fmt(e.wallSeconds, 4), fmt(e.epochs > 0 ? e.wallSeconds / Double(e.epochs) : nil)])
        }
        blocks.append(.table(ReportTable(header: ["model", "epochs", "train MSE (scaled)", "test MSE (scaled)", "train MSE (c3²)", "test MSE (c3²)",
                                                  "test rel. L2, median", "test rel. L2, p95", "wall time (s)", "s / epoch"],
                                         rows: rows, alignments: [.left] + Array(repeating: .right, count: 9),
                                         caption: "Errors of the final parameters on the FEM data. Scaled units: outputs standardised with the training set's mean and standard deviation (the units of the paper's figures).")))
        let diverged = inputs.models.compactMap { m in m.model.description.divergence.map { (m.name, m.model.description, $0) } }
        if !diverged.isEmpty {
            blocks.append(.bulletList(diverged.map { name, description, divergence in
                RichText([.strong("\(name) diverged"),
                          .text(" in epoch \(divergence.epoch) of \(description.epochsPlanned) and stopped there: \(divergence.message). "
                                + "Its row above is the model after epoch \(description.epochsCompleted), the last one with finite losses.")])
            }))
        }
        return blocks
    }

    /// "DMD jumps": how often and how much the jumps of the dmd run helped, and its overhead and speed-up.
    private static func dmdJumpsSection(_ stats: DMDStatistics, comparison: RunComparison?) -> [ReportBlock] {
        var items: [RichText] = [
            RichText("Jumps: \(stats.jumpCount). Mean relative error (MSE after / before, the paper's Figure 3 metric): training \(fmt(stats.training.meanRelativeError)), test \(fmt(stats.test?.meanRelativeError)); share of jumps that lowered the training MSE: \(fmt(stats.training.shareHelped.map { 100 * $0 }))%."),
        ]
        if let c = comparison {
            items.append(RichText("Overhead per epoch (DMD run / plain run): \(fmt(c.overheadPerEpoch)). "
                                  + "The plain run's final test MSE \(fmt(c.targetTestMSE)) was \(reachText(c.reach, plain: c.plainReach, speedup: c.speedup)); "
                                  + "its final training MSE \(fmt(c.targetTrainMSE)) was \(reachText(c.trainReach, plain: c.plainTrainReach, speedup: c.trainSpeedup))."))
        }
        return [.heading(2, "DMD jumps"), .bulletList(items)]
    }

    /// "DMD runs compared": one row per accelerated run when there is more than one (e.g.
    /// scripts/safeguard-study.sh); adds metrics.json "dmd_runs".
    private static func dmdRunsSection(inputs: EvaluationInputs, plain: EvaluationInputs.TrainedModel?,
                                       metrics: inout [String: JSONValue]) throws -> [ReportBlock] {
        let jumpRuns = inputs.models.filter { $0.history.hasJumpColumn }
        guard jumpRuns.count > 1 else { return [] }
        var runRows: [[String]] = []
        var runMetrics: [String: JSONValue] = [:]
        for m in jumpRuns {
            let stats = try DMDStatistics(history: m.history)
            var runEntry = stats.json.object ?? [:]
            var reachText = "—", trainReachText = "—"
            if let plain {
                let c = try RunComparison(plain: plain.history, dmd: m.history)
                runEntry["comparison_with_plain"] = c.json
                reachText = reachCell(c.reach, speedup: c.speedup)
                trainReachText = reachCell(c.trainReach, speedup: c.trainSpeedup)
            }
            runMetrics[m.name] = .object(runEntry)
            runRows.append([m.name, "\(stats.jumpCount)", fmt(stats.training.shareHelped.map { 100 * $0 }),
                            fmt(stats.training.medianRelativeError), fmt(stats.training.meanRelativeError),
                            fmt(stats.test?.medianRelativeError), fmt(m.history.trainMSE.last), fmt(m.history.testMSE.last),
                            trainReachText, reachText])
        }
        metrics["dmd_runs"] = .object(runMetrics)
        return [.heading(2, "DMD runs compared"),
                .table(ReportTable(header: ["run", "jumps", "helped (% of jumps, training)", "median ratio, training", "mean ratio, training",
                                            "median ratio, test", "final train MSE (scaled)", "final test MSE (scaled)",
                                            "plain run's final train MSE reached", "plain run's final test MSE reached"],
                                   rows: runRows, alignments: [.left] + Array(repeating: .right, count: 9),
                                   caption: "Ratio = MSE after the jump / MSE before it (below 1 the jump helped); the mean is the paper's Figure 3 metric, the median is robust to a few catastrophic jumps. A rejected guarded jump counts as ratio 1. Speed-up: when the plain run first reached its own final MSE / when this run first reached it."))]
    }

    /// "Paper vs this run", when both the plain and the dmd run were evaluated; adds metrics.json "paper_vs_run".
    private static func paperComparisonSection(_ evaluations: [ModelEvaluation], inputs: EvaluationInputs, dmdSettings: DMDSettings,
                                               comparison: RunComparison?, metrics: inout [String: JSONValue]) -> [ReportBlock] {
        guard let plainEvaluation = evaluations.first(where: { $0.name == "plain" }),
              let dmdEvaluation = evaluations.first(where: { $0.name == "dmd" }) else { return [] }
        let ratio = plainEvaluation.finalTestMSE / dmdEvaluation.finalTestMSE, trainRatio = plainEvaluation.finalTrainMSE / dmdEvaluation.finalTrainMSE
        metrics["paper_vs_run"] = ["mse_ratio_train": JSONValue(trainRatio), "mse_ratio_test": JSONValue(ratio),
                                   "paper_mse_ratio": JSONValue(PaperFigures.mseRatioAt3000),
                                   "overhead": comparison.map { JSONValue($0.overheadPerEpoch) } ?? .null,
                                   "paper_overhead_measured": JSONValue(PaperFigures.measuredOverhead)]
        return [.heading(2, "Paper vs this run"), .table(ReportTable(header: ["quantity", "paper", "this run"], rows: [
            ["MSE plain / MSE with DMD at the end, training", "≈ \(Int(PaperFigures.mseRatioAt3000)) (two decades, Fig. 4, 3000 epochs)", fmt(trainRatio) + " (\(plainEvaluation.epochs) epochs)"],
            ["MSE plain / MSE with DMD at the end, test", "≈ \(Int(PaperFigures.mseRatioAt3000))", fmt(ratio)],
            ["chosen m, s", "\(PaperFigures.chosenM), \(PaperFigures.chosenS)", "\(dmdSettings.m), \(dmdSettings.s)"],
            ["lowest mean relative error of the (m, s) study, training / test", "m = 20 (overall); s = 55 (on the m = 14 row)",
             inputs.sweep.map { sweep in
                 [sweep.best(test: false), sweep.best(test: true)].map { b in b.map { "m = \($0.m), s = \($0.s): \(fmt($0.value))" } ?? "—" }
                     .joined(separator: " / ")
             } ?? "no sweep (train-dmd sweep)"],
            ["wall time per epoch, DMD / plain", "\(PaperFigures.measuredOverhead) measured, \(PaperFigures.predictedOverhead) predicted",
             fmt(comparison?.overheadPerEpoch)],
        ], alignments: [.left, .right, .right]))]
    }

    /// The surrogates beyond the paper's runs, with the diagnosis of where they fail, and the learning
    /// curve when one was written; adds metrics.json "surrogates" and "learning_curve".
    private static func surrogatesSection(inputs: EvaluationInputs, config: PipelineConfig, dataPath: String, threads: Int,
                                          metrics: inout [String: JSONValue]) throws -> [ReportBlock] {
        let surrogateRows = try SurrogateComparison.rows(dataDirectory: URL(fileURLWithPath: dataPath, isDirectory: true), params: inputs.params,
                                                         c3: inputs.c3, trainRows: inputs.trainIndices, testRows: inputs.testIndices,
                                                         box: config.sampling.ranges, wind: config.wind, threads: threads)
        guard !surrogateRows.isEmpty else { return [] }
        metrics["surrogates"] = SurrogateComparison.json(surrogateRows)
        var blocks = SurrogateComparison.blocks(surrogateRows, params: inputs.params, c3: inputs.c3, testRows: inputs.testIndices,
                                                names: PollutantParameters.names)
        let curveURL = DataLayout(URL(fileURLWithPath: dataPath, isDirectory: true)).learningCurve.csv
        if FileManager.default.fileExists(atPath: curveURL.path) {
            let curve = try LearningCurve.read(curveURL)
            metrics["learning_curve"] = curve.json
            blocks.append(.figure(ReportFigure(curve.figure(), caption: "Learning curve: median test relative L2 error against the number of training samples "
                                                + "(each model refitted on nested subsets of the training set; `train-dmd learning-curve`).")))
        }
        return blocks
    }

    /// "Figures": loss curves, jump ratios, time per epoch, the (m, s) study, fields and eigenvalues;
    /// adds metrics.json "sweep".
    private static func figuresSection(inputs: EvaluationInputs, evaluations: [ModelEvaluation], config: PipelineConfig,
                                       dmd: EvaluationInputs.TrainedModel?, breakdowns: [(label: String, breakdown: TimeBreakdown)],
                                       metrics: inout [String: JSONValue]) throws -> [ReportBlock] {
        var blocks: [ReportBlock] = [.heading(2, "Figures")]
        let runs = inputs.models.map { FigureCatalogue.Run($0.name, $0.history) }
        blocks.append(.figure(ReportFigure(FigureCatalogue.lossCurves(runs), caption: "Training and test MSE (scaled units) per epoch, log scale (the paper's Figure 4). The dashed line is the plain run's final test MSE.")))
        if let dmd, !dmd.history.jumps.isEmpty {
            blocks.append(.figure(ReportFigure(FigureCatalogue.jumpRatios(dmd.history), caption: "Relative error of each DMD jump (MSE after / MSE before); below 1 the jump helped.")))
        }
        blocks.append(.figure(ReportFigure(FigureCatalogue.timePerEpoch(breakdowns), caption: "Mean wall time per epoch, split into backpropagation, snapshots, DMD and assignment of the new weights.")))
        if let sweep = inputs.sweep {
            blocks.append(.figure(ReportFigure(FigureCatalogue.stepStudy(mValues: sweep.mValues, sValues: sweep.sValues, training: sweep.training,
                                                                        test: sweep.test, chosen: (config.dmd.m, config.dmd.s)),
                                               caption: "Mean relative error of the DMD jumps for each (m, s), training (left) and test (right) sets (the paper's Figure 3); the configured pair is outlined; a grey cell is a run that diverged (+∞ in sweep.npy) or was not run (NaN).")))
            var sweepMetrics: [String: JSONValue] = ["m_values": .array(sweep.mValues.map { JSONValue($0) }),
                                                     "s_values": .array(sweep.sValues.map { JSONValue($0) })]
            for (key, best) in [("best_training", sweep.best(test: false)), ("best_test", sweep.best(test: true))] {
                if let best { sweepMetrics[key] = ["m": JSONValue(best.m), "s": JSONValue(best.s), "mean_relative_error": JSONValue(best.value)] }
            }
            metrics["sweep"] = .object(sweepMetrics)
        }
        blocks.append(contentsOf: try fieldFigures(inputs: inputs, evaluations: evaluations, count: config.evaluation.fieldSamples,
                                                   nx: config.fem.problem.observationNx, ny: config.fem.problem.observationNy))
        if let dmd, !dmd.eigenvalues.isEmpty, config.evaluation.eigenvalueJumps > 0 {
            blocks.append(eigenvalueFigure(dmd, jumpCount: config.evaluation.eigenvalueJumps))
        }
        return blocks
    }

    /// DMD eigenvalues of `jumpCount` jumps spread evenly from the first to the last.
    private static func eigenvalueFigure(_ dmd: EvaluationInputs.TrainedModel, jumpCount: Int) -> ReportBlock {
        let jumps = dmd.eigenvalues.keys.sorted()
        let k = min(jumpCount, jumps.count)
        let chosen = (0..<k).map { jumps[k == 1 ? jumps.count - 1 : $0 * (jumps.count - 1) / (k - 1)] }
        let panels = chosen.map { j in
            (title: "jump \(j)", layers: dmd.eigenvalues[j]!.map { FigureCatalogue.ComplexPoints("layer \($0.layer)", real: $0.real, imaginary: $0.imaginary) })
        }
        return .figure(ReportFigure(FigureCatalogue.eigenvalues(panels), caption: "DMD eigenvalues of each layer in the complex plane, with the unit circle, for the first, middle and last jumps."))
    }

    /// "Reproduce": the commands that remake this report.
    /// "Paired acceleration study": the table with its intervals and the figure of `train-dmd verdict`
    /// when DATA/verdict/evaluation/verdict.json exists; adds metrics.json "paired_study".
    static func pairedStudySection(dataPath: String, metrics: inout [String: JSONValue]) throws -> [ReportBlock] {
        let url = URL(fileURLWithPath: dataPath).appendingPathComponent("verdict/evaluation").appendingPathComponent(PairedSummary.jsonFile)
        guard let data = try? Data(contentsOf: url) else { return [] }
        let summary: PairedSummary
        do { summary = try AccelerationRun.decodeJSON(PairedSummary.self, from: data) } catch {
            throw StageError("\(url.path): not a paired-study summary: \(error)")
        }
        let rows = summary.rows.map { r in
            [r.method, String(format: "%gT", r.level), "\(r.reached)/\(r.seeds)", PairedSummary.format(r.medianEpochs),
             PairedSummary.interval(r.speedup), PairedSummary.interval(r.epochRatio),
             "\(PairedSummary.format(r.testRelativeL2Median)) / \(PairedSummary.format(r.testRelativeL2P95))"]
        }
        metrics["paired_study"] = .object(["target": JSONValue(summary.target), "baseline": .string(summary.baseline),
                                           "seeds": JSONValue(summary.seeds.count), "epochs": JSONValue(summary.epochs)])
        return [
            .heading(2, "Paired acceleration study"),
            .paragraph(RichText("train-dmd verdict (docs/dmd-training.md): \(summary.seeds.count) paired seeds, \(summary.epochs) planned epochs; T = \(fmt(summary.target, 4)), "
                                + "the baseline \(summary.baseline)'s median-seed best \(summary.window)-epoch moving average of the validation MSE. Speed-up: the baseline's "
                                + "clock-free time to the level over the method's, per seed, median [paired bootstrap 95 % interval]."
                                + (summary.tuning.map { " " + $0 } ?? ""))),
            .table(ReportTable(header: ["method", "level", "reached", "median epochs", "speed-up (clock-free)", "ratio of epochs", "test rel. L2 median / p95"],
                               rows: rows)),
            .figure(ReportFigure(summary.figure(), caption: "Validation MSE (moving average) against epochs and clock-free time, median and range over seeds.")),
        ]
    }

    /// "Adaptive sampling against LHS": the curves of `train-dmd refine-study` and the solves adaptive
    /// sampling needs for the LHS curve's last error, and (points with per-sample test errors) the
    /// paired comparisons, when DATA/refine/study holds finished points; adds metrics.json "refine_study".
    static func refineStudySection(dataPath: String, metrics: inout [String: JSONValue]) throws -> [ReportBlock] {
        let points = try RefineStudy.gather(DataLayout(URL(fileURLWithPath: dataPath, isDirectory: true)))
        guard !points.isEmpty else { return [] }
        let savings = RefineStudy.savings(points)
        let curves = RefineStudy.curveKeys(points)
        let paired = try RefineStudy.pairedComparisons(points)
        metrics["refine_study"] = .object([
            "points": JSONValue(points.count), "curves": JSONValue(curves.count),
            "paired": .array(paired.map { c in
                .object(["label": .string(c.label), "method": .string(c.method), "model": .string(c.model), "seed": JSONValue(Int(c.seed)),
                         "statistic": .string(c.statistic), "solves": JSONValue(c.solves), "lhs_solves": JSONValue(c.lhsSolves), "ratio": JSONValue(c.ratio),
                         "ratio_low": JSONValue(c.ratioLow), "ratio_high": JSONValue(c.ratioHigh)])
            }),
            "savings": .array(savings.map { s in
                .object(["label": .string(s.label), "model": .string(s.model), "statistic": .string(s.statistic), "lhs_solves": JSONValue(s.lhsSolves),
                         "lhs_test_error": JSONValue(s.lhsError), "lhs_first_solves": JSONValue(s.lhsFirstSolves),
                         "adaptive_solves": s.adaptiveSolves.map { JSONValue($0) } ?? .null,
                         "ratio": s.ratio.map { JSONValue($0) } ?? .null])
            }),
        ])
        var blocks: [ReportBlock] = [
            .heading(2, "Adaptive sampling against LHS"),
            .paragraph(RichText("train-dmd refine-study (docs/surrogates.md): test relative L2 against the FEM training solves, nested LHS subsets of the "
                                + "training split against adaptive sampling (and, where computed, the oracle reference: each batch the solved samples with the largest error), "
                                + "on the fixed test split; \(curves.count) curve(s) of \(points.count) point(s) "
                                + "(label, method, model, seed).")),
            .figure(ReportFigure(RefineStudy.figure(points), caption: "Test error against FEM training solves, median over seeds, log–log.")),
        ]
        if !savings.isEmpty {
            let rows = savings.map { s in
                [s.label, s.model, s.statistic, "\(fmt(s.lhsError, 4)) at \(s.lhsSolves) (\(s.lhsSeeds) seed\(s.lhsSeeds == 1 ? "" : "s"))",
                 s.adaptiveSolves.map { "\($0)" } ?? "not by \(s.adaptiveLargest)", s.ratio.map { String(format: "%.2f", $0) } ?? "—", "\(s.lhsFirstSolves)"]
            }
            blocks.append(.paragraph(RichText("The solves adaptive sampling needs for the error the LHS curve reaches with its most solves "
                                              + "(medians over seeds; the first adaptive point at or below it; the goal is a ratio ≤ 0.5), and the first "
                                              + "solves at which the LHS curve itself is there: where that is far below its most solves, the LHS curve is flat "
                                              + "and a small ratio is no saving over LHS.")))
            blocks.append(.table(ReportTable(header: ["label", "model", "test statistic", "LHS error at solves", "adaptive solves", "ratio", "LHS itself from"],
                                             rows: rows, alignments: [.left, .left, .left, .right, .right, .right, .right])))
        }
        // Points with per-sample test errors: each adaptive point against LHS, with the test split's sampling error.
        if !paired.isEmpty {
            if let figure = RefineStudy.pairedFigure(paired) {
                blocks.append(.figure(ReportFigure(figure, caption: "Adaptive (or oracle) / LHS of the test median and p95 at equal solves, per seed, with the "
                                                   + "95 % paired bootstrap interval over the test samples (the test split's sampling error only).")))
            }
            let reference = paired.filter { $0.lhsSolves != $0.solves }
            if !reference.isEmpty {
                blocks.append(.paragraph(RichText("Each adaptive (or oracle) point against the largest LHS design with per-sample errors (same label, model and seed): "
                                                  + "the ratio of the test statistic and its 95 % paired bootstrap interval; below 1 with the "
                                                  + "interval's upper end below 1 is a saving the test split resolves.")))
                blocks.append(.table(ReportTable(header: ["label", "method", "model", "seed", "statistic", "solves", "LHS solves", "method / LHS [95 %]"],
                                                 rows: reference.map { c in
                                                     [c.label, c.method, c.model, "\(c.seed)", c.statistic, "\(c.solves)", "\(c.lhsSolves)",
                                                      "\(fmt(c.ratio, 3)) [\(fmt(c.ratioLow, 3)), \(fmt(c.ratioHigh, 3))]"]
                                                 }, alignments: [.left, .left, .left, .right, .left, .right, .right, .right])))
            }
        }
        return blocks
    }

    private static func reproduceSection(configPath: String, dataPath: String) -> [ReportBlock] {
        [.heading(2, "Reproduce"),
         .code("./pipeline.sh --config \(configPath) --data-dir \(dataPath)\n# or stage by stage:\n"
               + ["lhs-sample", "blasius-solve", "pollutant-fem", "train-dmd --no-dmd", "train-dmd", "evaluate"]
                   .map { ".build/release/\($0) --config \(configPath) --data-dir \(dataPath)" }.joined(separator: "\n"), language: "sh")]
    }

    /// c3 of a few test samples: FEM truth, each model's prediction and error, at the test samples whose
    /// error (of the first model) sits at evenly spaced quantiles, so the figures show typical and hard cases.
    static func fieldFigures(inputs: EvaluationInputs, evaluations: [ModelEvaluation], count: Int, nx: Int, ny: Int) throws -> [ReportBlock] {
        guard count > 0, let first = evaluations.first else { return [] }
        let test = inputs.testIndices
        let p = inputs.c3.rowLength
        guard nx * ny == p else { return [.paragraph(RichText("Field figures skipped: the observation grid \(nx) × \(ny) does not match the \(p) outputs."))] }
        let x = (0..<nx).map { inputs.points.values[2 * $0] }
        let y = (0..<ny).map { inputs.points.values[2 * ($0 * nx) + 1] }
        // Tensor grid only when every row shares x and every column shares y (flat ground).
        var tensor = true
        for j in 0..<ny { for i in 0..<nx where inputs.points.values[2 * (j * nx + i)] != x[i] || inputs.points.values[2 * (j * nx + i) + 1] != y[j] { tensor = false } }
        guard tensor else { return [.paragraph(RichText("Field figures skipped: the observation points do not form a tensor grid (terrain)."))] }
        let errors = first.accuracy.testRelativeL2.perSample
        let ranked = errors.indices.filter { errors[$0] != nil }.sorted { errors[$0]! < errors[$1]! }
        guard !ranked.isEmpty else { return [] }
        let k = min(count, ranked.count)
        let picks = (0..<k).map { ranked[k == 1 ? ranked.count / 2 : Int((Double($0) + 0.5) / Double(k) * Double(ranked.count))] }
        var blocks: [ReportBlock] = []
        for (n, t) in picks.enumerated() {
            let sample = test[t]
            let truth = Array(inputs.c3.row(sample))
            let preds = evaluations.map { (label: $0.name, values: Array($0.testPredictions.row(t))) }
            let pr = inputs.params.row(sample).map { String(format: "%.3g", $0) }
            let label = "sample \(sample): K12 \(pr[0]), K3 \(pr[1]), D \(pr[2]), U0 \(pr[3]), u_h \(pr[4]), u_v \(pr[5])"
            let fig = FigureCatalogue.fieldComparison(x: x, y: y, truth: truth, predictions: preds, sampleLabel: label, name: "field_\(n + 1)")
            blocks.append(.figure(ReportFigure(fig, caption: "c3 at the observation points for test \(label): FEM truth, predictions and their errors (prediction − truth); relative L2 error of \(first.name): \(fmt(errors[t])).")))
        }
        return blocks
    }
}
