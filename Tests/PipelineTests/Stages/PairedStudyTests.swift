import XCTest
import Foundation
import NumericalFoundations
import Reporting
import _TestSupport
@testable import Pipeline

/// The paired study on the tiny synthetic data folder of `AccelerationStudyTests`, in this process:
/// tuning picks per family by validation on the tuning seeds, the evaluation stops at the
/// sustained target, and an interrupted evaluation resumes to the same numbers, bit for bit.
final class PairedStudyTests: XCTestCase {
    /// The sustained rule on a hand-made curve: a single dip below the level does not count; the
    /// first epoch whose 3-epoch mean is ≤ the level does.
    func testSustainedTargetOnAHandMadeCurve() {
        let curve = [5.0, 4, 1, 4, 3, 2.5, 2, 2, 1.5, .nan, 1, 1, 1]
        // Means of 3: —, —, 10/3, 3, 8/3, 19/6, 2.5, 13/6, 11/6, NaN, NaN, NaN, 1.
        let averages = SustainedTarget.movingAverages(curve, window: 3)
        XCTAssertTrue(averages[0].isNaN && averages[1].isNaN)
        XCTAssertEqual(averages[2], 10.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(averages[8], 11.0 / 6, accuracy: 1e-15)
        XCTAssertTrue(averages[9].isNaN && averages[11].isNaN)
        XCTAssertEqual(averages[12], 1, accuracy: 1e-15)
        // Epoch 3 dips to 1, but its mean is 10/3: level 2 is first sustained at epoch 9 (mean 11/6).
        XCTAssertEqual(SustainedTarget.firstEpoch(curve, level: 2, window: 3), 9)
        XCTAssertEqual(SustainedTarget.firstEpoch(curve, level: 2.5, window: 3), 7)
        XCTAssertEqual(SustainedTarget.firstEpoch(curve, level: 1, window: 3), 13)
        XCTAssertNil(SustainedTarget.firstEpoch(curve, level: 0.9, window: 3))
        // With a window of 1 the rule is the first crossing.
        XCTAssertEqual(SustainedTarget.firstEpoch(curve, level: 2, window: 1), 3)
        XCTAssertEqual(SustainedTarget.bestMovingAverage(curve, window: 3), 1, accuracy: 1e-15)
    }

    /// Clock-free time on a hand-made history: epochs × the minimum cost per epoch; for Adam → L-BFGS
    /// the Adam epochs (a third of 9) at the epoch cost, then each full-batch evaluation at its own cost.
    func testClockFreeTimeOfAHandMadeHistory() {
        func row(_ epoch: Int, _ samples: Double) -> AccelerationEpoch {
            AccelerationEpoch(epoch: epoch, trainMSE: 1, validationMSE: 1, cpuSeconds: 0, wallSeconds: 0, gradientEvaluations: samples)
        }
        // 10 fitting samples; L-BFGS row 4 took one evaluation (+10 samples), row 5 two (+20).
        let history = [row(0, 0), row(1, 10), row(2, 20), row(3, 30), row(4, 40), row(5, 60)]
        let lbfgs = AccelerationMethod(name: "adam_lbfgs", summary: "", accelerator: .lbfgs(switchFraction: 1.0 / 3.0, memory: 10))
        let plain = AccelerationMethod(name: "adam", summary: "")
        let costs = EpochCosts(entries: [
            EpochCosts.Entry(method: "adam", blockEpochs: 14, perEpoch: [2, 3], minimum: 2, median: 2.5, wallMedian: 2.5),
            EpochCosts.Entry(method: "adam_lbfgs", blockEpochs: 14, perEpoch: [2], minimum: 2, median: 2, wallMedian: 2,
                             fullBatchEvaluation: [0.5], fullBatchMinimum: 0.5, fullBatchMedian: 0.5),
        ], repetitions: 1, fitSamples: 10, seed: 0)
        XCTAssertEqual(PairedSummary.clockFree(history, method: lbfgs, plannedEpochs: 9, costs: costs), [0, 2, 4, 6, 6.5, 7.5])
        XCTAssertEqual(PairedSummary.clockFree(history, method: plain, plannedEpochs: 9, costs: costs), [0, 2, 4, 6, 8, 10])
        XCTAssertNil(PairedSummary.clockFree(history, method: plain, plannedEpochs: 9, costs: nil))
    }

    func testGridsHaveTheDocumentedSizesAndSubsampleBySeed() throws {
        let adam = VerdictGrids.adam(weightDecay: 1e-4)
        XCTAssertEqual(adam.count, 90)
        XCTAssertEqual(Set(adam.map(\.name)).count, 90)
        XCTAssertEqual(VerdictGrids.scheduleFree(weightDecay: 1e-4).count, 30)
        let dmd = VerdictGrids.dmd(on: adam[7])
        XCTAssertEqual(dmd.count, 90)
        XCTAssertTrue(dmd.allSatisfy { $0.learningRate == adam[7].learningRate && $0.batchSize == adam[7].batchSize && $0.schedule == adam[7].schedule })
        let a = VerdictGrids.subsample(adam, budget: 20, seed: 4, family: .adam)
        XCTAssertEqual(a.count, 20)
        XCTAssertEqual(a, VerdictGrids.subsample(adam, budget: 20, seed: 4, family: .adam))
        XCTAssertNotEqual(a, VerdictGrids.subsample(adam, budget: 20, seed: 5, family: .adam))
        XCTAssertEqual(VerdictGrids.subsample(adam, budget: 200, seed: 4, family: .adam), adam)
        XCTAssertEqual(VerdictGrids.short(3e-3), "3e-3")
        XCTAssertEqual(VerdictGrids.short(1e-2), "1e-2")
    }

    /// The edge rule's next configuration: one step beyond the grid's smallest or largest step size,
    /// the rest of the configuration kept; none inside the grid, none below s = 1.
    func testBeyondTheEdgeHalvesOrDoublesTheStepSize() throws {
        let adam = VerdictGrids.adam(weightDecay: 1e-4)
        let edge = try XCTUnwrap(adam.first { $0.name == "adamw_lr1e-3_b32_onecycle" })
        let below = try XCTUnwrap(VerdictGrids.beyondEdge(of: edge, family: .adam, extended: []))
        XCTAssertEqual(below.name, "adamw_lr5e-4_b32_onecycle")
        XCTAssertEqual(below.learningRate, 5e-4); XCTAssertEqual(below.batchSize, 32); XCTAssertEqual(below.schedule, .oneCycle)
        XCTAssertEqual(below.weightDecay, 1e-4); XCTAssertEqual(below.summary, "AdamW λ = 1e-4, lr 5e-4, batch 32, onecycle")
        XCTAssertEqual(VerdictGrids.beyondEdge(of: below, family: .adam, extended: [below])?.name, "adamw_lr2.5e-4_b32_onecycle")
        XCTAssertNil(VerdictGrids.beyondEdge(of: edge, family: .adam, extended: [below]), "5e-4 was tried: 1e-3 is inside")
        XCTAssertNil(VerdictGrids.beyondEdge(of: try XCTUnwrap(adam.first { $0.name == "adam_lr3e-3_b16_constant" }), family: .adam, extended: []))
        XCTAssertEqual(VerdictGrids.beyondEdge(of: try XCTUnwrap(adam.first { $0.name == "adam_lr1e-2_b64_cosine0" }), family: .adam, extended: [])?.name,
                       "adam_lr2e-2_b64_cosine0")
        let sf = VerdictGrids.scheduleFree(weightDecay: 1e-4)
        XCTAssertEqual(VerdictGrids.beyondEdge(of: sf[0], family: .scheduleFree, extended: [])?.name, "sf_lr5e-4_b16_wd0")
        XCTAssertEqual(VerdictGrids.beyondEdge(of: sf[0], family: .scheduleFree, extended: [])?.scheduleFree, true)
        let dmd = VerdictGrids.dmd(on: edge)
        func dmdNamed(_ name: String) throws -> AccelerationMethod { try XCTUnwrap(dmd.first { $0.name == name }) }
        let longest = try XCTUnwrap(VerdictGrids.beyondEdge(of: try dmdNamed("dmd_m14_s110_clamp_w0.75"), family: .dmd, extended: [], base: edge))
        XCTAssertEqual(longest.name, "dmd_m14_s220_clamp_w0.75")
        XCTAssertEqual(longest.learningRate, 1e-3, "it rides on the same Adam configuration")
        guard case .dmd(let settings) = longest.accelerator else { return XCTFail("not a DMD configuration") }
        XCTAssertEqual(settings.steps, 220); XCTAssertEqual(settings.snapshotCount, 14); XCTAssertTrue(settings.clampEigenvalues); XCTAssertEqual(settings.relaxation, 0.75)
        let shortest = try XCTUnwrap(VerdictGrids.beyondEdge(of: try dmdNamed("dmd_m7_s7_w1.0"), family: .dmd, extended: [], base: edge))
        XCTAssertEqual(shortest.name, "dmd_m7_s3_w1.0")
        let one = VerdictGrids.dmdMethod(on: edge, snapshots: 7, steps: 1, clamp: false, relaxation: 1)
        XCTAssertNil(VerdictGrids.beyondEdge(of: one, family: .dmd, extended: [shortest, one], base: edge), "s = 1 is the least")
        XCTAssertNil(VerdictGrids.beyondEdge(of: try dmdNamed("dmd_m21_s55_w0.5"), family: .dmd, extended: [], base: edge))
    }

    /// The committed ledger of the paper's tuning names configurations of today's grids (the same
    /// names and summaries under the study's budget and grid seed, or up to two steps beyond a grid
    /// configuration's edge; DMD rows on the Adam configuration their summary names): the grids' code
    /// may be reorganised, never changed under a study in progress.
    func testTheCommittedTuningLedgerIsInTodaysGrids() throws {
        let root = packageRoot(of: #filePath)
        let url = root.appendingPathComponent("docs/figures/verdict-paper-tuning/tuning.csv")
        let records = try TuningLedger.parse(try String(contentsOf: url, encoding: .utf8), source: url.path)
        XCTAssertFalse(records.isEmpty)
        let config = try PipelineConfig.load(root.appendingPathComponent("configs/paper.toml"))
        let lambda = try SurrogateFitStage.tunedOptions(config: config, threads: 1).weightDecay
        func withExtensions(_ grid: [AccelerationMethod], family: VerdictGrids.Family, base: AccelerationMethod? = nil) -> [AccelerationMethod] {
            grid + grid.flatMap { g -> [AccelerationMethod] in
                guard let first = VerdictGrids.beyondEdge(of: g, family: family, extended: [], base: base) else { return [] }
                return [first] + [VerdictGrids.beyondEdge(of: first, family: family, extended: [first], base: base)].compactMap { $0 }
            }
        }
        let adam = withExtensions(VerdictGrids.subsample(VerdictGrids.adam(weightDecay: lambda), budget: 30, seed: 1, family: .adam), family: .adam)
        let grid = adam + withExtensions(VerdictGrids.subsample(VerdictGrids.scheduleFree(weightDecay: lambda), budget: 30, seed: 1, family: .scheduleFree),
                                         family: .scheduleFree)
        for r in records {
            var candidates = grid
            if r.family == .dmd {
                let base = try XCTUnwrap(adam.first { r.summary.hasSuffix(" on " + $0.summary) }, "\(r.method): no Adam configuration under it")
                candidates = withExtensions(VerdictGrids.subsample(VerdictGrids.dmd(on: base), budget: 30, seed: 1, family: .dmd), family: .dmd, base: base)
            }
            let m = try XCTUnwrap(candidates.first { $0.name == r.method }, "\(r.method) is not in the grids")
            XCTAssertEqual(m.summary, r.summary, r.method)
        }
    }

    /// The edge rule inside `tune`, with an executor that writes a constant validation curve whose
    /// level is a known function of the configuration: Adam's best grid point (lr 1e-3) is at the
    /// edge, 5e-4 and then 2.5e-4 are better (the bound of two stops there); schedule-free's best
    /// (3e-3) is inside; DMD's best (s = 110) is at the edge, 220 is better, 440 is not.
    func testTuneTriesBeyondTheGridsEdge() throws {
        let (data, config) = try AccelerationStudyTests.makeData()
        defer { try? FileManager.default.removeItem(at: data) }
        func level(_ m: AccelerationMethod) -> Double {
            let lr = m.learningRate ?? 1
            if case .dmd(let d) = m.accelerator { return 1 + abs(Foundation.log(d.steps / 300)) + 1e-3 * Double(d.snapshotCount) + (d.clampEigenvalues ? 1e-4 : 0) + 1e-5 * d.relaxation }
            let tie = 1e-3 * Double(m.batchSize ?? 0) / 16 + 1e-4 * Double(VerdictGrids.schedules.firstIndex(of: m.schedule ?? .constant) ?? 0)
                + ((m.weightDecay ?? 0) > 0 ? 1e-5 : 0)
            return abs(Foundation.log(lr / (m.scheduleFree == true ? 3e-3 : 2e-4))) + tie
        }
        let log = ExecutedRuns()
        let executor: PairedStudy.Executor = { runs, finished in
            for (spec, folder) in runs {
                log.names.append(spec.folderName)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let v = level(spec.method)
                let rows = (0...spec.epochs).map { AccelerationEpoch(epoch: $0, trainMSE: v, validationMSE: v, cpuSeconds: 0, wallSeconds: 0, gradientEvaluations: 0) }
                try AtomicFile.write(([AccelerationEpoch.header] + rows.map(\.csvLine)).joined(separator: "\n") + "\n",
                                     to: folder.appendingPathComponent(AccelerationRun.historyFile))
                let result = AccelerationRunResult(spec: spec, status: .completed, message: nil, epochsRun: spec.epochs, cpuSeconds: 0, wallSeconds: 0,
                                                   bestValidationMSE: v, bestEpoch: 1, testRelativeL2Median: nil, testRelativeL2P95: nil)
                try AtomicFile.write(try AccelerationRun.encodeJSON(result), to: folder.appendingPathComponent(AccelerationRun.resultFile))
                finished()
            }
        }
        let settings = PairedStudy.Settings(epochs: 12, evaluationSeeds: [0], tuningSeeds: [1000], budget: nil, window: 3)
        let choice = try PairedStudy.tune(config: config, dataDirectory: data, root: data.appendingPathComponent("verdict"), settings: settings, executor: executor)
        let beyond = log.names.filter { name in !(VerdictGrids.adam(weightDecay: 1e-4) + VerdictGrids.scheduleFree(weightDecay: 1e-4)
                                                  + VerdictGrids.dmd(on: choice.adam)).contains { "\($0.name)/seed_1000" == name } }
        XCTAssertEqual(beyond, ["adam_lr5e-4_b16_constant/seed_1000", "adam_lr2.5e-4_b16_constant/seed_1000",
                                "dmd_m7_s220_w0.5/seed_1000", "dmd_m7_s440_w0.5/seed_1000"])
        XCTAssertEqual(log.names.count, 90 + 30 + 90 + 4)
        XCTAssertEqual(choice.adam.name, "adam_lr2.5e-4_b16_constant")
        XCTAssertEqual(choice.scheduleFree.name, "sf_lr3e-3_b16_wd0")
        XCTAssertEqual(choice.dmd.name, "dmd_m7_s220_w0.5")
        XCTAssertEqual(choice.dmd.learningRate, 2.5e-4)
        XCTAssertEqual(choice.scores[choice.adam.name]!, level(choice.adam), accuracy: 1e-12)
        let table = try String(contentsOf: data.appendingPathComponent("verdict/tuning/tuning.csv"), encoding: .utf8)
        XCTAssertTrue(table.contains("dmd_m7_s440_w0.5,1000"), "the runs beyond the edge are in the ledger")
        // Resumed, nothing runs again and the choice is the same.
        log.names = []
        XCTAssertEqual(try PairedStudy.tune(config: config, dataDirectory: data, root: data.appendingPathComponent("verdict"), settings: settings, executor: executor), choice)
        XCTAssertEqual(log.names, [])
    }

    /// The names of the runs an executor made, in order.
    final class ExecutedRuns { var names: [String] = [] }

    /// Runs each run in this process, in order, recording its name in `log`.
    static func executor(prepared: SurrogateFitStage.Prepared, config: PipelineConfig, log: ExecutedRuns) -> PairedStudy.Executor {
        { runs, finished in
            for (spec, folder) in runs {
                log.names.append(spec.folderName)
                try AccelerationRun.execute(spec, prepared: prepared, config: config, folder: folder)
                finished()
            }
        }
    }

    func testSeedsMustBeDisjoint() {
        XCTAssertThrowsError(try PairedStudy.Settings(epochs: 30, evaluationSeeds: [0, 1], tuningSeeds: [1]).validate()) {
            XCTAssertTrue("\($0)".contains("disjoint"), "\($0)")
        }
    }

    func testTuneEvaluateAndResumeBitForBit() throws {
        let (data, config) = try AccelerationStudyTests.makeData()
        defer { try? FileManager.default.removeItem(at: data) }
        let root = data.appendingPathComponent("verdict")
        let prepared = try SurrogateFitStage.prepare(config: config, dataDirectory: data)
        let log = ExecutedRuns()
        let executor = Self.executor(prepared: prepared, config: config, log: log)
        let settings = PairedStudy.Settings(epochs: 24, evaluationSeeds: [0, 1, 2], tuningSeeds: [1000], budget: 2, window: 3,
                                            resamples: 200, costRepetitions: 1, costBlockEpochs: 2)
        let choice = try PairedStudy.tune(config: config, dataDirectory: data, root: root, settings: settings, executor: executor)
        // 2 configurations per family, one tuning seed, and the runs of the edge rule (`testTuneTriesBeyondTheGridsEdge`).
        let gridRuns = (VerdictGrids.adam(weightDecay: 1e-4) + VerdictGrids.scheduleFree(weightDecay: 1e-4) + VerdictGrids.dmd(on: choice.adam))
            .map { "\($0.name)/seed_1000" }
        let beyond = log.names.filter { !gridRuns.contains($0) }
        XCTAssertEqual(log.names.count - beyond.count, 6)
        XCTAssertLessThanOrEqual(beyond.count, 3 * VerdictGrids.edgeExtensions)
        let tuned = log.names.count
        // The choice is the lowest score of its family.
        let adamScores: [Double] = choice.scores.filter { $0.key.hasPrefix("adam") }.map { $0.value }
        XCTAssertEqual(choice.scores[choice.adam.name], adamScores.min())
        XCTAssertTrue(choice.scheduleFree.scheduleFree == true)
        if case .dmd = choice.dmd.accelerator {} else { XCTFail("the DMD choice has no DMD jump") }
        XCTAssertEqual(choice.dmd.learningRate, choice.adam.learningRate)
        XCTAssertEqual(try PairedStudy.readChoice(root: root), choice)

        // The tuning folder is a ledger: a new study folder that imports it runs nothing and chooses the same.
        log.names = []
        let elsewhere = data.appendingPathComponent("verdict-elsewhere")
        let ledger = root.appendingPathComponent(PairedStudy.tuningFolder)
        let again = try PairedStudy.tune(config: config, dataDirectory: data, root: elsewhere, settings: settings, executor: executor, ledger: ledger)
        XCTAssertEqual(log.names, [], "every tuning run comes from the ledger")
        XCTAssertEqual(again, choice)
        XCTAssertEqual(try String(contentsOf: elsewhere.appendingPathComponent("tuning/tuning.csv"), encoding: .utf8),
                       try String(contentsOf: ledger.appendingPathComponent("tuning.csv"), encoding: .utf8))
        // A ledger with one run lost: only that run is made, and the choice is the same.
        let partial = data.appendingPathComponent("ledger-partial")
        let records = try TuningLedger.parse(try String(contentsOf: ledger.appendingPathComponent("tuning.csv"), encoding: .utf8), source: "tuning.csv")
        XCTAssertEqual(records.count, tuned)
        try TuningLedger.export(Array(records.dropLast()), setup: try AccelerationStudy.setup(config: config, dataDirectory: data, epochs: 24),
                                settings: TuningLedger.Settings(window: 3, epochs: 24), to: partial)
        let third = try PairedStudy.tune(config: config, dataDirectory: data, root: data.appendingPathComponent("verdict-third"), settings: settings,
                                         executor: executor, ledger: partial)
        XCTAssertEqual(log.names, ["\(records.last!.method)/seed_1000"])
        XCTAssertEqual(third, choice)
        // Another window, or another setup, is refused by name; so is a malformed line.
        var otherWindow = settings; otherWindow.window = 4
        XCTAssertThrowsError(try PairedStudy.tune(config: config, dataDirectory: data, root: data.appendingPathComponent("verdict-4"), settings: otherWindow,
                                                  executor: executor, ledger: ledger)) { XCTAssertTrue("\($0)".contains("ledger.json") && "\($0)".contains("window of 3"), "\($0)") }
        var otherSetup = try AccelerationStudy.setup(config: config, dataDirectory: data, epochs: 24)
        otherSetup.inputs[otherSetup.inputs.keys.sorted()[0]] = String(repeating: "0", count: 64)
        try TuningLedger.export(records, setup: otherSetup, settings: TuningLedger.Settings(window: 3, epochs: 24), to: partial)
        XCTAssertThrowsError(try PairedStudy.tune(config: config, dataDirectory: data, root: data.appendingPathComponent("verdict-5"), settings: settings,
                                                  executor: executor, ledger: partial)) { XCTAssertTrue("\($0)".contains("SHA-256") && "\($0)".contains("setup.json"), "\($0)") }
        var otherKernel = try AccelerationStudy.setup(config: config, dataDirectory: data, epochs: 24)
        XCTAssertEqual(otherKernel.blasCore, BLASThreads.coreName)
        otherKernel.blasCore = "NotThisKernel"
        try TuningLedger.export(records, setup: otherKernel, settings: TuningLedger.Settings(window: 3, epochs: 24), to: partial)
        XCTAssertThrowsError(try PairedStudy.tune(config: config, dataDirectory: data, root: data.appendingPathComponent("verdict-6"), settings: settings,
                                                  executor: executor, ledger: partial)) { XCTAssertTrue("\($0)".contains("OPENBLAS_CORETYPE=NotThisKernel"), "\($0)") }
        XCTAssertThrowsError(try TuningLedger.parse(TuningLedger.header + "\nadam,x,1000,completed,ten,0.1,0.1,\"s\"\n", source: "t.csv")) {
            XCTAssertTrue("\($0)".contains("t.csv, line 2"), "\($0)")
        }
        XCTAssertThrowsError(try TuningLedger.parse("a,b\n", source: "t.csv")) { XCTAssertTrue("\($0)".contains("not a tuning table"), "\($0)") }

        log.names = []
        let first = try PairedStudy.evaluate(config: config, dataDirectory: data, root: root, settings: settings, executor: executor)
        XCTAssertEqual(log.names.count, 3 * 8)
        XCTAssertNotNil(first.costs)
        let base = first.runs.filter { $0.method == choice.adam.name }
        XCTAssertEqual(base.count, 3)
        XCTAssertTrue(base.allSatisfy { $0.epochsRun == 24 })
        // T is the median seed's best moving average; every other run stops where its moving average first reaches T.
        let bestAverages: [Double] = base.map { $0.bestMovingAverage }
        XCTAssertEqual(first.target, bestAverages.sorted()[1])
        for run in first.runs where run.method != choice.adam.name {
            if let hit = run.hits[0] { XCTAssertEqual(hit.epoch, run.epochsRun, run.method) } else { XCTAssertEqual(run.epochsRun, 24, run.method) }
            XCTAssertNotNil(run.testRelativeL2Median, run.method)
        }
        // The baseline against itself: every ratio 1, so the interval is the point.
        let own = try XCTUnwrap(first.rows.first { $0.method == choice.adam.name && $0.level == 2 })
        if own.reached > 0 {
            XCTAssertEqual(own.epochRatio?.lower, 1); XCTAssertEqual(own.epochRatio?.upper, 1)
        }
        for name in [PairedSummary.runsTable, PairedSummary.table, PairedSummary.markdownFile, PairedSummary.figureFile, PairedStudy.costFile] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("evaluation/\(name)").path), name)
        }
        let folder = root.appendingPathComponent("evaluation/runs")
        func histories(_ s: PairedSummary) throws -> [[AccelerationEpoch]] {
            try s.runs.map { try AccelerationRun.readHistory(folder.appendingPathComponent("\($0.method)/seed_\($0.seed)")) }
        }
        let before = try histories(first)

