import Foundation
import ArgumentParser
import Pipeline

/// `uq-propagate`: the `uq` stage. Logic in the UQStage library; method in docs/uq.md.
struct UQPropagate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uq-propagate",
        abstract: "Uncertainty propagation and Sobol indices of c3 through the trained surrogate, checked against the FEM samples.",
        discussion: """
        Reads the [uq] section, DATA/models/<uq.model>, DATA/fem (points.npy, c3.npy, status.npy), DATA/samples \
        (params.npy, split.npy) and DATA/wind/status.npy, and writes DATA/uq/: mean.npy, std.npy, q05.npy, q95.npy (P), \
        sobol_first.npy, sobol_total.npy (6 x P), sobol_integral.json/.csv, fem_comparison.json, figures/*.svg, uq.md, \
        manifest.json. --bench times the surrogate instead (evaluations per second). See docs/uq.md.
        """)

    @OptionGroup var options: StageOptions

    @Option(help: "Threads of the surrogate's matrix products (default: uq.threads).")
    var threads: Int?

    @Flag(help: "Only time the surrogate: evaluations per second (a random-weight network of the configured shape when no model is trained).")
    var bench = false

    @Option(help: "Rows timed by --bench.")
    var benchRows: Int = 65_536

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard benchRows >= 1 else { throw ValidationError("--bench-rows must be at least 1, got \(benchRows)") }
    }

    func run() throws {
        let config = try options.loadConfig()
        if bench {
            let p = config.fem.observationCount
            let r = try UQStage.bench(folder: DataLayout(options.dataURL).models.model(config.uq.model).folder,
                                      widths: [6] + config.network.hidden + [p], box: config.sampling.ranges,
                                      batch: config.uq.batch, rows: benchRows, threads: threads ?? config.uq.threads)
            print("uq-propagate bench: \(r.model), batch \(config.uq.batch), \(threads ?? config.uq.threads) thread(s): "
                  + String(format: "%.0f evaluations/s (%d rows in %.2f s)", r.rowsPerSecond, benchRows, r.seconds))
            return
        }
        // Two studies into one data/uq must not mix their maps (issue 17's folder lock).
        let lock = try options.lockOutput(DataLayout(options.dataURL).uq.folder)
        defer { lock.release() }
        var record = StageRecord(stage: "uq-propagate", config: config, seed: config.uq.seed)
        let out = try UQStage.run(config: config, data: options.dataURL, record: &record, threadsOverride: threads)
        try record.finish(manifestAt: out.folder.appendingPathComponent(DataLayout.manifestFile))
        note("uq-propagate: \(out.folder.appendingPathComponent(DataLayout.UQ.reportFile).path) ("
             + out.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value)) s" }.joined(separator: ", ") + ")")
    }
}

UQPropagate.main()
