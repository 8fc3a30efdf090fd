import Foundation
import ArgumentParser
import NumericalFoundations
import PDE
import Uncertainty

/// `uq-propagate fem-reference`: the stage options only (sizes and seed are `[uq]` keys).
public struct FEMReferenceOptions: ParsableArguments {
    public static let discussion = """
        Draws uq.fem_reference_samples feasible parameter rows from the [uq] distributions (stream 5 of uq.seed; rows \
        where the wind similarity solution does not exist are rejected), solves them with the FEM of [fem] on fem.threads \
        cores (checkpointed: a rerun resumes) and writes DATA/uq_fem_reference/: params.npy, c3.npy, status.npy, points.npy, \
        mean.npy, std.npy, mean_interval.npy, std_interval.npy (2 x P, percentile bootstrap with uq.fem_reference_bootstrap \
        resamples), manifest.json. See docs/uq.md.
        """
    @OptionGroup public var stage: StageOptions
    public init() {}
}

/// `uq-propagate compare-fem`: the stage options only.
public struct CompareFEMOptions: ParsableArguments {
    public static let discussion = """
        Compares DATA/uq/mean.npy and std.npy (the surrogate study) with DATA/uq_fem_reference (the FEM Monte Carlo): \
        relative L2 differences with their bootstrap intervals, the FEM's own sampling error, the share of points inside the \
        FEM's intervals. Writes DATA/uq/fem_reference_comparison.json/.csv and its section of DATA/uq/uq.md. See docs/uq.md.
        """
    @OptionGroup public var stage: StageOptions
    public init() {}
}

/// `uq-propagate ishigami`: the Sobol indices of the Ishigami function by this project's estimator.
public struct IshigamiCheckOptions: ParsableArguments {
    @Option(help: "N of Saltelli's design (N · 5 evaluations).")
    public var baseSamples: Int = 16_384
    @Option(help: "Design of A and B: sobol (scrambled Sobol' sequence) or random.")
    public var design: String = SaltelliDesign.scrambledSobol.rawValue
    @Option(help: "Seed of the design.")
    public var seed: UInt64 = 2010
    public init() {}

    public func validate() throws {
        guard baseSamples >= 2 else { throw ValidationError("--base-samples must be at least 2, got \(baseSamples)") }
        guard SaltelliDesign(rawValue: design) != nil else {
            throw ValidationError("--design \(design): expected one of \(SaltelliDesign.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }
}

extension FEMReference {
    /// `uq-propagate fem-reference`: locks DATA/uq_fem_reference, runs, and writes the manifest last.
    public static func run(_ options: FEMReferenceOptions) throws {
        let config = try options.stage.loadConfig()
        let layout = DataLayout(options.stage.dataURL)
        let folder = layout.uqFEMReference
        let lock = try options.stage.lockOutput(folder.folder)
        defer { lock.release() }
        if let done = finishedRun(config: config, folder: folder) { return note("uq-propagate fem-reference: \(done)") }
        // The manifest marks a finished run: an earlier one must not stay beside a run that fails.
        try? FileManager.default.removeItem(at: folder.manifest)
        BLASThreads.set(1)   // one BLAS thread per solver thread
        Interruption.removeTemporariesOnExit(in: folder.folder)
        var record = StageRecord(stage: "uq-propagate fem-reference", config: config, seed: config.uq.seed)
        let stop = StopSignal()
        let out: Outcome
        do {
            out = try Interruption.stoppable(stop) { try run(config: config, layout: layout, stop: stop, record: &record) }
        } catch let error as PollutantInputError {
            throw StageError("uq-propagate fem-reference: \(error.message)")
        }
        for f in out.files { record.output(f) }
        try record.finish(manifestAt: folder.manifest)
        note("uq-propagate fem-reference: \(out.converged) converged, \(out.failed) failed, FEM \(formatDuration(out.solveSeconds)) → \(folder.folder.path)")
    }
}

extension FEMReference {
    /// A finished run of the same settings in `folder` (its manifest's [sampling] ranges, [wind], result-changing
    /// [fem] keys, [uq] distributions and the reference's seed, size and resamples equal, and its c3.npy the
    /// file it records): a line saying so, or nil when the run is to be made.
    static func finishedRun(config: PipelineConfig, folder: DataLayout.UQFEMReference) -> String? {
        guard let manifest = try? Manifest.read(from: folder.manifest),
              FEMReferenceComparison.configurationDifferences(manifest.config, config.resolved).isEmpty,
              ["seed", "fem_reference_samples", "fem_reference_bootstrap"].allSatisfy({ manifest.config["uq"]?[$0] == config.resolved["uq"]?[$0] }),
              let recorded = manifest.details["c3_sha256"]?.string, (try? SHA256Digest.hex(ofFile: folder.c3)) == recorded else { return nil }
        return "\(folder.folder.path) already holds this reference (same settings, c3.npy as recorded): nothing to do; delete its manifest.json to redo it"
    }
}

extension FEMReferenceComparison {
    /// The manifest of `compare-fem`, beside the study's own in DATA/uq.
    static let manifestName = DataLayout.UQ.referenceComparisonName + "_manifest.json"

    /// `uq-propagate compare-fem`: checks both sides' provenance, compares, writes.
    public static func run(_ options: CompareFEMOptions) throws {
        let config = try options.stage.loadConfig()
        let layout = DataLayout(options.stage.dataURL)
        let lock = try options.stage.lockOutput(layout.uq.folder)
        defer { lock.release() }
        try Provenance.verify(Provenance.chain(layout, models: [config.uq.model]) + [layout.uq.folder], root: options.stage.dataURL)
        var record = StageRecord(stage: "uq-propagate compare-fem", config: config, seed: nil)
        let result: JSONValue
        do { result = try run(layout: layout, model: config.uq.model, threads: config.uq.threads, record: &record) } catch let e as UQError { throw StageError("uq-propagate compare-fem: \(e.description)") }
        for f in try write(result, to: layout.uq) { record.output(f) }
        record.detail("comparison", result)
        try record.finish(manifestAt: layout.uq.folder.appendingPathComponent(manifestName))
        note(markdown(result))
    }
}

extension UQStage {
    /// `uq-propagate ishigami`: prints the indices as JSON next to the closed form (scripts/test-sobol-salib.py).
    public static func ishigamiCheck(_ options: IshigamiCheckOptions) throws {
        let f = Ishigami()
        let design = SaltelliDesign(rawValue: options.design)!
        let r = try Sobol.analyse(inputs: f.inputModel(), outputs: 1,
                                  settings: SobolSettings(baseSamples: options.baseSamples, design: design, seed: options.seed, bootstrap: 0),
                                  model: f.model)
        let numbers = { (v: [Double]) in JSONValue.array(v.map { .number($0) }) }
        let out: JSONValue = ["function": "Ishigami a = 7, b = 0.1", "design": .string(design.rawValue),
                              "base_samples": .number(Double(options.baseSamples)), "seed": .number(Double(options.seed)),
                              "first": numbers(r.first), "total": numbers(r.total),
                              "closed_form_first": numbers(f.first), "closed_form_total": numbers(f.total)]
        print(out.jsonText())
    }
}
