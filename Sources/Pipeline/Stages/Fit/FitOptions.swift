import Foundation
import ArgumentParser

/// The command line of `train-dmd fit`: which surrogates of [surrogate] to fit, on how many cores.
public struct FitOptions: ParsableArguments {
    public static let discussion = """
        Reads the same files as `train`. A validation split is carved from the training samples ([surrogate] validation_fraction, validation_seed); every choice (early stopping, GP hyper-parameters) is made on it, and the test samples are only predicted, for the report's table.

        Writes DATA/models/NAME/ for NAME in --models (default [surrogate] models): the model (model.json + layer files for "tuned"; surrogate.json + rom.json + arrays for "pod_gp" and "pod_nn"), predictions_test.npy, test_indices.npy, fit.json (parameter count, training wall time, validation relative L2, prediction time for 1000 parameter sets), manifest.json; POD-GP also std_test.npy and lower2_test.npy / upper2_test.npy (the ±2σ band). See docs/surrogates.md.
        """

    @OptionGroup public var stage: StageOptions

    @Option(help: "Comma-separated models to fit: tuned, pod_gp, pod_nn, ensemble (default: [surrogate] models).")
    public var models: String?

    @Option(parsing: .unconditional, help: "Cores for OpenBLAS and the fits (overrides training.threads).")
    public var threads: Int?

    public init() {}

    public func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// The models of `--models` in the order given, or those of [surrogate] models. An ensemble must
    /// follow its members, since it averages the fitted ones.
    func chosenModels(_ config: PipelineConfig) throws -> [SurrogateSettings.Model] {
        guard let models else { return config.surrogate.models }
        let names = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let chosen = try names.map { name in
            guard let m = SurrogateSettings.Model(rawValue: name) else {
                throw ValidationError("--models: unknown model \"\(name)\" (expected tuned, pod_gp, pod_nn, ensemble)")
            }
            return m
        }
        if Set(chosen).count != chosen.count { throw ValidationError("--models names a model twice: \(models)") }
        if let e = chosen.firstIndex(of: .ensemble),
           let late = config.surrogate.ensembleMembers.first(where: { m in chosen.firstIndex(of: m).map { $0 > e } ?? false }) {
            throw ValidationError("--models: the ensemble must come after its member \(late.rawValue) (it averages the fitted members)")
        }
        return chosen
    }
}

extension SurrogateFitStage {
    /// `train-dmd fit`: fits the chosen models with every model folder it writes locked for the whole
    /// run, so that two fits never mix their outputs.
    public static func run(_ options: FitOptions) throws {
        let config = try options.stage.loadConfig()
        let chosen = try options.chosenModels(config)
        guard !chosen.isEmpty else { throw ValidationError("no model to fit: --models or [surrogate] models is empty") }
        let models = DataLayout(options.stage.dataURL).models
        let locks = try chosen.map { try options.stage.lockOutput(models.model($0.rawValue).folder) }
        defer { locks.forEach { $0.release() } }
        try Provenance.verify(Provenance.chain(DataLayout(options.stage.dataURL)), root: options.stage.dataURL)
        _ = try run(config: config, dataDirectory: options.stage.dataURL, models: chosen,
                    threads: options.threads ?? config.training.threads, notice: note)
    }
}