        // The evaluation folder is a ledger: a study folder elsewhere (the same tuning, the cost copied) that
        // imports it makes no run and reaches the same target, hits and intervals.
        let fm = FileManager.default
        let moved = data.appendingPathComponent("verdict-moved"), evaluationLedger = root.appendingPathComponent(PairedStudy.evaluationFolder)
        try fm.createDirectory(at: moved.appendingPathComponent(PairedStudy.evaluationFolder), withIntermediateDirectories: true)
        try fm.copyItem(at: root.appendingPathComponent(PairedStudy.tuningFolder), to: moved.appendingPathComponent(PairedStudy.tuningFolder))
        try fm.copyItem(at: evaluationLedger.appendingPathComponent(PairedStudy.costFile),
                        to: moved.appendingPathComponent(PairedStudy.evaluationFolder).appendingPathComponent(PairedStudy.costFile))
        log.names = []
        let copied = try PairedStudy.evaluate(config: config, dataDirectory: data, root: moved, settings: settings, executor: executor, ledger: evaluationLedger)
        XCTAssertEqual(log.names, [], "every evaluation run comes from the ledger")
        XCTAssertEqual(copied.target, first.target)
        XCTAssertEqual(copied.runs.map { $0.hits.map { $0?.epoch } }, first.runs.map { $0.hits.map { $0?.epoch } })
        for (a, b) in zip(copied.rows, first.rows) {
            XCTAssertEqual(a.epochRatio, b.epochRatio, a.method); XCTAssertEqual(a.speedup, b.speedup, a.method)
        }
        XCTAssertEqual(try EvaluationLedger.importRuns(from: evaluationLedger, into: moved.appendingPathComponent(PairedStudy.evaluationFolder),
                                                       setup: try AccelerationStudy.setup(config: config, dataDirectory: data, epochs: 24)), [],
                       "a run already there is not copied again")
        // A ledger of another setup, or with a run's history lost, is refused by name.
        let damaged = data.appendingPathComponent("ledger-damaged")
        try fm.copyItem(at: evaluationLedger, to: damaged)
        let runFolder = damaged.appendingPathComponent("runs/rre/seed_1")
        try fm.removeItem(at: runFolder.appendingPathComponent(AccelerationRun.historyFile))
        var otherEpochs = try AccelerationStudy.setup(config: config, dataDirectory: data, epochs: 24)
        otherEpochs.epochs = 30
        try AtomicFile.write(try AccelerationRun.encodeJSON(otherEpochs), to: damaged.appendingPathComponent(AccelerationStudy.setupFile))
        let fresh = data.appendingPathComponent("verdict-fresh/evaluation")
        let current = try AccelerationStudy.setup(config: config, dataDirectory: data, epochs: 24)
        XCTAssertThrowsError(try EvaluationLedger.importRuns(from: damaged, into: fresh, setup: current)) {
            XCTAssertTrue("\($0)".contains("setup.json") && "\($0)".contains("epochs 30 ≠ 24"), "\($0)")
        }
        try AtomicFile.write(try AccelerationRun.encodeJSON(current), to: damaged.appendingPathComponent(AccelerationStudy.setupFile))
        XCTAssertThrowsError(try EvaluationLedger.importRuns(from: damaged, into: fresh, setup: current)) {
            XCTAssertTrue("\($0)".contains("rre/seed_1") && "\($0)".contains("history.csv missing"), "\($0)")
        }

