import Foundation
import ArgumentParser

/// The command line of `uq-propagate`: the stage options, the threads, and the timing mode.
public struct UQPropagateOptions: ParsableArguments {
    public static let discussion = """
        Reads the [uq] section, DATA/models/<uq.model>, DATA/fem (points.npy, c3.npy, status.npy), DATA/samples \
        (params.npy, split.npy) and DATA/wind/status.npy, and writes DATA/uq/: mean.npy, std.npy, q05.npy, q95.npy (P), \
        sobol_first.npy, sobol_total.npy (6 x P), sobol_integral.json/.csv, fem_comparison.json, figures/*.svg, uq.md, \
        manifest.json. --bench times the surrogate instead (evaluations per second). See docs/uq.md.
        """

    @OptionGroup public var stage: StageOptions

    @Option(parsing: .unconditional, help: "Threads of the surrogate's matrix products (default: uq.threads).")
    public var threads: Int?

    @Flag(help: "Only time the surrogate: evaluations per second (a random-weight network of the configured shape when no model is trained).")
    public var bench = false

    @Option(parsing: .unconditional, help: "Rows timed by --bench.")
    public var benchRows: Int = 65_536

    public init() {}

    public func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard benchRows >= 1 else { throw ValidationError("--bench-rows must be at least 1, got \(benchRows)") }
    }
}

extension UQStage {
    /// `uq-propagate`: the study into DATA/uq with its manifest, or with `--bench` the surrogate's timing.
    public static func run(_ options: UQPropagateOptions) throws {
        let config = try options.stage.loadConfig()
        if options.bench { return try printBench(options, config: config) }
        // Two studies into one data/uq must not mix their maps: the folder is locked for the whole run.
        let lock = try options.stage.lockOutput(DataLayout(options.stage.dataURL).uq.folder)
        defer { lock.release() }
        try Provenance.verify(Provenance.chain(DataLayout(options.stage.dataURL), models: [config.uq.model]), root: options.stage.dataURL)
        var record = StageRecord(stage: "uq-propagate", config: config, seed: config.uq.seed)
        let out = try run(config: config, data: options.stage.dataURL, record: &record, threadsOverride: options.threads)
        try record.finish(manifestAt: out.folder.appendingPathComponent(DataLayout.manifestFile))
        note("uq-propagate: \(out.folder.appendingPathComponent(DataLayout.UQ.reportFile).path) ("
             + out.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value)) s" }.joined(separator: ", ") + ")")
    }

    static func printBench(_ options: UQPropagateOptions, config: PipelineConfig) throws {
        let p = config.fem.observationCount, threads = options.threads ?? config.uq.threads
        let r = try bench(folder: DataLayout(options.stage.dataURL).models.model(config.uq.model).folder,
                          widths: [6] + config.network.hidden + [p], box: config.sampling.ranges,
                          batch: config.uq.batch, rows: options.benchRows, threads: threads)
        print("uq-propagate bench: \(r.model), batch \(config.uq.batch), \(threads) thread(s): "
              + String(format: "%.0f evaluations/s (%d rows in %.2f s)", r.rowsPerSecond, options.benchRows, r.seconds))
    }
}
