import Foundation
import ArgumentParser
import Pipeline

/// `train-dmd fit`: the surrogates of `[surrogate]` (issue 15) — the tuned network, POD-GP, POD-NN.
struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit the surrogates beyond the paper's network (tuned MLP, POD-GP, POD-NN) into DATA/models/NAME.",
        discussion: """
        Reads the same files as `train`. A validation split is carved from the training samples ([surrogate] validation_fraction, validation_seed); every choice (early stopping, GP hyper-parameters) is made on it, and the test samples are only predicted, for the report's table.

        Writes DATA/models/NAME/ for NAME in --models (default [surrogate] models): the model (model.json + layer files for "tuned"; surrogate.json + rom.json + arrays for "pod_gp" and "pod_nn"), predictions_test.npy, test_indices.npy, fit.json (parameter count, training wall time, validation relative L2, prediction time for 1000 parameter sets), manifest.json; POD-GP also std_test.npy and lower2_test.npy / upper2_test.npy (the ±2σ band). See docs/surrogates.md.
        """)

    @OptionGroup var options: StageOptions

    @Option(help: "Comma-separated models to fit: tuned, pod_gp, pod_nn, ensemble (default: [surrogate] models).")
    var models: String?

    @Option(help: "Cores for OpenBLAS and the fits (overrides training.threads).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let config = try options.loadConfig()
        var chosen = config.surrogate.models
        if let models {
            let names = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            chosen = try names.map { name in
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
        }
        guard !chosen.isEmpty else { throw ValidationError("no model to fit: --models or [surrogate] models is empty") }
        // Every model folder this run writes, locked for the whole run (issue 17: no mixed outputs).
        let locks = try chosen.map { try options.lockOutput(DataLayout(options.dataURL).models.model($0.rawValue).folder) }
        defer { locks.forEach { $0.release() } }
        _ = try SurrogateFitStage.run(config: config, dataDirectory: options.dataURL, models: chosen,
                                      threads: threads ?? config.training.threads, notice: note)
    }
}
