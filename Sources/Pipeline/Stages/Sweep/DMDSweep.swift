import NumericalFoundations
import Surrogates
import Foundation

/// The values of m or s in a sweep: "a:b:c" (a, a+c, … ≤ b), "a:b" (step 1), "a,b,c" or "a".
public enum SweepRange {
    public static func parse(_ text: String, name: String, minimum: Int) throws -> [Int] {
        func fail(_ why: String) -> DMDTrainingError {
            DMDTrainingError("--\(name) \"\(text)\": \(why); expected start:stop:step (e.g. 2:20:2), start:stop, a comma-separated list or one integer")
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var values: [Int]
        if trimmed.contains(":") {
            let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ $0 != nil }) else { throw fail("not integers separated by ':'") }
            let start = parts[0]!, stop = parts[1]!, step = parts.count == 3 ? parts[2]! : 1
            guard step >= 1 else { throw fail("the step must be at least 1") }
            guard stop >= start else { throw fail("stop \(stop) is below start \(start)") }
            values = Array(stride(from: start, through: stop, by: step))
        } else {
            let parts = trimmed.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { throw fail("not integers") }
            values = parts.map { $0! }
        }
        if let bad = values.first(where: { $0 < minimum }) { throw fail("\(bad) is below the smallest allowed value \(minimum)") }
        guard Set(values).count == values.count else { throw fail("a value appears twice") }
        guard values.count <= 10_000 else { throw fail("more than 10 000 values") }
        return values
    }
}

/// The outcome of one (m, s) run of a sweep, as stored in `pairs/m<m>_s<s>.json`.
public struct SweepPairResult: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// Trained all epochs.
        case finished
        /// A jump (or the training) made the MSE non-finite; the mean relative errors are +∞.
        case diverged
    }
    public var m: Int
    public var s: Int
    public var status: Status
    public var jumps: Int
    /// Plain mean over the jumps of MSE after / MSE before (formulation.md §5, the paper's Figure 3).
    public var meanRelativeErrorTrain: Double?
    public var meanRelativeErrorTest: Double?
    public var finalTrainMSE: Double?
    public var finalTestMSE: Double?
    public var epochsCompleted: Int
    /// Training wall time of the run (summed over resumed sessions).
    public var wallSeconds: Double
    public var message: String?
}

/// The (m, s) study of the paper's Figure 3: Algorithm 1 for every pair of a grid, on the
/// same data and network, `concurrentRuns` runs at a time (one per core, one OpenBLAS thread each),
/// and the mean relative error of each run's jumps on the training and test sets.
///
/// Folder (`directory`, e.g. DATA/sweep):
/// - `setup.json`: everything the results depend on except the grid; a rerun with another setup is refused.
/// - `pairs/m<m>_s<s>.json`: one finished pair (`SweepPairResult`), written atomically when the run
///   ends: a rerun skips it. A run interrupted midway resumes from its checkpoint in `runs/`.
/// - `runs/m<m>_s<s>/`: the run's folder while it trains; when it ends only `history.csv` and
///   `jumps.csv` are kept (the model files and checkpoint are deleted).
/// - `sweep.npy` (Nm × Ns × 2 float64: [i, j, 0] the mean relative error on the training set of
///   (m_i, s_j), [i, j, 1] on the test set; NaN where not run, +∞ where the run diverged),
///   `m_values.npy`, `s_values.npy` (int64), `sweep.csv`: rewritten after every finished pair.
public final class DMDSweep: @unchecked Sendable {
    public struct Setup: Sendable {
        public var dataset: SurrogateDataset
        /// The network and trainer of every run (`epochs` = the sweep's; the thread count is set to 1).
        public var run: TrainingRunSettings
        /// Algorithm 1 apart from m and s (which the grid sets); jump losses are always recorded.
        public var dmd: DMDTrainingSettings
        public var mValues: [Int]
        public var sValues: [Int]
        public var directory: URL
        public var concurrentRuns: Int