        // An interrupted evaluation: one run lost its result, one never started.
        try FileManager.default.removeItem(at: folder.appendingPathComponent("rre/seed_1/result.json"))
        try FileManager.default.removeItem(at: folder.appendingPathComponent("\(choice.dmd.name)/seed_2"))
        log.names = []
        let second = try PairedStudy.evaluate(config: config, dataDirectory: data, root: root, settings: settings, executor: executor)
        XCTAssertEqual(log.names.sorted(), ["\(choice.dmd.name)/seed_2", "rre/seed_1"].sorted(), "only the missing runs are redone")
        let after = try histories(second)
        XCTAssertEqual(before.count, after.count)
        for (a, b) in zip(before, after) {
            XCTAssertEqual(a.map(\.validationMSE), b.map(\.validationMSE))
            XCTAssertEqual(a.map(\.trainMSE), b.map(\.trainMSE))
            XCTAssertEqual(a.map(\.gradientEvaluations), b.map(\.gradientEvaluations))
        }
        XCTAssertEqual(second.target, first.target)
        let l2First: [Double?] = first.runs.map { $0.testRelativeL2Median }, l2Second: [Double?] = second.runs.map { $0.testRelativeL2Median }
        XCTAssertEqual(l2Second, l2First)
        for (a, b) in zip(first.runs, second.runs) {
            let hitsA: [Int?] = a.hits.map { $0?.epoch }, hitsB: [Int?] = b.hits.map { $0?.epoch }
            XCTAssertEqual(hitsA, hitsB, a.method)
        }
        for (a, b) in zip(first.rows, second.rows) { XCTAssertEqual(a.epochRatio, b.epochRatio, a.method) }

