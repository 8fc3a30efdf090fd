import Foundation
import NumericalFoundations
import PDE

/// The runners behind `pollutant-fem run`, `merge` and `fields`: each takes the parsed stage options,
/// locks its output folder and does the whole job (solve or merge, the Figure 2 fields, the manifest,
/// the summary on stderr and the exit status), so that the executable only parses arguments.
extension PollutantStage {
    /// `pollutant-fem run [--shard K/N]`: solves every sample (or one shard) and writes fem/ (or its shard folder).
    public static func run(_ options: StageOptions, shard: ShardSpec?) throws {
        let config = try options.loadConfig()
        let data = options.dataURL
        let folder = shard.map { shardsFolder(data).appendingPathComponent($0.folderName) } ?? femFolder(data)
        let lock = try options.lockOutput(folder)
        defer { lock.release() }
        try Provenance.verify(Provenance.chain(DataLayout(data), throughFEM: false), root: data)
        // The manifest is written last and marks a complete run: an earlier run's must not stay beside
        // this run's outputs if this one fails.
        try removeManifest(in: folder)
        BLASThreads.set(1)   // one BLAS thread per solver thread (fem.threads solvers share the cores)
        Interruption.removeTemporariesOnExit(in: folder)
        let started = monotonicSeconds()
        let summary: StageSummary
        let stop = StopSignal()
        do {
            summary = try Interruption.stoppable(stop) { try run(config: config, dataDirectory: data, shard: shard, stop: stop, makeProgress: { total in
                let progress = ProgressReporter("pollutant-fem" + (shard.map { " shard \($0)" } ?? ""), total: total)
                let failed = FailureCount()
                return { record in
                    if record.status != .converged && record.status != .noWindProfile { failed.increment() }
                    progress.advance(detail: failed.value > 0 ? "\(failed.value) failed" : "")
                }
            }, log: note) }
        } catch let error as PollutantInputError {
            throw StageError("pollutant-fem: \(error.message)")
        }
        let fieldFiles = shard == nil && config.fem.fields ? try writeFigureFields(config: config, data: data) : []
        try recordManifest(summary, config: config, extraOutputs: fieldFiles, at: folder.appendingPathComponent(DataLayout.manifestFile))
        try reportOutcome(summary, config: config, seconds: monotonicSeconds() - started, destination: folder.path,
                          applyThreshold: shard == nil)
    }

    /// `pollutant-fem merge`: assembles fem/shards/* into fem/ (`merge(config:dataDirectory:log:)`).
    public static func merge(_ options: StageOptions) throws {
        let config = try options.loadConfig()
        let fem = femFolder(options.dataURL)
        let lock = try options.lockOutput(fem)
        defer { lock.release() }
        try Provenance.verify(Provenance.chain(DataLayout(options.dataURL), throughFEM: false), root: options.dataURL)
        // The earlier manifest is removed only once the shards are checked (in `merge`): a refused merge
        // leaves a complete fem/ complete.
        BLASThreads.set(1)
        Interruption.removeTemporariesOnExit(in: fem)
        let started = monotonicSeconds()
        let summary: StageSummary
        do { summary = try merge(config: config, dataDirectory: options.dataURL, log: note) } catch let error as PollutantInputError {
            throw StageError("pollutant-fem merge: \(error.message)")
        }
        let fieldFiles = config.fem.fields ? try writeFigureFields(config: config, data: options.dataURL) : []
        try recordManifest(summary, config: config, extraOutputs: fieldFiles, at: fem.appendingPathComponent(DataLayout.manifestFile))
        try reportOutcome(summary, config: config, seconds: monotonicSeconds() - started, destination: fem.path)
    }

    /// `pollutant-fem fields`: only the Figure 2 fields.
    public static func writeFigureFields(_ options: StageOptions) throws {
        let config = try options.loadConfig()
        let lock = try options.lockOutput(femFolder(options.dataURL))
        defer { lock.release() }
        BLASThreads.set(1)
        Interruption.removeTemporariesOnExit(in: femFolder(options.dataURL))
        _ = try writeFigureFields(config: config, data: options.dataURL)
    }

    /// Writes the manifest of a run: inputs with hashes, outputs (the fields too), the summary's details.
    static func recordManifest(_ summary: StageSummary, config: PipelineConfig, extraOutputs: [URL], at manifest: URL) throws {
        var record = StageRecord(stage: "pollutant-fem", config: config, seed: nil)
        // The hashes of the bytes the batch read, not of the files now (an earlier stage may have run since).
        if summary.inputFiles.count == summary.inputs.count {
            for file in summary.inputFiles { record.input(file) }
        } else {
            for url in summary.inputs { try record.input(url) }
        }
        for url in summary.outputs + extraOutputs { record.output(url) }
        for (key, value) in summary.details { record.detail(key, value) }
        try record.finish(manifestAt: manifest)
    }

    /// Prints the outcome and decides the exit status: success iff enough of the samples with a wind
    /// profile converged (fem.min_success_fraction). A shard always succeeds once it is complete: a block
    /// of samples may hold only skipped ones, and the merge applies the threshold to the whole dataset (a
    /// failing shard would otherwise hold back the merge job that depends on it).
    static func reportOutcome(_ summary: StageSummary, config: PipelineConfig, seconds: Double, destination: String,
                              applyThreshold: Bool = true) throws {
        let share = String(format: "%.1f%%", 100 * summary.successFraction)
        note("pollutant-fem: \(summary.records.count) samples in \(formatDuration(seconds)): \(summary.converged) converged, " +
             "\(summary.skipped) skipped (no wind profile), \(summary.failures.count) failed; \(share) of the " +
             "\(summary.attempted) samples with a wind profile converged → \(destination)")
        let failures = summary.failures
        for f in failures.prefix(20) { note("  sample \(f.sample): \(f.status.label) (\(f.status.rawValue)): \(f.reason ?? "")") }
        if failures.count > 20 { note("  … and \(failures.count - 20) more (see the manifest)") }
        if applyThreshold && summary.successFraction < config.fem.minSuccessFraction {
            note("pollutant-fem: only \(share) converged, below fem.min_success_fraction = \(config.fem.minSuccessFraction)")
            throw ReportedFailure()
        }
    }

    /// Removes FOLDER/manifest.json of an earlier run (a failed run must not leave it describing new files).
    static func removeManifest(in folder: URL) throws {
        let url = folder.appendingPathComponent(DataLayout.manifestFile)
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        guard unlink(url.path) == 0 else {
            throw StageError("\(url.path): cannot remove the earlier run's manifest: \(String(cString: strerror(errno)))")
        }
    }

    /// The one-at-a-time parameter variations of the paper's Figure 2, into fem/fields/.
    static func writeFigureFields(config: PipelineConfig, data: URL) throws -> [URL] {
        let started = monotonicSeconds()
        let discretization: PollutantDiscretization
        do { discretization = try PollutantDiscretization(settings: config.fem) } catch let e as PollutantInputError { throw StageError(e.message) }
        let folder = DataLayout(data).fem.fields
        let files: [URL]
        do {
            files = try FigureFields.write(config: config, discretization: discretization, folder: folder) { note("pollutant-fem: \($0)") }
        } catch let e as FieldWriteError {
            throw StageError("pollutant-fem: cannot write the Figure 2 fields: \(e.description)")
        }
        note("pollutant-fem: \(files.count - 1) Figure 2 fields in \(formatDuration(monotonicSeconds() - started)) → \(folder.path)")
        return files
    }
}

/// Failed samples so far, counted from the solver threads for the progress line.
final class FailureCount: @unchecked Sendable {
    private var count = 0
    private let lock = NSLock()
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