        public init(dataset: SurrogateDataset, run: TrainingRunSettings, dmd: DMDTrainingSettings, mValues: [Int], sValues: [Int],
                    directory: URL, concurrentRuns: Int = 2) {
            self.dataset = dataset; self.run = run; self.dmd = dmd; self.mValues = mValues; self.sValues = sValues
            self.directory = directory; self.concurrentRuns = concurrentRuns
        }
    }

    public struct Summary: Sendable {
        public var results: [SweepPairResult]
        /// Pairs found finished from an earlier invocation.
        public var skipped: Int
        public var ran: Int
        public var outputs: [URL]
    }

    public static let arrayFile = "sweep.npy"
    public static let mValuesFile = "m_values.npy"
    public static let sValuesFile = "s_values.npy"
    public static let csvFile = "sweep.csv"
    public static let setupFile = "setup.json"

    public let setup: Setup
    private let lock = NSLock()

    public init(_ setup: Setup) throws {
        guard !setup.mValues.isEmpty, !setup.sValues.isEmpty else { throw DMDTrainingError("the sweep grid is empty") }
        guard setup.mValues.allSatisfy({ $0 >= 2 }) else { throw DMDTrainingError("every m of the sweep must be at least 2") }
        guard setup.sValues.allSatisfy({ $0 >= 0 }) else { throw DMDTrainingError("every s of the sweep must be at least 0") }
        guard setup.concurrentRuns >= 1 else { throw DMDTrainingError("concurrent runs must be at least 1") }
        var s = setup
        s.run.trainer.threads = 1
        s.run.stopAfterEpoch = nil
        s.dmd.recordJumpLosses = true
        self.setup = s
    }

    public static func pairName(m: Int, s: Int) -> String { "m\(m)_s\(s)" }
    func pairURL(m: Int, s: Int) -> URL { setup.directory.appendingPathComponent("pairs/\(Self.pairName(m: m, s: s)).json") }
    func runURL(m: Int, s: Int) -> URL { setup.directory.appendingPathComponent("runs/\(Self.pairName(m: m, s: s))", isDirectory: true) }

    /// What the results depend on besides (m, s): written once, compared on every rerun (all values
    /// as text, so that the comparison is exact).
    func setupDescription() throws -> [String: String] {
        let r = setup.run
        var dmd = setup.dmd
        dmd.snapshotCount = 0
        dmd.steps = 0
        var d: [String: String] = [
            "format": "dmd-sweep-setup v1",
            "epochs": "\(r.epochs)",
            "network": "\([setup.dataset.parameterWidth] + r.hiddenWidths + [setup.dataset.observationWidth]) \(r.activation.rawValue) \(r.precision.rawValue)",
            "network_seed": "\(r.networkSeed)",
            "batch_size": "\(r.trainer.batchSize)",
            "adam": "lr \(r.trainer.adam.learningRate) beta1 \(r.trainer.adam.beta1) beta2 \(r.trainer.adam.beta2) epsilon \(r.trainer.adam.epsilon)",
            "shuffle_seed": "\(r.trainer.shuffleSeed)",
            "output_std_floor": "\(r.outputStandardDeviationFloor)",
            "input_ranges": r.inputRanges.map { "[\($0.lowerBound), \($0.upperBound)]" }.joined(separator: " "),
            "dmd": dmd.fingerprint,
            "samples": "\(setup.dataset.trainIndices.count) train, \(setup.dataset.testIndices.count) test",
        ]
        for url in setup.dataset.files {
            d["input " + url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent] = try SHA256Digest.hex(ofFile: url)
        }
        return d
    }

