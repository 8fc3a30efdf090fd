import Foundation
import NumericalFoundations
import Surrogates
import Uncertainty

extension PairedStudy {
    /// Phase 2: the per-epoch cost of each evaluated method (evaluation/cost.json).
    @discardableResult
    public static func measureCost(config: PipelineConfig, dataDirectory: URL, root: URL, settings: Settings,
                                   notice: @escaping (String) -> Void = { _ in }) throws -> EpochCosts {
        try settings.validate()
        let current = try AccelerationStudy.setup(config: config, dataDirectory: dataDirectory, epochs: settings.epochs)
        let choice = try readChoice(root: root, setup: current)
        let folder = root.appendingPathComponent(evaluationFolder, isDirectory: true)
        try AccelerationStudy.claim(folder: folder, setup: current)
        let prepared = try SurrogateFitStage.prepare(config: config, dataDirectory: dataDirectory)
        let costs = try EpochCostBenchmark.measure(methods: choice.evaluated(roles: settings.methods), prepared: prepared, config: config, epochs: settings.epochs,
                                                   seed: settings.evaluationSeeds[0], repetitions: settings.costRepetitions,
                                                   blockEpochs: settings.costBlockEpochs, notice: notice)
        try AtomicFile.write(try AccelerationRun.encodeJSON(costs), to: folder.appendingPathComponent(costFile))
        notice("train-dmd verdict: per-epoch costs → \(folder.appendingPathComponent(costFile).path)\n" + costs.markdown())
        return costs
    }

    static func readCosts(_ folder: URL) -> EpochCosts? {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(costFile)) else { return nil }
        return try? AccelerationRun.decodeJSON(EpochCosts.self, from: data)
    }

    /// T: the median over the evaluation seeds of the baseline's best moving average.
    static func target(_ baselineRuns: [FinishedRun], settings: Settings) -> Double {
        Bootstrap.median(settings.evaluationSeeds.map { seed in
            baselineRuns.first { $0.spec.seed == seed }.map {
                SustainedTarget.bestMovingAverage(Array($0.history.dropFirst().map(\.validationMSE)), window: settings.window)
            } ?? .infinity
        })
    }

    /// Phase 3: the evaluation. Writes evaluation/runs.csv, verdict.csv, verdict.md, verdict.json and
    /// verdict.svg/.png (the tables partially after every finished run, once the targets are known).
    /// Without evaluation/cost.json the cost is measured at the end.
    @discardableResult
    /// `ledger`: an evaluation folder made elsewhere under the same setup (`EvaluationLedger`), whose
    /// finished runs are copied in first and not made again.
    public static func evaluate(config: PipelineConfig, dataDirectory: URL, root: URL, settings: Settings, executor: Executor, ledger: URL? = nil,
                                notice: @escaping (String) -> Void = { _ in }) throws -> PairedSummary {
        try settings.validate()
        let current = try AccelerationStudy.setup(config: config, dataDirectory: dataDirectory, epochs: settings.epochs)
        let choice = try readChoice(root: root, setup: current)
        let folder = root.appendingPathComponent(evaluationFolder, isDirectory: true)
        try AccelerationStudy.claim(folder: folder, setup: current)
        if let ledger {
            let imported = try EvaluationLedger.importRuns(from: ledger, into: folder, setup: current)
            notice("train-dmd verdict: \(imported.count) evaluation runs copied from the ledger \(ledger.path)")
        }
        let methods = choice.evaluated(roles: settings.methods)
        let tuning = try readTransfer(root: root).map { "The configurations were chosen by the tuning in \($0.source) on other data (inputs "
            + $0.sourceSetup.inputs.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.prefix(12))" }.joined(separator: ", ") + "), transferred here." }
        let paired = PairedRunSettings(window: settings.window)
        let baselineSpecs = settings.evaluationSeeds.map { AccelerationRunSpec(method: choice.adam, seed: $0, epochs: settings.epochs, stopAtValidationMSE: nil, paired: paired) }
        let baselineRuns = try runMissing(baselineSpecs, in: folder, executor: executor, finished: {}, notice: notice, label: "baseline \(choice.adam.name)")
        guard baselineRuns.count == baselineSpecs.count else {
            throw StudyError("\(baselineSpecs.count - baselineRuns.count) baseline runs did not finish: the target cannot be set (see their log.txt under \(folder.path))")
        }
        let t = target(baselineRuns, settings: settings)
        guard t.isFinite else { throw StudyError("the baseline \(choice.adam.name) has no finite validation error on the median seed: no target") }
        notice("train-dmd verdict: T = \(t) (levels \(settings.levels.map { String(format: "%g", $0) }.joined(separator: ", ")) × T)")
        let otherSpecs = methods.dropFirst().flatMap { m in
            settings.evaluationSeeds.map { AccelerationRunSpec(method: m, seed: $0, epochs: settings.epochs, stopAtValidationMSE: settings.levels.min()! * t, paired: paired) }
        }
        let all = baselineSpecs + otherSpecs
        let writePartial = {
            _ = try? PairedSummary(finished: finished(all, in: folder), methods: methods, target: t, settings: settings, costs: readCosts(folder),
                                   tuning: tuning).writeTables(to: folder)
        }
        _ = try runMissing(otherSpecs, in: folder, executor: executor, finished: writePartial, notice: notice, label: "other methods")
        var costs = readCosts(folder)
        // Measured again when a method evaluated now was not among those of the cost benchmark.
        if costs == nil || methods.contains(where: { costs?.entry($0.name) == nil }) {
            costs = try measureCost(config: config, dataDirectory: dataDirectory, root: root, settings: settings, notice: notice)
        }
        let summary = PairedSummary(finished: finished(all, in: folder), methods: methods, target: t, settings: settings, costs: costs, tuning: tuning)
        try summary.write(to: folder)
        return summary
    }
}

extension PairedSummary {
    /// The tables only (the partial state while runs finish).
    func writeTables(to folder: URL) throws {
        try AtomicFile.write(runsCSV(), to: folder.appendingPathComponent(Self.runsTable))
        try AtomicFile.write(tableCSV(), to: folder.appendingPathComponent(Self.table))
        try AtomicFile.write(markdown(), to: folder.appendingPathComponent(Self.markdownFile))
    }
}
