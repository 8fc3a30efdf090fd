import Foundation
import ArgumentParser
import NumericalFoundations

/// The command line of `train-dmd study`.
public struct StudyOptions: ParsableArguments {
    public static let discussion = """
        Trains the tuned network (the recipe of `train-dmd fit`, [surrogate] tuned_*) with each method of --methods and each of --seeds seeds, on the fit's validation split. The baseline "adam" runs all --epochs epochs and sets the targets: T1 = the worst seed's best validation MSE, T2 = the same within the first third of the epochs. Every other run stops when it reaches T1.

        Methods: \(AccelerationMethod.catalog().map(\.name).joined(separator: ", ")).

        Writes into --out (default DATA/study): runs/<method>/seed_<k>/ (spec.json, history.csv with CPU and wall seconds per epoch, result.json, log.txt), study.csv (one line per run), summary.md and summary.json (one row per method: runs that reached T1/T2, median CPU seconds and epochs to them, the speed-up over the baseline with its range over seeds, the best validation MSE), study.svg/.png (best validation MSE so far against CPU seconds, median and range over seeds). Rerunning resumes: finished runs are kept. See docs/dmd-training.md.
        """

    @OptionGroup public var stage: StageOptions

    @Option(help: "Comma-separated methods (default: all; the baseline \"adam\" is always run).")
    public var methods: String?

    @Option(parsing: .unconditional, help: "Seeds per method (network initialisation and sample order offset by 0, 1, …).")
    public var seeds: Int = 3

    @Option(parsing: .unconditional, help: "Planned epochs of every run (the schedules span them).")
    public var epochs: Int = 300

    @Option(parsing: .unconditional, help: "Runs at a time (each on one core).")
    public var jobs: Int = 2

    @Option(help: "Study folder (default DATA/study).")
    public var out: String?

    public init() {}

    public func validate() throws {
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1, got \(seeds)") }
        guard epochs >= 3 else { throw ValidationError("--epochs must be at least 3, got \(epochs)") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
    }

    /// The methods of `--methods`, or the whole catalogue.
    func chosenMethods() throws -> [AccelerationMethod] {
        guard let methods else { return AccelerationMethod.catalog() }
        let names = methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw ValidationError("--methods is empty") }
        guard Set(names).count == names.count else { throw ValidationError("--methods names a method twice: \(methods)") }
        return try names.map { name in
            do { return try AccelerationMethod.named(name) } catch { throw ValidationError("--methods: \(error)") }
        }
    }
}

/// The command line of `train-dmd study-run`, which `train-dmd study` starts in a child process per run.
public struct StudyRunOptions: ParsableArguments {
    @OptionGroup public var stage: StageOptions

    @Option(help: "The run's folder, holding spec.json.")
    public var runFolder: String

    public init() {}
}

/// `train-dmd study`: the acceleration study (`AccelerationStudy`): every method × seed in a child
/// process of its own (one OpenBLAS thread each, `--jobs` at a time), so that each run's CPU clock
/// counts exactly its own work and a failing run cannot take the study down.
public enum StudyStage {
    public static func run(_ options: StudyOptions) throws {
        let config = try options.stage.loadConfig()
        let chosen = try options.chosenMethods()
        let folder = options.out.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? options.stage.dataURL.appendingPathComponent("study", isDirectory: true)
        let lock = try options.stage.lockOutput(folder)
        defer { lock.release() }
        try Provenance.verify(Provenance.chain(DataLayout(options.stage.dataURL)), root: options.stage.dataURL)
        let summary = try AccelerationStudy.run(config: config, dataDirectory: options.stage.dataURL, folder: folder, methods: chosen,
                                                seeds: options.seeds, epochs: options.epochs,
                                                executor: childProcessExecutor(options.stage, jobs: options.jobs), notice: note)
        print(summary.markdown())
        note("train-dmd study: table → \(folder.appendingPathComponent(AccelerationStudy.summaryFile).path), figure → \(folder.appendingPathComponent(AccelerationStudy.figureFile).path)")
    }