    /// Runs every pair not finished yet. `progress(pairName, epochsDone)` reports epochs as they end
    /// (from the worker threads; `epochsDone` counts epochs since the previous call for that pair),
    /// `pairFinished` each finished pair, `log` one-line remarks.
    public func run(progress: @escaping (String, Int) -> Void = { _, _ in },
                    pairFinished: @escaping (SweepPairResult) -> Void = { _ in },
                    log: @escaping (String) -> Void = { _ in }) throws -> Summary {
        let fm = FileManager.default
        try fm.createDirectory(at: setup.directory, withIntermediateDirectories: true)
        let setupURL = setup.directory.appendingPathComponent(Self.setupFile)
        let description = try setupDescription()
        if fm.fileExists(atPath: setupURL.path) {
            let existing: [String: String]
            do { existing = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: setupURL)) } catch {
                throw ArrayFileError(path: setupURL.path, "unreadable sweep setup (\(error)); remove the folder to start the sweep afresh")
            }
            guard existing == description else {
                let differing = Set(existing.keys).union(description.keys).sorted().filter { existing[$0] != description[$0] }
                throw DMDTrainingError("\(setup.directory.path) holds a sweep of another setup (differs in: \(differing.joined(separator: ", "))); "
                                   + "use another --out folder, or remove it to start afresh")
            }
        } else {
            try AtomicFile.writeJSON(description, to: setupURL)
        }

        var pending: [(m: Int, s: Int)] = []
        var skipped = 0
        for m in setup.mValues {
            for s in setup.sValues {
                if try loadPair(m: m, s: s) != nil { skipped += 1 } else { pending.append((m, s)) }
            }
        }
        if skipped > 0 { log("\(skipped) of \(setup.mValues.count * setup.sValues.count) pairs already done; \(pending.count) to run") }
        try writeArrays()

        var firstError: Error? = nil
        var ran = 0
        // The pairs in grid order from the shared queue; after the first error the rest are skipped.
        ParallelWork.forEachItem(count: pending.count, threads: setup.concurrentRuns) { index in
            lock.lock()
            let stopped = firstError != nil
            lock.unlock()
            guard !stopped else { return }
            let pair = pending[index]
            do {
                let result = try runPair(m: pair.m, s: pair.s, progress: progress, log: log)
                lock.lock()
                ran += 1
                let arrays = Result { try writeArrays() }
                lock.unlock()
                _ = try arrays.get()
                pairFinished(result)
            } catch {
                lock.lock()
                if firstError == nil { firstError = error }
                lock.unlock()
            }
        }
        if let firstError { throw firstError }
        let outputs = try writeArrays()
        let results = try setup.mValues.flatMap { m in try setup.sValues.compactMap { s in try loadPair(m: m, s: s) } }
        return Summary(results: results, skipped: skipped, ran: ran, outputs: outputs)
    }

    /// The pairs of the grid without a finished record yet.
    public func pendingPairs() throws -> [(m: Int, s: Int)] {
        try setup.mValues.flatMap { m in try setup.sValues.compactMap { s in try loadPair(m: m, s: s) == nil ? (m, s) : nil } }
    }

    func loadPair(m: Int, s: Int) throws -> SweepPairResult? {
        let url = pairURL(m: m, s: s)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            let result = try TrainingCheckpoint.decoder().decode(SweepPairResult.self, from: Data(contentsOf: url))
            guard result.m == m, result.s == s else { throw DMDTrainingError("it records m = \(result.m), s = \(result.s)") }
            return result
        } catch {
            throw ArrayFileError(path: url.path, "unreadable sweep result (\(error)); delete the file to rerun this pair")
        }
    }

    /// One run of Algorithm 1 with (m, s), resumed from its checkpoint if an earlier invocation was interrupted.
    func runPair(m: Int, s: Int, progress: @escaping (String, Int) -> Void, log: @escaping (String) -> Void) throws -> SweepPairResult {
        let name = Self.pairName(m: m, s: s)
        let folder = runURL(m: m, s: s)
        var dmd = setup.dmd
        dmd.snapshotCount = m
        dmd.steps = Double(s)
        dmd.annealingEpochs = setup.run.epochs
        let layout = try NetworkLayout(widths: [setup.dataset.parameterWidth] + setup.run.hiddenWidths + [setup.dataset.observationWidth],
                                       activation: setup.run.activation)
        let hook = try DMDAccelerator(settings: dmd, layout: layout, eigenvalueDirectory: nil, copyThreads: 1,
                                      log: { log("\(name): " + $0) })
        let resume = FileManager.default.fileExists(atPath: folder.appendingPathComponent(TrainingCheckpoint.fileName).path)
        if resume { log("\(name): resuming from its checkpoint") }
        var reported = 0
        var lastRow: HistoryRow? = nil
        var status = SweepPairResult.Status.finished
        var message: String? = nil
        do {
            let report = try TrainingRun.execute(dataset: setup.dataset, settings: setup.run, modelDirectory: folder, resume: ResumePolicy(resume), hook: hook,
                                                 progress: { row, _ in
                                                     lastRow = row
                                                     if row.epoch > reported { progress(name, row.epoch - reported); reported = row.epoch }
                                                 }, notice: { log("\(name): " + $0) })
            lastRow = report.lastRow
            try AtomicFile.write(DMDJump.csv(hook.jumps), to: folder.appendingPathComponent("jumps.csv"))
        } catch let error where Self.isDivergence(error) {
            status = .diverged
            message = "\(error)"
            log("\(name): diverged: \(error)")
            try AtomicFile.write(DMDJump.csv(hook.jumps), to: folder.appendingPathComponent("jumps.csv"))
            if reported < setup.run.epochs { progress(name, setup.run.epochs - reported) }
        }
        let diverged = status == .diverged
        let result = SweepPairResult(m: m, s: s, status: status, jumps: hook.jumps.count,
                                     meanRelativeErrorTrain: diverged ? .infinity : DMDJump.meanRelativeError(hook.jumps, test: false),
                                     meanRelativeErrorTest: diverged ? .infinity : DMDJump.meanRelativeError(hook.jumps, test: true),
                                     finalTrainMSE: lastRow?.trainMSE, finalTestMSE: lastRow?.testMSE,
                                     epochsCompleted: lastRow?.epoch ?? 0, wallSeconds: lastRow?.wallSeconds ?? 0, message: message)
        try AtomicFile.write(try TrainingCheckpoint.encoder().encode(result), to: pairURL(m: m, s: s))
        // Keep the record of the run, drop the bulky model and checkpoint.
        if let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) {
            for file in names where file != TrainingRun.historyFile && file != "jumps.csv" {
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(file))
            }
        }
        return result
    }

    static func isDivergence(_ error: Error) -> Bool { error is any DivergenceError }

    /// sweep.npy, m_values.npy, s_values.npy and sweep.csv from the finished pairs.
    @discardableResult
    func writeArrays() throws -> [URL] {
        let nm = setup.mValues.count, ns = setup.sValues.count
        var values = [Double](repeating: .nan, count: nm * ns * 2)
        var lines = ["m,s,status,jumps,mean_relative_error_train,mean_relative_error_test,final_train_mse,final_test_mse,epochs,wall_seconds"]
        func cell(_ x: Double?) -> String { x.map { $0.isFinite ? "\($0)" : ($0.isNaN ? "nan" : ($0 > 0 ? "inf" : "-inf")) } ?? "" }
        for (i, m) in setup.mValues.enumerated() {
            for (j, s) in setup.sValues.enumerated() {
                guard let r = try loadPair(m: m, s: s) else {
                    lines.append("\(m),\(s),not_run,,,,,,,")
                    continue
                }
                values[(i * ns + j) * 2] = r.meanRelativeErrorTrain ?? .nan
                values[(i * ns + j) * 2 + 1] = r.meanRelativeErrorTest ?? .nan
                lines.append([String(m), String(s), r.status.rawValue, String(r.jumps), cell(r.meanRelativeErrorTrain),
                              cell(r.meanRelativeErrorTest), cell(r.finalTrainMSE), cell(r.finalTestMSE), String(r.epochsCompleted),
                              cell(r.wallSeconds)].joined(separator: ","))
            }
        }
        let d = setup.directory
        let urls = [d.appendingPathComponent(Self.arrayFile), d.appendingPathComponent(Self.mValuesFile),
                    d.appendingPathComponent(Self.sValuesFile), d.appendingPathComponent(Self.csvFile)]
        try Npy.write(values, shape: [nm, ns, 2], to: urls[0])
        try Npy.write(setup.mValues.map { Int64($0) }, shape: [nm], to: urls[1])
        try Npy.write(setup.sValues.map { Int64($0) }, shape: [ns], to: urls[2])
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: urls[3])
        return urls
    }
}