        // An evaluation over another horizon than the tuning's is refused, naming the tuning's setup.
        var longer = settings; longer.epochs = 30
        XCTAssertThrowsError(try PairedStudy.evaluate(config: config, dataDirectory: data, root: root, settings: longer, executor: executor)) {
            XCTAssertTrue("\($0)".contains("tuning/setup.json"), "\($0)")
        }

        // `evaluate`'s report finds the study in DATA/verdict and shows its table.
        var metrics: [String: JSONValue] = [:]
        let blocks = try EvaluationReport.pairedStudySection(dataPath: data.path, metrics: &metrics)
        XCTAssertEqual(blocks.first, .heading(2, "Paired acceleration study"))
        XCTAssertEqual(metrics["paired_study"]?["target"]?.number, second.target)
        guard case .table(let table)? = blocks.dropFirst(2).first else { return XCTFail("no table") }
        XCTAssertEqual(table.rows.count, 8 * settings.levels.count)
    }

    /// The reduced protocol of a large dataset: the choice of a tuning on other data, evaluated here on a
    /// subset of the methods; then one more method, made alone.
    func testTransferredChoiceEvaluatesChosenMethodsOnOtherData() throws {
        let (data, config) = try AccelerationStudyTests.makeData()
        defer { try? FileManager.default.removeItem(at: data) }
        let prepared = try SurrogateFitStage.prepare(config: config, dataDirectory: data)
        let log = ExecutedRuns()
        func executor(_ prepared: SurrogateFitStage.Prepared) -> PairedStudy.Executor { Self.executor(prepared: prepared, config: config, log: log) }
        var settings = PairedStudy.Settings(epochs: 24, evaluationSeeds: [0, 1, 2], tuningSeeds: [1000], budget: 1, window: 3,
                                            resamples: 200, costRepetitions: 1, costBlockEpochs: 2)
        let tuned = data.appendingPathComponent("verdict-small")
        let choice = try PairedStudy.tune(config: config, dataDirectory: data, root: tuned, settings: settings, executor: executor(prepared))
        // The other dataset: the same parameters, c3 doubled.
        let other = data.appendingPathComponent("other")
        for sub in ["samples", "fem"] { try FileManager.default.createDirectory(at: other.appendingPathComponent(sub), withIntermediateDirectories: true) }
        for f in ["samples/params.npy", "samples/split.npy", "fem/status.npy"] {
            try FileManager.default.copyItem(at: data.appendingPathComponent(f), to: other.appendingPathComponent(f))
        }
        let c3 = try Npy.read(Double.self, from: data.appendingPathComponent("fem/c3.npy"))
        try Npy.write(c3.values.map { 2 * $0 }, shape: c3.shape, to: other.appendingPathComponent("fem/c3.npy"))
        let otherPrepared = try SurrogateFitStage.prepare(config: config, dataDirectory: other)
        let root = other.appendingPathComponent("verdict")
        let setup = try AccelerationStudy.setup(config: config, dataDirectory: other, epochs: 24)
        XCTAssertNotEqual(setup.inputs, try AccelerationStudy.setup(config: config, dataDirectory: data, epochs: 24).inputs)
        XCTAssertEqual(try PairedStudy.transferChoice(from: tuned.appendingPathComponent("tuning"), root: root, setup: setup), choice)
        XCTAssertEqual(try PairedStudy.readChoice(root: root, setup: setup), choice)

        settings.methods = ["dmd"]
        log.names = []
        let first = try PairedStudy.evaluate(config: config, dataDirectory: other, root: root, settings: settings, executor: executor(otherPrepared))
        XCTAssertEqual(log.names.count, 6, "the baseline and DMD on three seeds")
        XCTAssertEqual(Set(first.rows.map(\.method)), [choice.adam.name, choice.dmd.name])
        XCTAssertEqual(Set(first.costs?.entries.map(\.method) ?? []), [choice.adam.name, choice.dmd.name])
        let markdown = try String(contentsOf: root.appendingPathComponent("evaluation/verdict.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("transferred here") && markdown.contains(tuned.path), markdown)
        // One more method: only its runs are made, and the cost benchmark is measured again to include it.
        settings.methods = ["dmd", "rre"]
        log.names = []
        let second = try PairedStudy.evaluate(config: config, dataDirectory: other, root: root, settings: settings, executor: executor(otherPrepared))
        XCTAssertEqual(log.names.sorted(), ["rre/seed_0", "rre/seed_1", "rre/seed_2"])
        XCTAssertEqual(Set(second.costs?.entries.map(\.method) ?? []), [choice.adam.name, choice.dmd.name, "rre"])
        XCTAssertEqual(second.target, first.target)

        // Refused: tuning into the study, a choice tuned over another horizon, a study folder with its own tuning, an unknown method.
        XCTAssertThrowsError(try PairedStudy.tune(config: config, dataDirectory: other, root: root, settings: settings, executor: executor(otherPrepared))) {
            XCTAssertTrue("\($0)".contains("transfer.json"), "\($0)")
        }
        var longer = setup; longer.epochs = 30
        XCTAssertThrowsError(try PairedStudy.transferChoice(from: tuned.appendingPathComponent("tuning"), root: other.appendingPathComponent("v2"), setup: longer)) {
            XCTAssertTrue("\($0)".contains("epochs (the tuning's 24, here 30)"), "\($0)")
        }
        XCTAssertThrowsError(try PairedStudy.transferChoice(from: tuned.appendingPathComponent("tuning"), root: tuned, setup: setup)) {
            XCTAssertTrue("\($0)".contains("own tuning"), "\($0)")
        }
        XCTAssertThrowsError(try PairedStudy.transferChoice(from: other.appendingPathComponent("nowhere"), root: other.appendingPathComponent("v3"), setup: setup)) {
            XCTAssertTrue("\($0)".contains("nowhere/setup.json: missing"), "\($0)")
        }
        settings.methods = ["dmd", "nope"]
        XCTAssertThrowsError(try settings.validate()) { XCTAssertTrue("\($0)".contains("unknown method 'nope'"), "\($0)") }
        _ = prepared
    }

    /// Under the paired protocol the seed carves the validation split: two seeds, two splits of the same rows.
    func testTheSeedCarvesTheValidationSplit() throws {
        let (data, config) = try AccelerationStudyTests.makeData()
        defer { try? FileManager.default.removeItem(at: data) }
        let prepared = try SurrogateFitStage.prepare(config: config, dataDirectory: data)
        let method = try AccelerationMethod.named("adam")
        let a = try AccelerationRun.runData(AccelerationRunSpec(method: method, seed: 0, epochs: 5, stopAtValidationMSE: nil, paired: PairedRunSettings()),
                                            prepared: prepared, config: config)
        let b = try AccelerationRun.runData(AccelerationRunSpec(method: method, seed: 1, epochs: 5, stopAtValidationMSE: nil, paired: PairedRunSettings()),
                                            prepared: prepared, config: config)
        XCTAssertEqual(Set(a.fitRows + a.validationRows), Set(prepared.fitRows + prepared.validationRows))
        XCTAssertEqual(Set(b.fitRows + b.validationRows), Set(prepared.fitRows + prepared.validationRows))
        XCTAssertNotEqual(a.validationRows, b.validationRows)
        XCTAssertEqual(a.validationRows.count, b.validationRows.count)
        let unpaired = try AccelerationRun.runData(AccelerationRunSpec(method: method, seed: 1, epochs: 5, stopAtValidationMSE: nil), prepared: prepared, config: config)
        XCTAssertEqual(unpaired.validationRows, prepared.validationRows)
    }
}