    /// Runs the pending runs as `study-run` child processes of this very executable, `jobs` at a time,
    /// in order from a shared queue.
    static func childProcessExecutor(_ stage: StageOptions, jobs: Int) -> AccelerationStudy.Executor {
        let executor = childProcessExecutorReportingEach(stage, jobs: jobs)
        return { runs in try executor(runs, {}) }
    }

    /// The same, calling `finished` (one call at a time) after each run ends.
    static func childProcessExecutorReportingEach(_ stage: StageOptions, jobs: Int) -> PairedStudy.Executor {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var baseArguments = ["study-run", "--config", stage.config, "--data-dir", stage.dataDir]
        for o in stage.overrides { baseArguments += ["--set", o] }
        return { [baseArguments] runs, finished in
            guard !runs.isEmpty else { return }
            let progress = ProgressReporter("train-dmd study runs", total: runs.count, interval: 0)
            let queue = NSLock()
            ParallelWork.forEachItem(count: runs.count, threads: jobs) { index in
                let (spec, runFolder) = runs[index]
                let outcome = launch(executable: executable, arguments: baseArguments, spec: spec, folder: runFolder)
                queue.lock()
                progress.advance(detail: "\(spec.folderName): \(outcome)")
                finished()
                queue.unlock()
            }
        }
    }

    /// Runs one study run in a child process; returns a one-line outcome (its log is log.txt in the run's folder).
    static func launch(executable: URL, arguments: [String], spec: AccelerationRunSpec, folder: URL) -> String {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try AtomicFile.write(try AccelerationRun.encodeJSON(spec), to: folder.appendingPathComponent(AccelerationRun.specFile))
            let logURL = folder.appendingPathComponent("log.txt")
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)  // FileHandle below reports a failure
            let log = try FileHandle(forWritingTo: logURL)
            defer { try? log.close() }
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments + ["--run-folder", folder.path]
            var environment = ProcessInfo.processInfo.environment
            environment["OPENBLAS_NUM_THREADS"] = "1"
            process.environment = environment
            process.standardOutput = log
            process.standardError = log
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { return "failed (exit \(process.terminationStatus); see \(logURL.path))" }
            guard let data = try? Data(contentsOf: folder.appendingPathComponent(AccelerationRun.resultFile)),
                  let result = try? AccelerationRun.decodeJSON(AccelerationRunResult.self, from: data) else { return "no result written" }
            return "\(result.status.rawValue) after \(result.epochsRun) epochs, \(String(format: "%.1f", result.cpuSeconds)) CPU s, best validation \(String(format: "%.4g", result.bestValidationMSE))"
        } catch {
            return "failed: \(error)"
        }
    }

    /// `train-dmd study-run`: one run of the study, from the spec.json in its folder.
    public static func runOne(_ options: StudyRunOptions) throws {
        let config = try options.stage.loadConfig()
        let folder = URL(fileURLWithPath: options.runFolder, isDirectory: true)
        let specURL = folder.appendingPathComponent(AccelerationRun.specFile)
        guard let data = try? Data(contentsOf: specURL) else { throw StageError("\(specURL.path): cannot be read") }
        let spec: AccelerationRunSpec
        do { spec = try AccelerationRun.decodeJSON(AccelerationRunSpec.self, from: data) } catch {
            throw StageError("\(specURL.path): not a study run spec: \(error)")
        }
        let prepared = try SurrogateFitStage.prepare(config: config, dataDirectory: options.stage.dataURL)
        let result = try AccelerationRun.execute(spec, prepared: prepared, config: config, folder: folder, log: note)
        note("train-dmd study-run \(spec.folderName): \(result.status.rawValue) after \(result.epochsRun) epochs, \(result.cpuSeconds) CPU s")
    }
}
